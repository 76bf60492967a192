"""The HPKE keyring clients seal documents' data keys to."""
from __future__ import annotations

from services.core import runtime
from storage.hpke_keys import DatabaseHpkeKeyring


def hpke_keyring() -> DatabaseHpkeKeyring:
    """The HPKE keyring clients seal DEKs to; kept in the database, shared by every instance."""
    return runtime.get().hpke_keyring


def encryption_keys() -> list[dict[str, str]]:
    return hpke_keyring().public_keys()
