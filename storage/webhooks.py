"""Signed webhooks (SMS and push gateways, the audit witness): a JSON POST with
`Idempotency-Key` and `KinPass-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>`. A 2xx is delivered; a 408, 429 or 5xx, a timeout or a refused connection
is worth another try; any other answer is a refusal, with the gateway's reason when it gave
one.

Connections are kept alive and reused, one request at a time each, per gateway origin. A
reused connection the gateway had already closed is retried once on a fresh one: the request
may have reached the gateway, which the idempotency key lets it tell."""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import threading
import time
from collections import defaultdict
from functools import cache
from urllib.parse import urlsplit

from storage.delivery_errors import DeferredError, RefusedError

TIMEOUT_SECONDS = 10
RETRIED_STATUSES = frozenset({408, 429})
IDLE_SECONDS = 30.0  # an idle connection older than this is closed instead of reused
KEPT_PER_ORIGIN = 8
ANSWER_BYTES = 65536  # read past this and the connection is not reused
STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
         ConnectionAbortedError)

QUICKACK = getattr(socket, "TCP_QUICKACK", None)

Origin = tuple[str, str, int | None]


def signature(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def _reason(status: int, body: bytes) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    given = answer.get("reason") or answer.get("error") if isinstance(answer, dict) else None
    if isinstance(given, str) and given.isprintable():
        return f"the gateway answered {status}: {given[:200]}"
    return f"the gateway answered {status}"


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class _Connections:
    """Idle keep-alive connections by origin; a connection taken out is its taker's alone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: defaultdict[Origin, list[tuple[float, http.client.HTTPConnection]]] = \
            defaultdict(list)

    def take(self, origin: Origin) -> http.client.HTTPConnection | None:
        now = time.monotonic()
        with self._lock:
            idle = self._idle[origin]
            while idle:
                since, connection = idle.pop()
                if now - since < IDLE_SECONDS:
                    return connection
                connection.close()
        return None

    def give_back(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle[origin]
            if len(idle) < KEPT_PER_ORIGIN:
                idle.append((time.monotonic(), connection))
                return
        connection.close()

    def close_all(self) -> None:
        with self._lock:
            idle = [connection for kept in self._idle.values() for _, connection in kept]
            self._idle.clear()
        for connection in idle:
            connection.close()


_connections = _Connections()


def close_connections() -> None:
    """Close every kept connection (tests, and a sender that stops)."""
    _connections.close_all()


def _open(origin: Origin) -> http.client.HTTPConnection:
    scheme, host, port = origin
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=TIMEOUT_SECONDS,
                                           context=_tls_context())
    return http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)


def _exchange(connection: http.client.HTTPConnection, path: str, body: bytes,
              headers: dict[str, str]) -> tuple[int, bytes, bool]:
    """Status, the start of the answer, and whether the connection can carry another."""
    connection.request("POST", path, body=body, headers=headers)
    if QUICKACK is not None and connection.sock is not None:
        connection.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
    response = connection.getresponse()
    answer = response.read(ANSWER_BYTES)
    reusable = not response.will_close and response.read(1) == b""
    return response.status, answer, reusable


def _post(origin: Origin, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = _connections.take(origin)
    if connection is not None:
        try:
            status, answer, reusable = _exchange(connection, path, body, headers)
        except STALE:
            connection.close()  # closed by the gateway while idle: once more, afresh
        except BaseException:
            connection.close()
            raise
        else:
            _keep_or_close(origin, connection, reusable)
            return status, answer
    connection = _open(origin)
    try:
        status, answer, reusable = _exchange(connection, path, body, headers)
    except BaseException:
        connection.close()
        raise
    _keep_or_close(origin, connection, reusable)
    return status, answer


def _keep_or_close(origin: Origin, connection: http.client.HTTPConnection,
                   reusable: bool) -> None:
    if reusable and connection.sock is not None:
        _connections.give_back(origin, connection)
    else:
        connection.close()


def post_signed(url: str, secret: str, body: bytes, idempotency_key: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a webhook URL must be http(s)://host[:port]/path")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key,
               "KinPass-Signature": signature(secret, body, int(time.time())),
               "User-Agent": "KinPass"}
    try:
        status, answer = _post((parts.scheme, parts.hostname, parts.port), path, body, headers)
    except TimeoutError:
        raise DeferredError("the gateway did not answer in time") from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeferredError(f"the gateway is unreachable ({type(exc).__name__})") from None
    if 200 <= status < 300:
        return
    if status in RETRIED_STATUSES or status >= 500:
        raise DeferredError(_reason(status, answer))
    raise RefusedError(_reason(status, answer))
