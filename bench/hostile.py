"""Hostile clients for the load benchmark: idle connections, half-sent heads and trickled
bodies held open against a server while a probe asks for a cheap page."""
from __future__ import annotations

import socket
import time
import urllib.request
from urllib.parse import urlsplit

PROBES = 10
PROBE_TIMEOUT = 1.0


def _open(base: str, count: int, first_bytes: bytes) -> list[socket.socket]:
    parts = urlsplit(base)
    opened = []
    for _ in range(count):
        try:
            sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
            if first_bytes:
                sock.sendall(first_bytes)
        except OSError:
            break
        opened.append(sock)
    return opened


def probe(url: str) -> tuple[int, float]:
    """(answers within PROBE_TIMEOUT out of PROBES, slowest answer in ms)."""
    answered, slowest = 0, 0.0
    for _ in range(PROBES):
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as response:
                response.read()
                answered += response.status == 200
        except OSError:
            pass
        slowest = max(slowest, (time.perf_counter() - started) * 1000)
    return answered, slowest


def held_while_probing(base: str, probe_path: str, count: int,
                       first_bytes: bytes = b"") -> dict:
    """Open `count` connections that send `first_bytes` (or nothing) and stop; then probe."""
    opened = _open(base, count, first_bytes)
    time.sleep(0.5)
    try:
        answered, slowest = probe(base + probe_path)
        alive = sum(1 for sock in opened if _still_open(sock))
    finally:
        for sock in opened:
            sock.close()
    return {"held": alive, "answered": answered, "slowest_ms": slowest}


def _still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: "
LOGIN = b'{"login": "nobody@example.org", "password": "Kyiv-Reunion-2026"}'
TRICKLED_BODY = (b"POST /v1/auth/login HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json"
                 b"\r\nContent-Length: " + str(len(LOGIN)).encode() + b"\r\n\r\n" + LOGIN[:9])
