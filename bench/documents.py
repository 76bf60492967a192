"""Document uploads: throughput through the API (validation + encryption + object store)
against a bare Flask endpoint streaming the same bytes to disk, the server's memory while
100 MiB arrive, and the container's encrypt/decrypt speed against raw AES-256-GCM.

Both servers are werkzeug's threaded server on loopback, each in its own process, in the
same run.

    .venv/bin/python -m bench.documents
"""
from __future__ import annotations

import hashlib
import http.client
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

MiB = 1024 * 1024
CHUNK = 64 * 1024
UPLOAD_SIZE = 10 * MiB
BIG_UPLOAD = 100 * MiB
ROUNDS = 5


# --- servers (child processes) ------------------------------------------------------------

def _serve(app, ready) -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    ready.send(server.server_port)
    server.serve_forever()


def _kinpass_server(data_dir: str, ready) -> None:
    import logging

    from api.app import create_app
    from storage.migrate import stamp
    from storage.models import Base

    logging.disable(logging.INFO)
    app = create_app({"data_dir": data_dir, "notifier": f"file:{data_dir}/outbox.jsonl",
                      "max_upload_bytes": BIG_UPLOAD + MiB})
    engine = app.extensions["kinpass"].engine
    Base.metadata.create_all(engine)
    stamp(engine)
    _serve(app, ready)


def _bare_server(target_dir: str, ready) -> None:
    import logging

    from flask import Flask, request

    logging.disable(logging.INFO)
    app = Flask("bare")

    @app.put("/upload")
    def upload():
        path = Path(target_dir) / uuid.uuid4().hex
        with path.open("wb") as f:
            while chunk := request.stream.read(CHUNK):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        path.unlink()
        return {"ok": True}

    _serve(app, ready)


def _start(target, arg: str) -> tuple[mp.Process, int]:
    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(target=target, args=(arg, child), daemon=True)
    proc.start()
    return proc, parent.recv()


# --- client -------------------------------------------------------------------------------

def _request(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else {}
    finally:
        conn.close()


def _json(port: int, method: str, path: str, payload, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, body = _request(port, method, path, json.dumps(payload).encode(), headers)
    assert status < 300, (status, body)
    return body


def _relative(port: int, data_dir: str) -> tuple[str, str]:
    email, password = "bench@example.org", "Kyiv-Reunion-2026-bench"
    _json(port, "POST", "/v1/auth/register",
          {"email": email, "password": password, "full_name": "Bench Mother"})
    outbox = Path(data_dir) / "outbox.jsonl"
    code = json.loads(outbox.read_text().splitlines()[-1])["code"]
    _json(port, "POST", "/v1/auth/verify", {"login": email, "code": code})
    token = _json(port, "POST", "/v1/auth/login",
                  {"login": email, "password": password})["access_token"]
    case = _json(port, "POST", "/v1/cases", {
        "relationship": "mother",
        "applicant": {"surname": "Иванова", "given_name": "Мария", "birth_date": "1971-04-02"},
        "soldier": {"surname": "Иванов", "given_name": "Алексей", "birth_date": "2001-09-14"},
    }, token)
    return token, case["id"]


def _chunks(data: bytes):
    view = memoryview(data)
    for i in range(0, len(data), CHUNK):
        yield bytes(view[i:i + CHUNK])


def _file(size: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)


def _kinpass_put(port: int, token: str, case_id: str, data: bytes) -> float:
    doc = _json(port, "POST", f"/v1/cases/{case_id}/documents", {
        "kind": "photo", "content_type": "image/jpeg", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest()}, token)
    started = time.perf_counter()
    status, body = _request(port, "PUT", f"/v1/documents/{doc['id']}/content", _chunks(data),
                            {"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg",
                             "Content-Length": str(len(data))})
    elapsed = time.perf_counter() - started
    assert status == 200, body
    return elapsed


def _bare_put(port: int, data: bytes) -> float:
    started = time.perf_counter()
    status, _ = _request(port, "PUT", "/upload", _chunks(data),
                         {"Content-Type": "image/jpeg", "Content-Length": str(len(data))})
    elapsed = time.perf_counter() - started
    assert status == 200
    return elapsed


def _rss(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def _peak_while(pid: int, work) -> int:
    """Highest RSS of ``pid`` sampled while ``work`` runs."""
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss(pid, "VmRSS"))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        work()
    finally:
        done.set()
        sampler.join()
    return peak[0]


# --- crypto -------------------------------------------------------------------------------

def crypto_throughput(size: int = 64 * MiB) -> dict[str, float]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from storage.envelope import decrypt_stream, encrypt_stream, new_dek

    data = os.urandom(size)
    doc_id, dek = uuid.uuid4(), new_dek()

    def mbps(fn) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - started)
        return size / MiB / best

    container = b"".join(encrypt_stream(_chunks(data), dek, doc_id))
    aead, nonce = AESGCM(dek), os.urandom(12)
    # Raw AES-256-GCM over the same 64 KiB pieces, each result dropped as the stream's are.
    raw = [aead.encrypt(nonce, c, None) for c in _chunks(data)]
    return {
        "container_encrypt_mib_s": mbps(
            lambda: sum(len(c) for c in encrypt_stream(_chunks(data), dek, doc_id))),
        "raw_aesgcm_encrypt_mib_s": mbps(
            lambda: sum(len(aead.encrypt(nonce, c, None)) for c in _chunks(data))),
        "container_decrypt_mib_s": mbps(
            lambda: sum(len(c) for c in decrypt_stream(_chunks(container), dek, doc_id))),
        "raw_aesgcm_decrypt_mib_s": mbps(
            lambda: sum(len(aead.decrypt(nonce, c, None)) for c in raw)),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as ours_dir, tempfile.TemporaryDirectory() as bare_dir:
        ours, ours_port = _start(_kinpass_server, ours_dir)
        bare, bare_port = _start(_bare_server, bare_dir)
        try:
            token, case_id = _relative(ours_port, ours_dir)
            data = _file(UPLOAD_SIZE)
            _kinpass_put(ours_port, token, case_id, data)  # warm up both
            _bare_put(bare_port, data)
            ours_t, bare_t = [], []
            for _ in range(ROUNDS):
                ours_t.append(_kinpass_put(ours_port, token, case_id, data))
                bare_t.append(_bare_put(bare_port, data))
            ours_mib = UPLOAD_SIZE / MiB / statistics.median(ours_t)
            bare_mib = UPLOAD_SIZE / MiB / statistics.median(bare_t)

            big = _file(BIG_UPLOAD)
            before = _rss(ours.pid, "VmRSS")
            peak = _peak_while(ours.pid, lambda: _kinpass_put(ours_port, token, case_id, big))
        finally:
            ours.terminate()
            bare.terminate()
    results = {
        "upload_10mib_kinpass_mib_s": round(ours_mib, 1),
        "upload_10mib_bare_flask_mib_s": round(bare_mib, 1),
        "upload_ratio": round(ours_mib / bare_mib, 2),
        "server_rss_before_mib": round(before / MiB, 1),
        "server_rss_peak_during_100mib_upload_mib": round(peak / MiB, 1),
        "rss_growth_100mib_upload_mib": round((peak - before) / MiB, 1),
        **{k: round(v, 1) for k, v in crypto_throughput().items()},
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
