"""A loopback TCP proxy that cuts connections, for uploads over a link that drops.

Bytes from the client are counted as they arrive (what a phone sends over the wire); the
proxy cuts the connection in flight each time the bytes it has passed on reach the next
multiple of ``cut_every`` (or once, at ``cut_at``), in the middle of whatever request is
under way.
"""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

BUFFER = 64 * 1024


class CuttingProxy:
    def __init__(self, target_port: int, *, cut_every: int | None = None,
                 cut_at: tuple[int, ...] = (), listen_port: int = 0) -> None:
        self.target_port = target_port
        self.cut_every = cut_every
        self.cuts = sorted(cut_at)
        self.received = 0  # bytes the clients sent
        self.forwarded = 0  # bytes passed on to the server
        self.cut_count = 0
        self._lock = threading.Lock()
        # A given port: the server's public URL, so that the URLs it hands out lead back here.
        self._listener = socket.create_server(("127.0.0.1", listen_port))
        self.port = self._listener.getsockname()[1]
        self._stop = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _next_cut(self) -> int | None:
        if self.cut_every:
            return (self.forwarded // self.cut_every + 1) * self.cut_every
        return self.cuts[0] if self.cuts else None

    def _serve(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._upstream, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._downstream, args=(upstream, client),
                             daemon=True).start()

    @staticmethod
    def _cut(*sockets: socket.socket) -> None:
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _upstream(self, client: socket.socket, upstream: socket.socket) -> None:
        while True:
            try:
                data = client.recv(BUFFER)
            except OSError:
                data = b""
            if not data:
                with suppress(OSError):
                    upstream.shutdown(socket.SHUT_WR)
                return
            with self._lock:
                self.received += len(data)
                cut = self._next_cut()
                room = len(data) if cut is None else min(len(data), cut - self.forwarded)
                self.forwarded += room
                cutting = cut is not None and self.forwarded >= cut
                if cutting and not self.cut_every:
                    self.cuts.pop(0)
            try:
                upstream.sendall(data[:room])
            except OSError:
                self._cut(client, upstream)
                return
            if cutting:
                self.cut_count += 1  # the proxy's own cuts, not connections the server ends
                self._cut(client, upstream)
                return

    @staticmethod
    def _downstream(upstream: socket.socket, client: socket.socket) -> None:
        while True:
            try:
                data = upstream.recv(BUFFER)
                if not data:
                    break
                client.sendall(data)
            except OSError:
                break
        with suppress(OSError):
            client.shutdown(socket.SHUT_WR)

    def start(self) -> None:
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._stop = True
        self._listener.close()


@contextmanager
def cutting_proxy(target_port: int, **options) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(target_port, **options)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()
