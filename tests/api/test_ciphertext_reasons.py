"""`invalid_ciphertext` says why, so a client knows whether to refetch the keys or re-seal;
the same reasons on a PUT and at the last byte of a tus upload."""
from __future__ import annotations

import uuid

import pytest

from storage.sealed import seal_stream
from tests.support.documents import declare, document_row, empty_local_store, open_case, pdf, put
from tests.support.tus import send_all


@pytest.fixture(autouse=True)
def _no_objects(app):
    empty_local_store(app)


@pytest.fixture
def relative(register_relative):
    return register_relative()[2]["access_token"]


def _sealed(client, data: bytes, doc_id: str, **options) -> bytearray:
    key = client.get("/v1/encryption-keys").get_json()["keys"][0]
    kid = options.pop("kid", key["kid"])
    return bytearray(b"".join(seal_stream([data], key["public_key"], key["suite"], kid,
                                          uuid.UUID(doc_id), **options)))


def _flip(body: bytearray, at: int) -> bytearray:
    body[at] ^= 1
    return body


def _with_segment_size(body: bytearray, size: int) -> bytearray:
    body[5:9] = size.to_bytes(4, "big")
    return body


CASES = {
    "unknown_key": lambda c, d, i: _sealed(c, d, i, kid="no-such-key"),
    "unsupported_suite": lambda c, d, i: _sealed(c, d, i)[:17] + b"\x00\x99" * 3
    + _sealed(c, d, i)[23:],
    "bad_header": lambda c, d, i: b"XXXX" + _sealed(c, d, i)[4:],
    "bad_seal": lambda c, d, i: _sealed(c, d, str(uuid.uuid4()))[:1300]
    + _sealed(c, d, i)[1300:],
    "bad_segment": lambda c, d, i: _flip(_sealed(c, d, i), -100),
    "truncated": lambda c, d, i: _sealed(c, d, i)[:-(64 * 1024 + 16)],
    "trailing_data": lambda c, d, i: _sealed(c, d, i) + b"\x00" * 40,
}


def _bad_body(client, reason: str, data: bytes, doc_id: str) -> bytes:
    return bytes(CASES[reason](client, data, doc_id))


@pytest.mark.parametrize("reason", sorted(CASES))
def test_put_names_the_reason(client, relative, reason):
    data = pdf(200_000)
    case_id = open_case(client, relative)
    doc = declare(client, relative, case_id, data, content_type="application/pdf",
                  encryption="client").get_json()
    r = put(client, relative, doc, _bad_body(client, reason, data, doc["id"]))
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["code"] == "invalid_ciphertext"
    assert r.get_json()["reason"] == reason
    assert document_row(doc["id"]).status == "pending_upload"


@pytest.mark.parametrize("reason", ["unknown_key", "bad_segment", "trailing_data"])
def test_the_last_tus_patch_names_the_same_reason(client, relative, reason):
    data = pdf(200_000)
    case_id = open_case(client, relative)
    doc = declare(client, relative, case_id, data, content_type="application/pdf",
                  encryption="client").get_json()
    r = send_all(client, relative, doc, _bad_body(client, reason, data, doc["id"]))
    assert r.status_code == 422 and r.get_json()["reason"] == reason
    assert document_row(doc["id"]).status == "pending_upload"


def test_a_segment_size_below_the_minimum_is_a_bad_header_not_413(client, relative):
    data = pdf(100_000)
    case_id = open_case(client, relative)
    doc = declare(client, relative, case_id, data, content_type="application/pdf",
                  encryption="client").get_json()
    body = _with_segment_size(_sealed(client, data, doc["id"]), 8)
    body += b"\x00" * (3 * len(data))  # what 8-byte segments would take: past the old bound
    r = put(client, relative, doc, bytes(body))
    assert r.status_code == 422 and r.get_json()["reason"] == "bad_header"


def test_a_longer_plaintext_than_declared_is_a_size_mismatch(client, relative):
    data = pdf(100_000)
    case_id = open_case(client, relative)
    doc = declare(client, relative, case_id, data, content_type="application/pdf",
                  encryption="client").get_json()
    r = put(client, relative, doc, bytes(_sealed(client, data + b"x" * 70_000, doc["id"])))
    assert r.status_code == 422 and r.get_json()["code"] == "size_mismatch"
