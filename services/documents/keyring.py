"""The HPKE keyring clients seal documents' data keys to."""
from __future__ import annotations

from services.core import runtime
from storage.db import session as db
from storage.hpke_keys import DatabaseHpkeKeyring


def hpke_keyring() -> DatabaseHpkeKeyring:
    """The HPKE keyring clients seal DEKs to; kept in the database, shared by every instance."""
    rt = runtime.get()
    if rt.extras is None:
        rt.extras = {}
    keyring = rt.extras.get("hpke_keyring")
    if keyring is None:
        keyring = rt.extras.setdefault("hpke_keyring", DatabaseHpkeKeyring(rt.keys, db))
    return keyring


def encryption_keys() -> list[dict[str, str]]:
    return hpke_keyring().public_keys()
