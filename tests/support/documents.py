"""Shared helpers for the document tests: cases, files, uploads and staff visibility."""
from __future__ import annotations

import hashlib
import os
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import boto3
from werkzeug.serving import make_server

from api.app import create_app
from services.cases import states as case_states
from services.core import runtime, unit_of_work
from storage.db import session as db
from storage.models.cases import Case, Document
from tests.support.cases import open_case as open_claim
from tests.support.http import bearer

MARKER = b"KINPASS-PLAINTEXT-MARKER-"
CASE = {
    "relationship": "mother",
    "applicant": {"surname": "Иванова", "given_name": "Мария", "birth_date": "1971-04-02"},
    "soldier": {"surname": "Иванов", "given_name": "Алексей", "birth_date": "2001-09-14"},
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def jpeg(size: int = 200_000) -> bytes:
    """JPEG magic, a marker a plaintext scan can find, random filler."""
    head = b"\xff\xd8\xff\xe0" + MARKER
    return head + os.urandom(max(0, size - len(head)))


def pdf(size: int = 5_000) -> bytes:
    head = b"%PDF-1.7\n" + MARKER
    return head + os.urandom(max(0, size - len(head)))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_case(client, token: str) -> str:
    """A draft case with the fewest fields a case takes; returns its id."""
    return open_claim(client, token, CASE)["id"]


def declare(client, token: str, case_id: str, data: bytes, *, kind: str = "passport",
            content_type: str = "image/jpeg", encryption: str = "server", **extra):
    body = {"kind": kind, "content_type": content_type, "size": len(data),
            "sha256": sha(data), "encryption": encryption, **extra}
    return client.post(f"/v1/cases/{case_id}/documents", json=body, headers=bearer(token))


def put(client, token: str, document: dict, body: bytes, content_type: str | None = None,
        **kwargs):
    content_type = content_type or document["upload"]["headers"]["Content-Type"]
    return client.put(document["upload"]["url"], data=body, content_type=content_type,
                      headers=bearer(token), **kwargs)


def upload(client, token: str, case_id: str, data: bytes, **declared) -> dict:
    r = declare(client, token, case_id, data, **declared)
    assert r.status_code == 201, r.get_json()
    document = r.get_json()
    r = put(client, token, document, data)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def move_case(case_id: str, *statuses: str) -> None:
    """Walk a case through statuses directly (the submit checks are not what is tested)."""
    case = db().get(Case, uuid.UUID(case_id))
    for status in statuses:
        case_states.transition(case, status)
    unit_of_work.commit()
    db.remove()


def document_row(document_id: str) -> Document:
    db.remove()
    row = db().get(Document, uuid.UUID(document_id))
    db.remove()
    return row


def stored_keys() -> list[str]:
    return list(runtime.get().objects.iter_keys("docs/"))


@contextmanager
def settings_changed(app, **changes) -> Iterator[None]:
    """The app's runtime settings with ``changes``, for the duration of the block."""
    rt = app.extensions["kinpass"].runtime
    saved = rt.settings
    rt.settings = replace(saved, **changes)
    try:
        yield
    finally:
        rt.settings = saved


def max_upload(app, limit: int):
    return settings_changed(app, max_upload_bytes=limit)


@contextmanager
def live_server(app, public_url: str | None = None) -> Iterator[str]:
    """The real app behind werkzeug's threaded server on loopback; the URLs it hands out
    are under ``public_url`` (a proxy in front), else its own."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    base = f"http://127.0.0.1:{server.server_port}"
    thread.start()
    try:
        with settings_changed(app, public_url=public_url or base):
            yield base
    finally:
        server.shutdown()
        thread.join()


def empty_local_store(app) -> None:
    """The data dir lives for the whole session: start each test with no objects."""
    objects = app.extensions["kinpass"].runtime.objects
    for key in list(objects.iter_keys()):
        objects.delete(key)
    staged = objects.root / ".uploads"
    if staged.is_dir():
        for path in staged.iterdir():
            path.unlink()


def app_on_store(request, base_config: dict, bucket_prefix: str):
    """For a fixture parametrized with "local" and "s3": the session app (local files), or an
    app of its own on a fresh bucket of the S3 server."""
    app = request.getfixturevalue("app")
    if request.param == "local":
        return app
    endpoint = request.getfixturevalue("s3_server")
    bucket = f"{bucket_prefix}-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket)
    return create_app({**base_config, "storage_url": f"s3://{bucket}",
                       "s3_endpoint_url": endpoint})
