"""Upload limits and failures over a real socket: oversize bodies (declared, chunked, lying),
an unreachable S3, and the reference client and `kinpass upload` against the running app."""
from __future__ import annotations

import http.client
import io
import json
import os
import uuid
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from api.app import create_app
from api.cli import main
from clients.reference import Client, UploadFailed
from storage.db import session as db
from storage.models.cases import Document
from tests.support.documents import (
    declare,
    document_row,
    empty_local_store,
    jpeg,
    live_server,
    max_upload,
    open_case,
    put,
    stored_keys,
)
from tests.support.http import bearer

LIMIT = 256 * 1024


@pytest.fixture(autouse=True)
def _no_objects(app):
    empty_local_store(app)


@pytest.fixture
def relative(register_relative):
    return register_relative()[2]["access_token"]


def _pending(document_id: str) -> None:
    row = document_row(document_id)
    assert row.status == "pending_upload" and row.object_key is None
    assert stored_keys() == []


def _raw_put(base: str, url: str, token: str, chunks, headers: dict[str, str],
             chunked: bool = False) -> tuple[int, dict]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("PUT", urlsplit(url).path, body=chunks, encode_chunked=chunked,
                     headers={"Authorization": f"Bearer {token}", **headers})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    except (BrokenPipeError, ConnectionResetError):
        pytest.fail("the server closed the connection instead of answering")
    finally:
        conn.close()


def test_content_length_above_the_limit_is_413_before_reading(app, client, relative):
    case_id = open_case(client, relative)
    data = jpeg(LIMIT)
    doc = declare(client, relative, case_id, data).get_json()
    with max_upload(app, LIMIT - 1):
        r = put(client, relative, doc, data)
    assert r.status_code == 413 and r.get_json()["code"] == "payload_too_large"
    _pending(doc["id"])


def test_chunked_body_beyond_the_limit_is_413_while_streaming(app, client, relative):
    case_id = open_case(client, relative)
    doc = declare(client, relative, case_id, jpeg(LIMIT)).get_json()
    sent = []

    def endless():
        for _ in range(64):  # 4 MiB if the server kept reading
            sent.append(1)
            yield b"\xff\xd8\xff\xe0" + os.urandom(65532)

    with max_upload(app, LIMIT), live_server(app) as base:
        status, problem = _raw_put(base, doc["upload"]["url"], relative, endless(),
                                   {"Content-Type": "image/jpeg"}, chunked=True)
    assert status == 413 and problem["code"] == "payload_too_large"
    _pending(doc["id"])


def test_chunked_body_with_the_test_client_is_counted(app, client, relative):
    """No Content-Length at all: the limit holds on the bytes as they come."""
    case_id = open_case(client, relative)
    doc = declare(client, relative, case_id, jpeg(LIMIT)).get_json()
    with max_upload(app, LIMIT):
        r = client.put(doc["upload"]["url"], input_stream=io.BytesIO(jpeg(LIMIT + 10)),
                       content_type="image/jpeg",
                       headers={**bearer(relative), "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})
    assert r.status_code == 413 and r.get_json()["code"] == "payload_too_large"
    _pending(doc["id"])


def test_a_body_cut_short_is_a_size_mismatch(app, client, relative):
    case_id = open_case(client, relative)
    data = jpeg(200_000)
    doc = declare(client, relative, case_id, data).get_json()
    with live_server(app) as base:
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.putrequest("PUT", urlsplit(doc["upload"]["url"]).path)
        for name, value in {**bearer(relative), "Content-Type": "image/jpeg",
                            "Content-Length": str(len(data))}.items():
            conn.putheader(name, value)
        conn.endheaders()
        conn.send(data[:100_000])
        conn.sock.shutdown(1)  # the phone lost its connection half way
        resp = conn.getresponse()
        problem = json.loads(resp.read())
        conn.close()
    assert resp.status == 422 and problem["code"] == "size_mismatch"
    _pending(doc["id"])


def test_unreachable_s3_is_503_and_nothing_is_stored(app, base_config, relative,
                                                     closed_port_url, s3_server):
    down = create_app({**base_config, "storage_url": "s3://kinpass-down",
                       "s3_endpoint_url": closed_port_url})
    web = down.test_client()
    case_id = open_case(web, relative)
    data = jpeg(10_000)
    doc = declare(web, relative, case_id, data).get_json()
    r = put(web, relative, doc, data)
    assert r.status_code == 503 and r.get_json()["code"] == "storage_unavailable"
    row = document_row(doc["id"])
    assert row.status == "pending_upload" and row.object_key is None and row.wrapped_dek is None
    assert db().query(Document).count() == 1


@pytest.mark.parametrize("client_side", [False, True])
def test_reference_client_against_the_running_app(app, client, relative, tmp_path,
                                                  client_side):
    case_id = open_case(client, relative)
    data = jpeg(300_000)
    path = tmp_path / "passport.jpg"
    path.write_bytes(data)
    with live_server(app) as base:
        document = Client(base, relative).upload(path, case_id=case_id, kind="passport",
                                                 client_side=client_side)
        with pytest.raises(UploadFailed) as refused:
            Client(base, relative).upload(path, case_id=str(uuid.uuid4()), kind="passport")
    assert refused.value.status == 404
    assert document["status"] == "stored"
    assert document["encryption"] == ("client" if client_side else "server")
    assert document["size"] == len(data)


def test_kinpass_upload_command(app, client, relative, tmp_path, monkeypatch):
    case_id = open_case(client, relative)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(b"%PDF-1.4\n" + os.urandom(90_000))
    with live_server(app) as base:
        monkeypatch.setenv("KINPASS_TOKEN", relative)
        result = CliRunner().invoke(main, ["upload", str(path), "--case", case_id,
                                           "--kind", "birth_certificate", "--url", base,
                                           "--client-side"])
        bad = CliRunner().invoke(main, ["upload", str(path), "--case", case_id,
                                        "--kind", "spaceship", "--url", base])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "stored"
    assert bad.exit_code == 1
