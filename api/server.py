"""`kinpass serve`'s server: gunicorn's threaded worker with the reading done by its event loop.

A request reaches a thread only once its head and its body (up to `max_upload_bytes`) have
arrived: the worker's event loop reads them from the non-blocking socket into a spool (memory,
then a temporary file), so an idle, slow or trickling client costs a socket and a buffer, never
a thread. The head must arrive within `header_timeout_seconds`; the body may pause no longer
than `body_timeout_seconds` between bytes. Threads busy and `max_queued_requests` waiting: a
503 problem at once, from the event loop.
"""
from __future__ import annotations

import errno
import json
import os
import selectors
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

from api.app import create_app
from api.http import configure_logging
from api.problem_texts import texts
from services.core.settings import Settings
from storage.vocabulary import DEFAULT_LANGUAGE

READ_CHUNK = 256 * 1024
SPOOL_IN_MEMORY = 1024 * 1024
MAX_HEAD_BYTES = 64 * 1024


def _busy_response() -> bytes:
    title, detail = texts("service_unavailable", DEFAULT_LANGUAGE)
    body = json.dumps({"type": "https://kinpass.example/problems/service_unavailable",
                       "title": title, "status": 503, "detail": detail,
                       "code": "service_unavailable"}, ensure_ascii=False).encode()
    head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nCache-Control: no-store\r\n"
            "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n")
    return head.encode() + body


class SpooledSocket:
    """The client's socket, reading first what the event loop has already received."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.raw = sock
        self.timeout = timeout
        self.spool: Any = None

    def feed(self, spool: Any) -> None:
        spool.seek(0)
        self.spool = spool

    def recv(self, size: int, *flags: int) -> bytes:
        if self.spool is not None:
            data = self.spool.read(size)
            if data:
                return data
            self.spool.close()
            self.spool = None
        return self.raw.recv(size, *flags)

    def setblocking(self, flag: bool) -> None:
        # A thread never waits on a client without a bound.
        if flag:
            self.raw.settimeout(self.timeout)
        else:
            self.raw.setblocking(False)

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None
        self.raw.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class Intake:
    """One request being read by the event loop."""

    def __init__(self, header_timeout: float) -> None:
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        self.head = bytearray()
        self.body_left: int | None = None  # None: the head is still coming
        self.deadline = time.monotonic() + header_timeout
        self.received = 0

    def take(self, data: bytes, limits: tuple[int, float]) -> bool:
        """Whether the request is ready for a thread once `data` is added."""
        self.received += len(data)
        self.spool.write(data)
        if self.body_left is not None:
            self.body_left -= len(data)
            self.deadline = time.monotonic() + limits[1]
            return self.body_left <= 0
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            return len(self.head) > MAX_HEAD_BYTES  # the parser refuses it in the thread
        length = _body_length(bytes(self.head[:end]), limits[0])
        if length is None:
            return True
        self.body_left = length - (len(self.head) - end - 4)
        self.head = bytearray()
        self.deadline = time.monotonic() + limits[1]
        return self.body_left <= 0


TUS_CHUNK = b"application/offset+octet-stream"


def _body_length(head: bytes, max_body: int) -> int | None:
    """The Content-Length the event loop reads ahead, or None to leave the body to the
    thread (chunked, Expect: 100-continue, too large or malformed: the app answers those).
    A tus chunk (application/offset+octet-stream) streams to the app too, so that what
    arrives before a connection drops is kept and the upload resumes from there."""
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name in (b"transfer-encoding", b"expect"):
            return None
        if name == b"content-type" and value.strip().lower().startswith(TUS_CHUNK):
            return None
        if name == b"content-length":
            if not value.strip().isdigit():
                return None
            length = int(value.strip())
    return length if length <= max_body else None


@dataclass(frozen=True)
class Limits:
    header_timeout: float
    body_timeout: float
    max_body: int
    max_queued: int


class Connection(TConn):
    def close(self, graceful: bool = False) -> None:
        """Close without lingering in the event loop: the request was read whole, so
        nothing unread can turn the close into a reset."""
        if graceful:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        self.sock.close()


class KinPassWorker(ThreadWorker):
    """gunicorn's gthread worker whose event loop reads each request before a thread runs it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinpass: Limits = self.app.limits  # type: ignore[attr-defined]
        self.intakes: dict[TConn, Intake] = {}
        self.in_flight = 0
        self.counting = threading.Lock()
        self.busy = _busy_response()

    # connections -------------------------------------------------------------------
    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = Connection(self.cfg, SpooledSocket(client, self.kinpass.body_timeout), address,
                     listener.getsockname())
        self._read_next(conn)

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection's next request: read by the loop like the first."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_next(conn)

    def _read_next(self, conn: TConn) -> None:
        self.intakes[conn] = Intake(self.kinpass.header_timeout)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._readable, conn))

    def _readable(self, conn: TConn, _client: Any) -> None:
        intake = self.intakes[conn]
        try:
            data = conn.sock.raw.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        if intake.take(data, (self.kinpass.max_body, self.kinpass.body_timeout)):
            self.poller.unregister(conn.sock)
            del self.intakes[conn]
            conn.sock.feed(intake.spool)
            conn.data_ready = True
            self.enqueue_req(conn)

    def _drop(self, conn: TConn) -> None:
        intake = self.intakes.pop(conn)
        intake.spool.close()
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Past its deadline (or, once stopping, still silent): the connection is closed."""
        super().murder_pending()
        now = time.monotonic()
        for conn, intake in list(self.intakes.items()):
            if intake.deadline <= now or (not self.alive and not intake.received):
                self._drop(conn)

    # bounded concurrency -------------------------------------------------------------
    def enqueue_req(self, conn: TConn) -> None:
        with self.counting:
            full = self.in_flight >= self.cfg.threads + self.kinpass.max_queued
            if not full:
                self.in_flight += 1
        if full:
            try:
                conn.sock.raw.send(self.busy)
            except OSError:
                pass
            self.nr_conns -= 1
            conn.close()
            return
        super().enqueue_req(conn)

    def handle(self, conn: TConn) -> Any:
        """Counted out by the thread itself, as soon as the answer is sent: the event loop
        may see the client's next request before it hears that this one is done."""
        try:
            return super().handle(conn)
        finally:
            with self.counting:
                self.in_flight -= 1


def machine_workers() -> int:
    """One worker process per CPU this process may run on."""
    return len(os.sched_getaffinity(0))


class JsonLogger(glogging.Logger):
    """gunicorn's own messages (start, workers, timeouts) as JSON lines, like the app's."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        configure_logging()
        for log in (self.error_log, self.access_log):
            log.handlers.clear()
            log.propagate = True


class Server(BaseApplication):
    """The API under gunicorn with the KinPass worker, configured from the settings only."""

    def __init__(self, settings: Settings, workers: int, child_exit: Callable,
                 post_worker_init: Callable[[], object] | None = None) -> None:
        self.settings = settings
        self.post_worker_init = post_worker_init
        self.workers = workers or machine_workers()
        self.child_exit = child_exit
        self.limits = Limits(header_timeout=settings.header_timeout_seconds,
                             body_timeout=settings.body_timeout_seconds,
                             max_body=max(settings.max_upload_bytes, settings.max_json_bytes),
                             max_queued=settings.max_queued_requests)
        super().__init__()

    def load_config(self) -> None:
        settings = self.settings
        for name, value in (
                ("bind", settings.bind), ("workers", self.workers),
                ("worker_class", KinPassWorker), ("threads", settings.threads),
                ("worker_connections", settings.max_connections),
                ("keepalive", settings.keepalive_seconds), ("timeout", 120),
                ("graceful_timeout", 20), ("limit_request_line", 8190),
                ("limit_request_field_size", 8190), ("accesslog", None),
                ("forwarded_allow_ips", "127.0.0.1"), ("control_socket_disable", True),
                ("logger_class", JsonLogger),
                ("child_exit", lambda _server, worker: self.child_exit(worker.pid))):
            self.cfg.set(name, value)
        if self.post_worker_init is not None:
            start = self.post_worker_init
            self.cfg.set("post_worker_init", lambda _worker: start())

    def load(self) -> Any:
        return create_app()
