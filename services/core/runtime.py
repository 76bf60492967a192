"""Process-wide collaborators (keys, object store, notifier, limiter), installed by the app
factory or the command line, so that use cases take plain values and nothing from Flask."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from auth.ratelimit import Limiter
from services.core.settings import Settings
from storage.hpke_keys import DatabaseHpkeKeyring
from storage.keys import KeyProvider
from storage.notifier import Notifier
from storage.object_store import ObjectStore


@dataclass
class Runtime:
    settings: Settings
    keys: KeyProvider  # the KEK
    objects: ObjectStore
    notifier: Notifier
    limiter: Limiter
    hmac_key: Callable[[], bytes]  # services.core.secrets: the shared HMAC key
    hpke_keyring: DatabaseHpkeKeyring  # the server keys clients seal documents' data keys to
    message_key: Callable[[], bytes]  # seals what a queued message says (services.messages)
    authorization_key: Callable[[], bytes]  # seals authorization tokens at rest
    _pepper: bytes | None = field(default=None, init=False, repr=False)

    @property
    def pepper(self) -> bytes:
        """HMAC key for codes, rate-limit keys, document numbers and searchable audit values:
        the same on every instance, read from the database on first use."""
        if self._pepper is not None:
            return self._pepper
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
