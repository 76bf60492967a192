"""Outgoing messages to relatives: logged (default) or appended to a JSON-lines file."""
from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any, Protocol

log = logging.getLogger("kinpass.notifier")


class Notifier(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...


class LogNotifier:
    """Development notifier: the message goes to the log, codes included, for local use only."""

    def send(self, message: dict[str, Any]) -> None:
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


def open_notifier(spec: str) -> Notifier:
    if spec == "log":
        return LogNotifier()
    if spec.startswith("file:"):
        return FileNotifier(spec[len("file:"):])
    raise ValueError(f"unknown KINPASS_NOTIFIER {spec!r}")
