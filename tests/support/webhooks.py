"""A real HTTP receiver on loopback for the signed webhooks: it checks every request's
`KinPass-Signature` against the secret, keeps what it got, and answers from a script (a
status, optionally with a body, or "hang": hold the request until released). It closes each
connection after its answer, unless `keep_alive`; `drop_idle` then closes one after its
answer without saying so, as a gateway that drops idle connections does."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "webhook-test-secret-0123456789abcdef"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    client_port: int = 0

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


def signature_ok(header: str, body: bytes, secret: str) -> bool:
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body,
                            hashlib.sha256).hexdigest()
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(expected, parts.get("v1", ""))


@dataclass
class Receiver:
    secret: str = SECRET
    script: deque = field(default_factory=deque)  # answers to give, first first; then 200
    received: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    server: ThreadingHTTPServer | None = None
    keep_alive: bool = False
    drop_idle: bool = False

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answer(self, *answers: Any) -> None:
        self.script.extend(answers)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            @property
            def protocol_version(self) -> str:  # type: ignore[override]
                return "HTTP/1.1" if receiver.keep_alive else "HTTP/1.0"

            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                got = Received(dict(self.headers.items()), body, signature_ok(
                    self.headers.get("KinPass-Signature", ""), body, receiver.secret),
                    self.client_address[1])
                with receiver.arrived:
                    receiver.received.append(got)
                    answer = receiver.script.popleft() if receiver.script else 200
                    receiver.arrived.notify_all()
                if answer == "hang":
                    receiver.released.wait(30)
                    return
                status, payload = answer if isinstance(answer, tuple) else (answer, {})
                if not got.signature_ok:
                    status, payload = 401, {"reason": "bad signature"}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if receiver.drop_idle:
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def wait_for(self, count: int, seconds: float = 30) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=seconds)
            return list(self.received)

    def stop(self) -> None:
        self.released.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
