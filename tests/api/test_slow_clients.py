"""A slow or idle client holds only its own connection: against a real `kinpass serve`,
others' logins and health checks answer while it trickles a body or sits idle."""
from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.documents import CASE
from tests.support.serving import serve_kinpass

PASSWORD = "Kyiv-Reunion-2026"
# Every answer awaited beside a slow client must come within this bound (the database's
# lock timeout is 30 s, so a request stuck behind the slow one would miss it).
ANSWER_BOUND = 5


def _call(base: str, path: str, body: dict | None = None, token: str | None = None,
          timeout: float = 20) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _relative_token(base: str, outbox: Path) -> str:
    email = "slow-client@example.org"
    status, registered = _call(base, "/v1/auth/register", {
        "email": email, "password": PASSWORD, "full_name": "Мария"})
    assert status == 202
    code = json.loads(outbox.read_text().splitlines()[-1])["code"]
    assert _call(base, "/v1/auth/verify", {"login": email, "code": code,
                                           "registration": registered["registration"]})[0] == 200
    status, tokens = _call(base, "/v1/auth/login", {"login": email, "password": PASSWORD})
    assert status == 200
    return tokens["access_token"]


def _start_trickle(base: str, token: str) -> tuple[socket.socket, bytes]:
    """A case creation whose headers arrive at once and whose body does not."""
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps(CASE).encode()
    sock = socket.create_connection((host, int(port)), timeout=60)
    sock.sendall((f"POST /v1/cases HTTP/1.1\r\nHost: {host}\r\n"
                  f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode())
    sock.sendall(body[:1])
    return sock, body[1:]


@pytest.fixture
def served(tmp_path):
    with serve_kinpass(tmp_path, KINPASS_WORKERS="3") as running:
        yield running


def test_a_trickled_body_holds_no_lock_over_other_writes(served):
    base, _, _, _, tmp_path = served
    token = _relative_token(base, tmp_path / "outbox.jsonl")
    sock, rest = _start_trickle(base, token)
    try:
        time.sleep(0.5)  # the slow request has reached the server and its worker
        wrong = {"login": "someone@example.org", "password": "wrong-password-1"}
        assert _call(base, "/v1/auth/login", wrong, timeout=ANSWER_BOUND)[0] == 401
        assert _call(base, "/v1/auth/login", {"login": "slow-client@example.org",
                                              "password": PASSWORD},
                     timeout=ANSWER_BOUND)[0] == 200
        sock.sendall(rest)
        answer = sock.recv(4096).split(b"\r\n", 1)[0]
    finally:
        sock.close()
    assert b" 201 " in answer, answer


def test_an_oversized_chunked_body_is_413(served):
    base = served[0]
    host, port = base.removeprefix("http://").split(":")
    chunk = b"[" + b"1," * (150 * 1024)
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall((f"POST /v1/auth/login HTTP/1.1\r\nHost: {host}\r\n"
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                      "Connection: close\r\n\r\n").encode())
        try:
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the whole body is sent
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or b"payload_too_large" not in answer:
                data = sock.recv(4096)  # the head and the body may come in separate reads
                if not data:
                    break
                answer += data
        except OSError:
            pass  # a reset after the answer, for the body the server did not read
    assert b" 413 " in answer.split(b"\r\n", 1)[0], answer[:200]
    assert b"payload_too_large" in answer


def test_idle_connections_do_not_stop_the_server(served):
    base = served[0]
    host, port = base.removeprefix("http://").split(":")
    idle = []
    try:
        for n in range(8):
            sock = socket.create_connection((host, int(port)), timeout=20)
            if n % 2:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never end
            idle.append(sock)
        time.sleep(0.5)
        with urllib.request.urlopen(base + "/healthz", timeout=ANSWER_BOUND) as answer:
            assert answer.status == 200
        wrong = {"login": "idle@example.org", "password": "wrong-password-1"}
        assert _call(base, "/v1/auth/login", wrong, timeout=ANSWER_BOUND)[0] == 401
    finally:
        for sock in idle:
            sock.close()
