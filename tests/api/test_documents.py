"""Documents end to end: declare, upload (server- and client-side encryption), officer reads,
shredding — against the local store and against S3 (moto's server, real boto3)."""
from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

from api.app import create_app
from api.cli import main
from services.audit.events import SYSTEM
from services.core import runtime, unit_of_work
from services.documents import keyring
from services.documents.metadata import document_metadata
from services.maintenance.key_rotation import rotate_kek
from storage.db import session as db
from storage.hpke_suites import SUITES, seal_dek
from storage.keys import wrapped_kid
from storage.models.audit import AuditEvent
from storage.sealed import MEDIA_TYPE, seal_stream
from tests.support.documents import (
    MARKER,
    PNG_MAGIC,
    app_on_store,
    declare,
    document_row,
    empty_local_store,
    jpeg,
    move_case,
    open_case,
    pdf,
    put,
    sha,
    stored_keys,
    upload,
)
from tests.support.http import bearer

REASON = {"X-Access-Reason": "Checking the applicant's passport for case review"}


@pytest.fixture(autouse=True)
def _no_objects(app):
    empty_local_store(app)


@pytest.fixture(params=["local", "s3"])
def store(request, base_config):
    """The app to test through: the session app (local files) or one on an S3 bucket."""
    return app_on_store(request, base_config, "kinpass-docs")


@pytest.fixture
def web(store):
    return store.test_client()


@pytest.fixture
def relative(register_relative):
    return register_relative()[2]["access_token"]


@pytest.fixture
def officer(make_staff):
    return make_staff("officer")["access_token"]


def _events(action: str) -> list[AuditEvent]:
    db.remove()
    rows = db().query(AuditEvent).filter(AuditEvent.action == action).all()
    db.remove()
    return rows


def _object_bytes(key: str) -> bytes:
    return b"".join(runtime.get().objects.open_stream(key))


def _replace_object(key: str, data: bytes) -> None:
    runtime.get().objects.put_stream(key, [data])


# --- declaring ----------------------------------------------------------------------------

def test_declare_answers_the_upload_instructions(client, relative):
    case_id = open_case(client, relative)
    data = jpeg()
    r = declare(client, relative, case_id, data)
    assert r.status_code == 201, r.get_json()
    doc = r.get_json()
    assert doc["status"] == "pending_upload" and doc["case_id"] == case_id
    assert doc["size"] == len(data) and doc["sha256"] == sha(data)
    assert doc["uploaded_at"] is None and doc["encryption"] == "server"
    assert doc["upload"]["method"] == "PUT"
    assert doc["upload"]["url"].endswith(f"/v1/documents/{doc['id']}/content")
    assert doc["upload"]["url"].startswith("http")
    assert doc["upload"]["headers"] == {"Content-Type": "image/jpeg"}
    assert doc["upload"]["expires_at"].endswith("Z")
    client_doc = declare(client, relative, case_id, data, encryption="client").get_json()
    assert client_doc["upload"]["headers"] == {"Content-Type": MEDIA_TYPE}


def test_document_number_is_sealed_and_kept_as_an_hmac(client, relative):
    case_id = open_case(client, relative)
    r = declare(client, relative, case_id, jpeg(), kind="internal_passport",
                fields={"document_number": "4512 345678", "surname": "Иванова",
                        "given_name": "Мария", "birth_date": "1971-04-02"})
    assert r.status_code == 201, r.get_json()
    row = document_row(r.get_json()["id"])
    assert document_metadata(row).fields == {"document_number": "4512 345678",
                                             "surname": "Иванова", "given_name": "Мария",
                                             "birth_date": "1971-04-02"}
    assert row.number_hmac and len(row.number_hmac) == 64
    mrz = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
           "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
    other = declare(client, relative, case_id, jpeg(), mrz=mrz).get_json()
    same = declare(client, relative, case_id, jpeg(), kind="id_card",
                   fields={"document_number": "l898902c3"}).get_json()
    assert document_row(other["id"]).number_hmac == document_row(same["id"]).number_hmac
    for event in _events("document.create"):
        assert "4512" not in (event.reason or "") and "L898902" not in (event.reason or "")


@pytest.mark.parametrize("change, field", [
    ({"kind": "photo", "fields": {"surname": "Иванова"}}, "fields"),
    ({"kind": "other", "fields": {}}, "fields"),
    ({"kind": "birth_certificate", "fields": {"document_number": "1"}}, "fields"),
    ({"kind": "birth_certificate", "mrz": "P<UTO" + "<" * 39 + "\n" + "1" * 44}, "mrz"),
    ({"kind": "marriage_certificate", "fields": {"marriage_date": "yesterday"}}, "fields"),
    ({"content_type": "image/gif"}, "content_type"),
    ({"encryption": "none"}, "encryption"),
    ({"sha256": "abc"}, "sha256"),
    ({"size": "100"}, "size"),
    ({"size": 0}, "size"),
    ({"unexpected": 1}, "unexpected"),
])
def test_declare_refuses_bad_bodies(client, relative, change, field):
    case_id = open_case(client, relative)
    body = {"kind": "passport", "content_type": "image/jpeg", "size": 10, "sha256": "a" * 64,
            **change}
    r = client.post(f"/v1/cases/{case_id}/documents", json=body, headers=bearer(relative))
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["code"] == "validation_error" and field in r.get_json()["errors"]


def test_birth_certificate_fields_are_kept(client, relative):
    case_id = open_case(client, relative)
    fields = {"child_surname": "Иванов", "child_given_name": "Алексей",
              "child_birth_date": "2001-09-14", "mother_name": "Иванова Мария Петровна"}
    r = declare(client, relative, case_id, pdf(), kind="birth_certificate",
                content_type="application/pdf", fields=fields)
    assert r.status_code == 201, r.get_json()
    assert document_metadata(document_row(r.get_json()["id"])).fields == fields


def test_declared_size_above_the_maximum_is_413(client, relative):
    case_id = open_case(client, relative)
    body = {"kind": "passport", "content_type": "image/jpeg", "size": 20 * 1024 * 1024 + 1,
            "sha256": "a" * 64}
    r = client.post(f"/v1/cases/{case_id}/documents", json=body, headers=bearer(relative))
    assert r.status_code == 413 and r.get_json()["code"] == "payload_too_large"


def test_documents_are_added_only_to_editable_cases(client, relative):
    case_id = open_case(client, relative)
    move_case(case_id, "submitted")
    r = client.post(f"/v1/cases/{case_id}/documents", json={"kind": "nonsense"},
                    headers=bearer(relative))
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"


def test_idempotent_declare(client, relative):
    case_id = open_case(client, relative)
    body = {"kind": "passport", "content_type": "image/jpeg", "size": 10, "sha256": "a" * 64}
    headers = {**bearer(relative), "Idempotency-Key": "doc-1"}
    first = client.post(f"/v1/cases/{case_id}/documents", json=body, headers=headers)
    again = client.post(f"/v1/cases/{case_id}/documents", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    case = client.get(f"/v1/cases/{case_id}", headers=bearer(relative)).get_json()
    assert len(case["documents"]) == 1


# --- uploading and reading, on both stores ------------------------------------------------

def test_server_encrypted_round_trip(web, relative, officer):
    case_id = open_case(web, relative)
    data = jpeg(300_000)
    doc = upload(web, relative, case_id, data)
    assert doc["status"] == "stored" and doc["uploaded_at"]
    row = document_row(doc["id"])
    assert row.wrapped_dek and row.object_key in stored_keys()
    stored = _object_bytes(row.object_key)
    assert MARKER not in stored and stored[:4] == b"KPS1"
    assert web.get(f"/v1/documents/{doc['id']}", headers=bearer(relative)).get_json() == doc
    move_case(case_id, "submitted", "in_review")
    r = web.get(f"/v1/admin/documents/{doc['id']}/content", headers={**bearer(officer), **REASON})
    assert r.status_code == 200
    assert r.data == data
    assert r.mimetype == "image/jpeg"
    assert r.headers["Content-Disposition"].startswith("attachment")
    views = _events("document.view")
    assert [(v.subject_id, v.outcome) for v in views] == [(doc["id"], "success")]
    assert views[0].reason == REASON["X-Access-Reason"]


@pytest.mark.parametrize("suite", list(SUITES))
def test_client_sealed_round_trip(web, relative, make_staff, suite):
    case_id = open_case(web, relative)
    data = pdf(150_000)
    doc = declare(web, relative, case_id, data, content_type="application/pdf",
                  encryption="client").get_json()
    keys = web.get("/v1/encryption-keys").get_json()["keys"]
    key = next(k for k in keys if k["suite"] == suite)
    sealed = b"".join(seal_stream([data], key["public_key"], suite, key["kid"],
                                  uuid.UUID(doc["id"])))
    r = put(web, relative, doc, sealed)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "stored"
    row = document_row(doc["id"])
    stored = _object_bytes(row.object_key)
    assert stored[16] == 0x01 and MARKER not in stored
    move_case(case_id, "submitted", "in_review")
    supervisor = make_staff("supervisor")["access_token"]
    r = web.get(f"/v1/admin/documents/{doc['id']}/content",
                headers={**bearer(supervisor), **REASON})
    assert r.status_code == 200 and r.data == data and r.mimetype == "application/pdf"


def test_shred(web, relative, officer):
    case_id = open_case(web, relative)
    doc = upload(web, relative, case_id, jpeg())
    key = document_row(doc["id"]).object_key
    r = web.delete(f"/v1/documents/{doc['id']}", headers=bearer(relative))
    assert r.status_code == 204
    row = document_row(doc["id"])
    assert row.status == "shredded" and row.wrapped_dek is None and row.object_key is None
    assert key not in stored_keys()
    assert web.get(f"/v1/documents/{doc['id']}",
                   headers=bearer(relative)).get_json()["status"] == "shredded"
    case = web.get(f"/v1/cases/{case_id}", headers=bearer(relative)).get_json()
    assert [d["status"] for d in case["documents"]] == ["shredded"]
    assert web.delete(f"/v1/documents/{doc['id']}", headers=bearer(relative)).status_code == 204
    move_case(case_id, "submitted")
    r = web.get(f"/v1/admin/documents/{doc['id']}/content", headers={**bearer(officer), **REASON})
    assert r.status_code == 410 and r.get_json()["code"] == "gone"
    assert [e.subject_id for e in _events("document.delete")] == [doc["id"], doc["id"]]


def test_tampered_object_serves_no_plaintext(web, relative, officer):
    case_id = open_case(web, relative)
    data = jpeg(200_000)
    doc = upload(web, relative, case_id, data)
    key = document_row(doc["id"]).object_key
    stored = bytearray(_object_bytes(key))
    stored[-100] ^= 0x01  # in the last segment: every earlier segment still authenticates
    _replace_object(key, bytes(stored))
    move_case(case_id, "submitted")
    r = web.get(f"/v1/admin/documents/{doc['id']}/content", headers={**bearer(officer), **REASON})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert r.get_json()["code"] == "invalid_ciphertext"
    assert data[:1000] not in r.data and MARKER not in r.data
    assert [e.outcome for e in _events("document.view")] == ["failure"]


def test_tampered_wrapped_key_serves_nothing(client, relative, officer):
    case_id = open_case(client, relative)
    doc = upload(client, relative, case_id, jpeg())
    row = document_row(doc["id"])
    blob = bytearray(row.wrapped_dek)
    blob[-1] ^= 1
    db().get(type(row), row.id).wrapped_dek = bytes(blob)
    db().commit()
    db.remove()
    move_case(case_id, "submitted")
    r = client.get(f"/v1/admin/documents/{doc['id']}/content",
                   headers={**bearer(officer), **REASON})
    assert r.status_code == 422 and MARKER not in r.data


def test_no_plaintext_anywhere_in_storage(web, relative, data_dir):
    case_id = open_case(web, relative)
    upload(web, relative, case_id, jpeg(100_000))
    upload(web, relative, case_id, pdf(70_000), kind="birth_certificate",
           content_type="application/pdf")
    doc = declare(web, relative, case_id, jpeg(5000), encryption="client").get_json()
    key = web.get("/v1/encryption-keys").get_json()["keys"][0]
    data = jpeg(5000)
    doc = declare(web, relative, case_id, data, encryption="client").get_json()
    sealed = b"".join(seal_stream([data], key["public_key"], key["suite"], key["kid"],
                                  uuid.UUID(doc["id"])))
    assert put(web, relative, doc, sealed).status_code == 200
    keys = stored_keys()
    assert len(keys) == 3
    for key in keys:
        assert MARKER not in _object_bytes(key)
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert MARKER not in path.read_bytes(), path


# --- refusals: nothing stored, the document stays pending ---------------------------------

def _assert_nothing_stored(document_id: str) -> None:
    row = document_row(document_id)
    assert row.status == "pending_upload" and row.object_key is None and row.wrapped_dek is None
    assert stored_keys() == []


@pytest.mark.parametrize("tamper, status, code", [
    (lambda d: d[:-1] + bytes([d[-1] ^ 1]), 422, "checksum_mismatch"),
    (lambda d: d + b"x", 422, "size_mismatch"),
    (lambda d: d[:-10], 422, "size_mismatch"),
    (lambda d: PNG_MAGIC + d[8:], 415, "unsupported_media_type"),
    (lambda d: b"GIF89a" + d[6:], 415, "unsupported_media_type"),
])
def test_bad_content_is_refused(web, relative, tamper, status, code):
    case_id = open_case(web, relative)
    data = jpeg(150_000)
    doc = declare(web, relative, case_id, data).get_json()
    r = put(web, relative, doc, tamper(data))
    assert r.status_code == status and r.get_json()["code"] == code
    _assert_nothing_stored(doc["id"])
    failures = _events("document.upload")
    assert [(e.outcome, e.reason) for e in failures] == [("failure", code)]


def test_content_type_must_be_the_declared_one(client, relative):
    case_id = open_case(client, relative)
    data = jpeg()
    doc = declare(client, relative, case_id, data).get_json()
    for content_type in ("image/png", MEDIA_TYPE, "application/octet-stream"):
        r = put(client, relative, doc, data, content_type=content_type)
        assert r.status_code == 415, content_type
    _assert_nothing_stored(doc["id"])


def test_second_put_is_409(web, relative):
    case_id = open_case(web, relative)
    data = jpeg()
    doc = declare(web, relative, case_id, data).get_json()
    assert put(web, relative, doc, data).status_code == 200
    r = put(web, relative, doc, data)
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"
    assert len(stored_keys()) == 1


def test_bad_sealed_containers_are_422(web, relative):
    case_id = open_case(web, relative)
    data = jpeg(100_000)
    doc = declare(web, relative, case_id, data, encryption="client").get_json()
    key = web.get("/v1/encryption-keys").get_json()["keys"][1]
    sealed = b"".join(seal_stream([data], key["public_key"], key["suite"], key["kid"],
                                  uuid.UUID(doc["id"])))
    other_doc = b"".join(seal_stream([data], key["public_key"], key["suite"], key["kid"],
                                     uuid.uuid4()))
    flipped = bytearray(sealed)
    flipped[-3] ^= 1
    for body in (sealed[:40], sealed[:-20], bytes(flipped), other_doc, data):
        r = put(web, relative, doc, body)
        assert r.status_code == 422 and r.get_json()["code"] == "invalid_ciphertext"
    _assert_nothing_stored(doc["id"])


def test_sealed_plaintext_is_checked_too(client, relative):
    case_id = open_case(client, relative)
    data = jpeg(70_000)
    key = client.get("/v1/encryption-keys").get_json()["keys"][0]
    # The last byte flipped, never replaced: a random last byte may already be the replacement.
    for declared, content_type, status, code in (
            (data[:-1] + bytes([data[-1] ^ 1]), "image/jpeg", 422, "checksum_mismatch"),
            (data, "image/png", 415, "unsupported_media_type")):
        doc = declare(client, relative, case_id, declared, content_type=content_type,
                      encryption="client").get_json()
        sealed = b"".join(seal_stream([data], key["public_key"], key["suite"], key["kid"],
                                      uuid.UUID(doc["id"])))
        r = put(client, relative, doc, sealed)
        assert r.status_code == status and r.get_json()["code"] == code, r.get_json()
        _assert_nothing_stored(doc["id"])


# --- who may see what ---------------------------------------------------------------------

def test_other_peoples_documents_are_404(client, register_relative, relative, officer):
    case_id = open_case(client, relative)
    data = jpeg()
    doc = declare(client, relative, case_id, data).get_json()
    stranger = register_relative()[2]["access_token"]
    for r in (client.get(f"/v1/documents/{doc['id']}", headers=bearer(stranger)),
              put(client, stranger, doc, data),
              client.delete(f"/v1/documents/{doc['id']}", headers=bearer(stranger)),
              declare(client, stranger, case_id, data),
              client.get(f"/v1/documents/{uuid.uuid4()}", headers=bearer(relative)),
              client.get("/v1/documents/not-a-uuid", headers=bearer(relative))):
        assert r.status_code == 404 and r.get_json()["code"] == "not_found"
    _assert_nothing_stored(doc["id"])
    r = client.get(f"/v1/documents/{doc['id']}", headers=bearer(officer))
    assert r.status_code == 403


def test_staff_read_rules(client, relative, officer, make_staff):
    case_id = open_case(client, relative)
    doc = upload(client, relative, case_id, jpeg())
    url = f"/v1/admin/documents/{doc['id']}/content"
    r = client.get(url, headers={**bearer(officer), **REASON})
    assert r.status_code == 404  # a draft is its relative's alone
    move_case(case_id, "submitted")
    for headers in ({}, {"X-Access-Reason": "too short"}, {"X-Access-Reason": " " * 20}):
        r = client.get(url, headers={**bearer(officer), **headers})
        assert r.status_code == 400 and r.get_json()["code"] == "access_reason_required"
    assert client.get(url, headers={**bearer(relative), **REASON}).status_code == 403
    auditor = make_staff("auditor")["access_token"]
    assert client.get(url, headers={**bearer(auditor), **REASON}).status_code == 403
    assert client.get(f"/v1/admin/documents/{uuid.uuid4()}/content",
                      headers={**bearer(officer), **REASON}).status_code == 404
    assert client.get(url, headers={**bearer(officer), **REASON}).status_code == 200


def test_delete_only_while_editable(client, relative):
    case_id = open_case(client, relative)
    doc = upload(client, relative, case_id, jpeg())
    move_case(case_id, "submitted")
    r = client.delete(f"/v1/documents/{doc['id']}", headers=bearer(relative))
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"
    assert document_row(doc["id"]).status == "stored"


def test_put_on_a_submitted_case_is_409(client, relative):
    case_id = open_case(client, relative)
    data = jpeg()
    doc = declare(client, relative, case_id, data).get_json()
    move_case(case_id, "submitted")
    assert put(client, relative, doc, data).status_code == 409
    _assert_nothing_stored(doc["id"])


def test_withdraw_shreds_every_document(client, relative):
    case_id = open_case(client, relative)
    upload(client, relative, case_id, jpeg())
    declare(client, relative, case_id, jpeg())
    r = client.post(f"/v1/cases/{case_id}/withdraw", headers=bearer(relative))
    assert r.status_code == 200, r.get_json()
    assert {d["status"] for d in r.get_json()["documents"]} == {"shredded"}
    assert stored_keys() == []


# --- keys ---------------------------------------------------------------------------------

def test_encryption_keys_are_shared_through_the_database(client, app, base_config):
    keys = client.get("/v1/encryption-keys").get_json()["keys"]
    assert sorted(k["suite"] for k in keys) == sorted(SUITES)
    assert set(keys[0]) == {"kid", "suite", "public_key"}
    other_instance = create_app({**base_config, "data_dir": base_config["data_dir"]})
    assert other_instance.test_client().get("/v1/encryption-keys").get_json()["keys"] == keys


def test_kek_rotation_rewraps_without_touching_content(client, relative, officer):
    case_id = open_case(client, relative)
    server_key = client.get("/v1/encryption-keys").get_json()["keys"][0]
    data = jpeg()
    doc = upload(client, relative, case_id, data)
    before = document_row(doc["id"])
    content = _object_bytes(before.object_key)
    result = rotate_kek(SYSTEM)
    unit_of_work.commit()
    after = document_row(doc["id"])
    assert result["data_keys"] == 1 and result["hpke_keys"] == 2
    assert wrapped_kid(after.wrapped_dek) == result["kid"] != wrapped_kid(before.wrapped_dek)
    assert _object_bytes(after.object_key) == content
    move_case(case_id, "submitted")
    r = client.get(f"/v1/admin/documents/{doc['id']}/content",
                   headers={**bearer(officer), **REASON})
    assert r.data == data
    doc_id, dek = uuid.uuid4(), bytes(range(32))
    enc, sealed = seal_dek(server_key["public_key"], server_key["suite"], dek, doc_id)
    assert keyring.hpke_keyring().open_sealed_dek(server_key["suite"], server_key["kid"], enc, sealed,
                                   doc_id) == dek
    again = rotate_kek(SYSTEM)
    unit_of_work.commit()
    assert again["data_keys"] == 1 and again["kid"] != result["kid"]


def test_keys_rotate_kek_command(client, relative, base_config, monkeypatch):
    case_id = open_case(client, relative)
    doc = upload(client, relative, case_id, jpeg())
    before = wrapped_kid(document_row(doc["id"]).wrapped_dek)
    for name, value in (("KINPASS_DATA_DIR", base_config["data_dir"]),
                        ("KINPASS_DATABASE_URL", base_config["database_url"])):
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["keys", "rotate", "--kek"])
    assert result.exit_code == 0, result.output
    assert '"data_keys": 1' in result.output
    assert wrapped_kid(document_row(doc["id"]).wrapped_dek) != before
