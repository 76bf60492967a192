"""A real SMTP server (aiosmtpd) on loopback: STARTTLS or implicit TLS on a test
certificate, AUTH LOGIN/PLAIN with one user, every message it accepted kept as parsed."""
from __future__ import annotations

import email
import email.policy
import socket
import threading
import warnings
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.tls import TestCA

USER, PASSWORD = "kinpass", "mail-secret"
# Implicit TLS is TLS, though aiosmtpd counts only STARTTLS as such and warns.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """What the server received, across restarts of the server."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self.arrived = threading.Condition(self._lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=email.policy.default)
        with self.arrived:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> AuthResult:
    ok = (isinstance(data, LoginPassword) and data.login == USER.encode()
          and data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


class SmtpServer:
    """`mode` is "starttls" (STARTTLS required before anything), "smtps" (implicit TLS) or
    "plain" (no TLS offered at all)."""

    def __init__(self, ca: TestCA, inbox: Inbox, *, mode: str = "starttls",
                 port: int | None = None) -> None:
        self.ca, self.inbox, self.mode = ca, inbox, mode
        self.port = port or free_port()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        scheme = "smtps" if self.mode == "smtps" else "smtp"
        return f"{scheme}://{USER}:{PASSWORD}@127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        kwargs: dict[str, Any] = {"authenticator": _authenticate, "auth_required": True}
        if self.mode == "starttls":
            kwargs.update(tls_context=self.ca.server_context(), require_starttls=True)
        elif self.mode == "smtps":
            # the whole connection is TLS; aiosmtpd only counts STARTTLS as such
            kwargs.update(ssl_context=self.ca.server_context(), auth_require_tls=False)
        else:
            kwargs.update(auth_require_tls=False)
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                     server_hostname="kinpass-test-smtp", **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
