"""Process-wide collaborators (keys, object store, notifier, limiter), installed by the app
factory or the command line, so that use cases take plain values and nothing from Flask."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Runtime:
    settings: Any
    keys: Any = None          # storage.keys key provider (KEK)
    objects: Any = None       # storage.object_store.ObjectStore
    notifier: Any = None      # storage.notifier.Notifier
    limiter: Any = None       # auth.ratelimit.Limiter
    hmac_key: Callable[[], bytes] | None = None  # services.core.secrets: the shared HMAC key
    extras: dict[str, Any] | None = None
    _pepper: bytes | None = field(default=None, init=False, repr=False)

    @property
    def pepper(self) -> bytes:
        """HMAC key for codes, rate-limit keys, document numbers and searchable audit values:
        the same on every instance, read from the database on first use."""
        if self._pepper is not None:
            return self._pepper
        if self.hmac_key is None:
            raise RuntimeError("KinPass runtime has no HMAC key")
        return self.hmac_key()

    @pepper.setter
    def pepper(self, value: bytes) -> None:
        self._pepper = value


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current
    _current = runtime


def get() -> Runtime:
    if _current is None:
        raise RuntimeError("KinPass runtime not installed")
    return _current
