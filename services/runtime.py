"""Process-wide collaborators (keys, object store, notifier, limiter), installed by the app
factory or the command line, so that use cases take plain values and nothing from Flask."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Runtime:
    settings: Any
    keys: Any = None          # storage.keys key provider (KEK)
    objects: Any = None       # storage.object_store.ObjectStore
    notifier: Any = None      # storage.notifier.Notifier
    limiter: Any = None       # auth.ratelimit.Limiter
    pepper: bytes = b""       # HMAC key for codes, rate-limit keys and searchable audit values
    extras: dict[str, Any] | None = None


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current
    _current = runtime


def get() -> Runtime:
    if _current is None:
        raise RuntimeError("KinPass runtime not installed")
    return _current
