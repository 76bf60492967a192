"""Faults injected into real servers the tests start and stop: S3 (moto's server), the
database, Redis, and a gunicorn worker killed mid-upload. Each failure is a 503 problem with
its stable code within a bounded time, and leaves nothing half-stored behind.

The bounds below are what a hung dependency would break (minutes), not performance figures.
"""
from __future__ import annotations

import http.client
import io
import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import create_engine, select, text

from api.app import create_app
from storage.models.cases import Document
from tests.support import documents as docs
from tests.support.http import bearer
from tests.support.s3 import FAKE_AWS_ENV
from tests.support.serving import serve_kinpass, wait_healthy

BOUND_SECONDS = 45


def _problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code
    for leak in ("Traceback", "botocore", "psycopg", "redis", "127.0.0.1"):
        assert leak not in response.get_data(as_text=True)


def _timed(call):
    started = time.monotonic()
    result = call()
    assert time.monotonic() - started < BOUND_SECONDS
    return result


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def own_moto(aws_env):
    """A moto S3 server of this test's own, so the test can stop it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    state = {"running": True}

    def stop() -> None:
        if state["running"]:
            server.stop()
            state["running"] = False

    yield f"http://{host}:{port}", stop
    stop()


class _StoppingStream(io.BytesIO):
    """A request body that stops the S3 server once its first part has been read."""

    CHUNK = 256 * 1024

    def __init__(self, data: bytes, stop) -> None:
        super().__init__(data)
        self._stop = stop

    def _maybe_stop(self) -> None:
        if self.tell() and self._stop:
            self._stop()
            self._stop = None

    def read(self, size: int | None = -1) -> bytes:
        self._maybe_stop()
        return super().read(self.CHUNK if size is None or size < 0 else min(size, self.CHUNK))

    read1 = read

    def readinto(self, buffer) -> int:
        self._maybe_stop()
        return super().readinto(memoryview(buffer)[:self.CHUNK])


def _s3_app(base_config, endpoint: str, bucket: str):
    return create_app({**base_config, "storage_url": f"s3://{bucket}",
                       "s3_endpoint_url": endpoint})


def test_s3_stopped_mid_upload_is_503_and_stores_nothing(base_config, register_relative,
                                                         own_moto):
    endpoint, stop = own_moto
    bucket = f"kinpass-fault-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket)
    _, _, tokens = register_relative()
    app = _s3_app(base_config, endpoint, bucket)
    client = app.test_client()
    token = tokens["access_token"]
    case_id = docs.open_case(client, token)
    data = docs.jpeg(3 * 1024 * 1024)
    document = docs.declare(client, token, case_id, data).get_json()
    r = _timed(lambda: client.put(
        document["upload"]["url"], input_stream=_StoppingStream(data, stop),
        content_type="image/jpeg", headers={**bearer(token), "Content-Length": str(len(data))}))
    _problem(r, 503, "storage_unavailable")
    assert docs.document_row(document["id"]).status == "pending_upload"
    witness = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    witness.start()
    try:
        host, port = witness.get_host_and_port()
        s3 = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1")
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    finally:
        witness.stop()


def test_s3_answering_errors_is_503(base_config, register_relative, own_moto):
    endpoint, _ = own_moto
    bucket = f"kinpass-fault-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    _, _, tokens = register_relative()
    app = _s3_app(base_config, endpoint, bucket)
    client = app.test_client()
    token = tokens["access_token"]
    case_id = docs.open_case(client, token)
    data = docs.jpeg(100_000)
    document = docs.declare(client, token, case_id, data).get_json()
    s3.delete_bucket(Bucket=bucket)
    r = _timed(lambda: docs.put(client, token, document, data))
    _problem(r, 503, "storage_unavailable")
    assert docs.document_row(document["id"]).status == "pending_upload"
    ready = _timed(lambda: client.get("/readyz"))
    _problem(ready, 503, "storage_unavailable")
    assert ready.get_json()["checks"] == {"database": "ok", "keys": "ok", "storage": "unavailable"}


def test_database_unreachable_is_503(base_config):
    app = create_app({**base_config, "database_url": "postgresql://postgres@127.0.0.1:1/x"})
    client = app.test_client()
    r = _timed(lambda: client.get("/readyz"))
    _problem(r, 503, "database_unavailable")
    assert r.get_json()["checks"]["database"] == "unavailable"
    r = _timed(lambda: client.post("/v1/auth/login", json={"login": "a@example.org",
                                                           "password": "Kyiv-Reunion-2026"}))
    _problem(r, 503, "database_unavailable")
    assert client.get("/healthz").status_code == 200


def test_redis_unreachable_is_503_on_limited_routes(app, base_config, closed_port_url):
    redis_url = closed_port_url.replace("http://", "redis://") + "/0"
    app = create_app({**base_config, "redis_url": redis_url})
    client = app.test_client()
    for path, body in (("/v1/auth/login", {"login": "a@example.org", "password": "p" * 10}),
                       ("/v1/auth/register", {"email": "r@example.org", "full_name": "R",
                                              "password": "Kyiv-Reunion-2026"}),
                       ("/v1/auth/resend", {"login": "r@example.org"})):
        _problem(_timed(lambda p=path, b=body: client.post(p, json=b)), 503,
                 "service_unavailable")


# A worker killed mid-upload --------------------------------------------------------------

def _call(base: str, method: str, path: str, body: dict | None = None,
          token: str | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.fixture
def served(tmp_path):
    with serve_kinpass(tmp_path) as running:
        yield running


def _relative_token(base: str, outbox: Path) -> str:
    email = "killed-worker@example.org"
    assert _call(base, "POST", "/v1/auth/register", {
        "email": email, "password": "Kyiv-Reunion-2026", "full_name": "Мария"})[0] == 202
    code = json.loads(outbox.read_text().splitlines()[-1])["code"]
    assert _call(base, "POST", "/v1/auth/verify", {"login": email, "code": code})[0] == 200
    status, tokens = _call(base, "POST", "/v1/auth/login",
                           {"login": email, "password": "Kyiv-Reunion-2026"})
    assert status == 200
    return tokens["access_token"]


def test_worker_killed_mid_upload_recovers_and_gc_leaves_no_orphans(served):
    base, server, env, kinpass, tmp_path = served
    token = _relative_token(base, tmp_path / "outbox.jsonl")
    status, case = _call(base, "POST", "/v1/cases", docs.CASE, token)
    assert status == 201
    data = docs.jpeg(4 * 1024 * 1024)
    status, document = _call(base, "POST", f"/v1/cases/{case['id']}/documents", {
        "kind": "passport", "content_type": "image/jpeg", "size": len(data),
        "sha256": docs.sha(data)}, token)
    assert status == 201
    host, port = base.removeprefix("http://").split(":")
    oversized = http.client.HTTPConnection(host, int(port), timeout=20)
    oversized.request("GET", "/v1/me", headers={"X-Padding": "a" * 64 * 1024})
    assert oversized.getresponse().status in (400, 431)
    oversized.close()
    upload = http.client.HTTPConnection(host, int(port), timeout=20)
    upload.putrequest("PUT", f"/v1/documents/{document['id']}/content")
    upload.putheader("Authorization", f"Bearer {token}")
    upload.putheader("Content-Type", "image/jpeg")
    upload.putheader("Content-Length", str(len(data)))
    upload.endheaders()
    upload.send(data[: len(data) // 2])
    time.sleep(0.5)
    workers = _children(server.pid)
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises((OSError, http.client.HTTPException)):
        upload.send(data[len(data) // 2:])
        upload.getresponse().read()
    upload.close()
    wait_healthy(base, server)
    status, after = _call(base, "GET", f"/v1/documents/{document['id']}", token=token)
    assert status == 200 and after["status"] == "pending_upload"
    gc = subprocess.run([*kinpass, "gc"], env=env, capture_output=True, timeout=60, check=False)
    assert gc.returncode == 0, gc.stderr[-2000:]
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'kinpass.db'}")
    with engine.connect() as conn:
        rows = conn.execute(select(Document.object_key, Document.status)).all()
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()
    objects_root = tmp_path / "data"
    object_files = {p.name for p in objects_root.rglob("*") if p.is_file()
                    and "docs" in p.parts and ".tmp" not in p.parts}
    referenced = {Path(key).name for key, status in rows if key and status == "stored"}
    assert referenced <= object_files
    assert object_files <= {Path(key).name for key, _ in rows if key}
