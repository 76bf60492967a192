"""The copy of every message (KINPASS_NOTIFIER), for development and tests: logged, appended
to a JSON-lines file, or none. Delivery itself is the outbox's (services/messages)."""
from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any, Protocol

log = logging.getLogger("kinpass.notifier")

PERSONAL = ("to", "code", "text")


class Notifier(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...


class LogNotifier:
    """Development: the message goes to the log, codes included. Anywhere else the code, the
    contact and the text (which may quote the code) are left out."""

    def __init__(self, *, redact: bool = False) -> None:
        self.redact = redact

    def send(self, message: dict[str, Any]) -> None:
        if self.redact:
            message = {key: value for key, value in message.items() if key not in PERSONAL}
        log.info("notification", extra={"notification": message})


class FileNotifier:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, ensure_ascii=False) + "\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)


class NoNotifier:
    def send(self, message: dict[str, Any]) -> None:
        return None


def open_notifier(spec: str, *, development: bool = True) -> Notifier:
    if spec == "log":
        return LogNotifier(redact=not development)
    if spec == "none":
        return NoNotifier()
    if spec.startswith("file:"):
        return FileNotifier(spec[len("file:"):])
    raise ValueError(f"unknown KINPASS_NOTIFIER {spec!r}")
