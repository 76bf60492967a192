"""Hostile and ordinary clients against a real `kinpass serve`: idle and slow clients cost a
socket, not a thread; connections are kept alive; a full server answers 503 at once."""
from __future__ import annotations

import contextlib
import http.client
import json
import signal
import socket
import subprocess
import time

import pytest

from tests.support.http import free_port
from tests.support.serving import serve_kinpass, wait_healthy

IDLE_CONNECTIONS = 220
SLOW_CLIENTS = 40  # more than every thread of both workers (2 x 8)


@pytest.fixture
def served(tmp_path):
    with serve_kinpass(tmp_path) as running:
        yield running


def _address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def _get(base: str, path: str, timeout: float = 10) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(*_address(base), timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def _read_response(sock: socket.socket) -> bytes:
    """One whole response (head and Content-Length body) from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


@contextlib.contextmanager
def _sockets(base: str, count: int, first_bytes: bytes = b""):
    opened = []
    try:
        for _ in range(count):
            sock = socket.create_connection(_address(base), timeout=10)
            if first_bytes:
                sock.sendall(first_bytes)
            opened.append(sock)
        yield opened
    finally:
        for sock in opened:
            sock.close()


def test_idle_connections_do_not_stall_the_server(served):
    base = served[0]
    with _sockets(base, IDLE_CONNECTIONS) as idle:
        for _ in range(5):
            assert _get(base, "/healthz") == (200, {"status": "ok"})
        assert all(sock.fileno() >= 0 for sock in idle)


def test_half_sent_heads_do_not_stall_the_server(served):
    base = served[0]
    with _sockets(base, SLOW_CLIENTS, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ") as slow:
        assert _get(base, "/healthz")[0] == 200
        slow[0].sendall(b"1\r\n\r\n")
        assert slow[0].recv(65536).startswith(b"HTTP/1.1 200")


def test_trickled_bodies_do_not_block_other_requests(served):
    base = served[0]
    body = json.dumps({"login": "nobody@example.org", "password": "Kyiv-Reunion-2026"}).encode()
    head = (f"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with _sockets(base, SLOW_CLIENTS, head + body[:5]) as trickling:
        for sock in trickling:
            sock.sendall(body[5:6])
        assert _get(base, "/healthz")[0] == 200
        status, problem = _get(base, "/v1/me")
        assert (status, problem["code"]) == (401, "unauthorized")
        trickling[0].sendall(body[6:])
        answer = _read_response(trickling[0])
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        assert b'"invalid_credentials"' in answer


def test_two_requests_share_one_connection(served):
    base = served[0]
    conn = http.client.HTTPConnection(*_address(base), timeout=10)
    try:
        conn.request("GET", "/healthz")
        first = conn.getresponse()
        assert first.status == 200 and first.read()
        assert first.getheader("Connection", "").lower() != "close"
        sock = conn.sock
        conn.request("GET", "/v1/me")
        second = conn.getresponse()
        assert second.status == 401 and json.loads(second.read())["code"] == "unauthorized"
        assert conn.sock is sock and sock is not None
    finally:
        conn.close()


def test_a_head_past_its_timeout_is_closed(tmp_path):
    with serve_kinpass(tmp_path, KINPASS_HEADER_TIMEOUT_SECONDS="1") as (base, *_):
        with _sockets(base, 1, b"GET /healthz HTTP/1.1\r\nHost: x\r\n") as (slow,):
            assert slow.recv(65536) == b""  # closed by the server, not answered
        assert _get(base, "/healthz")[0] == 200


@contextlib.contextmanager
def _taken_by_the_thread(base: str, head: bytes):
    """A connection whose request the only thread has taken (it answered 100 Continue). Until
    the thread has let go of the last request (the start-up probe's), a new one is refused
    with 503, so try again for a few seconds."""
    deadline = time.monotonic() + 10
    while True:
        with _sockets(base, 1, head) as (held,):
            first = held.recv(65536)
            if first.startswith(b"HTTP/1.1 100 Continue"):
                yield held
                return
        assert b" 503 " in first.split(b"\r\n", 1)[0] and time.monotonic() < deadline, first
        time.sleep(0.1)


def test_a_full_server_answers_503_problem_at_once(tmp_path):
    """One worker, one thread, no queue: while the thread waits for a body announced with
    `Expect: 100-continue` (left to the thread, which answers 100 Continue when it takes the
    request), the next request is refused with the problem, not left waiting."""
    body = b'{"login": "x"}'
    with serve_kinpass(tmp_path, KINPASS_WORKERS="1", KINPASS_THREADS="1",
                       KINPASS_MAX_QUEUED_REQUESTS="0") as (base, *_):
        head = (b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                b"\r\nExpect: 100-continue\r\nContent-Length: " + str(len(body)).encode()
                + b"\r\n\r\n")
        with _taken_by_the_thread(base, head) as held:
            status, problem = _get(base, "/healthz")
            assert (status, problem.get("code")) == (503, "service_unavailable")
            assert problem["status"] == 503 and problem["title"]
            held.sendall(body)
            assert _read_response(held).startswith(b"HTTP/1.1 4")
        # The thread leaves the count once it has finished with the held request.
        deadline = time.monotonic() + 10
        while _get(base, "/healthz")[0] != 200:
            assert time.monotonic() < deadline, "the server stayed full after the request ended"
            time.sleep(0.1)


def test_the_server_binds_where_told_and_logs_only_json(tmp_path):
    port = free_port()
    with serve_kinpass(tmp_path) as (_, _, env, kinpass, _):
        log = (tmp_path / "bound.log").open("wb")
        other = subprocess.Popen([*kinpass, "serve", "--bind", f"127.0.0.1:{port}"], env=env,
                                 stdout=log, stderr=log, start_new_session=True)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", other)
        finally:
            other.send_signal(signal.SIGTERM)
            other.wait(timeout=30)
            log.close()
    for path in (tmp_path / "server.log", tmp_path / "bound.log"):
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        assert any("Booting worker" in line for line in lines), lines[:5]
        for line in lines:
            assert isinstance(json.loads(line), dict), line
