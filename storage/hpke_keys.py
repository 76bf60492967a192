"""The server's HPKE keys that clients seal document DEKs to (suites: :mod:`storage.hpke_suites`).

Every instance needs the same keys, so the server keeps them in the database
(``DatabaseHpkeKeyring``, table ``hpke_keys``), private halves wrapped by the KEK provider.
``HpkeKeyring`` keeps the same records in a JSON file (0600) for tools and tests::

    {"version": 1, "keys": [{"kid", "suite", "public_key" (base64url), "active",
                             "wrapped_private_key" (base64)}]}

Private key bytes: X25519 -> the 32-byte scalar; hybrid -> ML-KEM-768 seed (64) || X25519
scalar (32).
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.domain_errors import InvalidCiphertext
from storage.hpke_suites import (
    SUITES,
    HpkeSuite,
    PrivateKey,
    b64url,
    get_suite,
    open_with_private_key,
)
from storage.keys import (
    KeyProvider,
    create_private_file,
    file_lock,
    read_private_file,
    replace_private_file,
)
from storage.models.encryption_keys import HpkeKey
from storage.vocabulary import CiphertextFault as Fault


def _wrap_context(kid: str) -> bytes:
    return b"kinpass/hpke-private-key/" + kid.encode()


def _new_key(suite: HpkeSuite, kek: KeyProvider) -> dict[str, Any]:
    """A fresh active key record; the private half only ever leaves here wrapped."""
    kid = f"{suite.kid_prefix}-{secrets.token_hex(4)}"
    _, raw = suite.generate()
    return {"kid": kid, "suite": suite.name, "active": True,
            "public_key": b64url(suite.public_bytes(raw)),
            "wrapped_private_key": kek.wrap(raw, _wrap_context(kid))}


class _Keyring:
    """Opening sealed DEKs with keys whose private halves are wrapped by the KEK.

    Unwrapped private keys are cached by kid and wrapped blob: a kid names one immutable
    key, and a re-wrapped blob is simply unwrapped once more.
    """

    def __init__(self, kek: KeyProvider) -> None:
        self._kek = kek
        self._private: dict[tuple[str, bytes], PrivateKey] = {}
        self._lock = threading.Lock()

    def _record(self, kid: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def _private_key(self, rec: dict[str, Any]) -> PrivateKey:
        cache_key = (rec["kid"], rec["wrapped_private_key"])
        with self._lock:
            key = self._private.get(cache_key)
        if key is None:
            raw = self._kek.unwrap(rec["wrapped_private_key"], _wrap_context(rec["kid"]))
            key = get_suite(rec["suite"]).load_private(raw)
            with self._lock:
                self._private[cache_key] = key
        return key

    def open_sealed_dek(self, suite: HpkeSuite | str, kid: str, enc: bytes, sealed: bytes,
                        doc_id: uuid.UUID | bytes) -> bytes:
        """Recover a client's DEK; InvalidCiphertext for an unknown kid or a bad seal."""
        s = get_suite(suite)
        rec = self._record(kid)
        if rec is None or rec["suite"] != s.name:
            raise InvalidCiphertext("unknown encryption key", reason=Fault.UNKNOWN_KEY)
        return open_with_private_key(s, self._private_key(rec), enc, sealed, doc_id)


class HpkeKeyring(_Keyring):
    """Server HPKE keys in the file ``path``: one active key per suite, retired ones kept."""

    def __init__(self, path: str | os.PathLike[str], kek: KeyProvider) -> None:
        super().__init__(kek)
        self.path = Path(path)
        if not self.path.exists():
            create_private_file(self.path, self._serialize(self._fresh_records()))
        self._load()

    def _fresh_records(self) -> list[dict[str, Any]]:
        return [_new_key(suite, self._kek) for suite in SUITES.values()]

    @staticmethod
    def _serialize(records: list[dict[str, Any]]) -> bytes:
        plain = [{**rec, "wrapped_private_key": base64.b64encode(
            rec["wrapped_private_key"]).decode()} for rec in records]
        return json.dumps({"version": 1, "keys": plain}, indent=2).encode() + b"\n"

    def _read(self) -> list[dict[str, Any]]:
        try:
            doc = json.loads(read_private_file(self.path))
            records = list(doc["keys"])
            for rec in records:
                get_suite(rec["suite"])
                if not (isinstance(rec["kid"], str) and rec["public_key"]
                        and rec["wrapped_private_key"]):
                    raise ValueError("incomplete record")
                rec["wrapped_private_key"] = base64.b64decode(rec["wrapped_private_key"])
            return records
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise ValueError(f"unreadable HPKE keyring {self.path}: {exc}") from None

    def _load(self) -> None:
        self._records = {rec["kid"]: rec for rec in self._read()}

    def _record(self, kid: str) -> dict[str, Any] | None:
        if kid not in self._records:
            self._load()  # another process may have rotated
        return self._records.get(kid)

    def public_keys(self) -> list[dict[str, str]]:
        """The active keys, for ``GET /v1/encryption-keys``."""
        return [{"kid": rec["kid"], "suite": rec["suite"], "public_key": rec["public_key"]}
                for rec in self._records.values() if rec["active"]]

    def rotate(self) -> list[str]:
        """New active keys for every suite; the old ones stay usable for opening."""
        with file_lock(self.path.with_name(self.path.name + ".lock")):
            records = self._read()
            for rec in records:
                rec["active"] = False
            fresh = self._fresh_records()
            replace_private_file(self.path, self._serialize(records + fresh))
            self._load()
        return [rec["kid"] for rec in fresh]

    def rewrap(self) -> int:
        """Re-wrap every private key under the KEK provider's active KEK."""
        with file_lock(self.path.with_name(self.path.name + ".lock")):
            records = self._read()
            for rec in records:
                rec["wrapped_private_key"] = self._kek.rewrap(rec["wrapped_private_key"],
                                                              _wrap_context(rec["kid"]))
            replace_private_file(self.path, self._serialize(records))
            self._load()
        return len(records)


def _row_record(row: HpkeKey) -> dict[str, Any]:
    return {"kid": row.kid, "suite": row.suite, "active": row.active,
            "public_key": row.public_key, "wrapped_private_key": row.private_key_wrapped}


class DatabaseHpkeKeyring(_Keyring):
    """Server HPKE keys in the ``hpke_keys`` table, so every instance opens every seal.

    Works in the caller's session and unit of work (``session`` returns it); the first
    keys are created on first use, once, even when several instances start together.
    """

    def __init__(self, kek: KeyProvider, session: Callable[[], Session]) -> None:
        super().__init__(kek)
        self._session = session

    def _active_rows(self) -> list[HpkeKey]:
        return list(self._session().execute(
            select(HpkeKey).where(HpkeKey.active.is_(True))
            .execution_options(populate_existing=True)).scalars())

    def _ensure_active(self) -> list[HpkeKey]:
        rows = self._active_rows()
        missing = [s for s in SUITES.values() if s.name not in {r.suite for r in rows}]
        for suite in missing:
            rec = _new_key(suite, self._kek)
            try:
                with self._session().begin_nested():
                    self._session().add(HpkeKey(
                        kid=rec["kid"], suite=rec["suite"], active=True,
                        public_key=rec["public_key"],
                        private_key_wrapped=rec["wrapped_private_key"]))
            except IntegrityError:
                pass  # another instance created this suite's key first; use theirs
        return self._active_rows() if missing else rows

    def public_keys(self) -> list[dict[str, str]]:
        """The active keys, for ``GET /v1/encryption-keys`` (created on first use)."""
        order = list(SUITES)
        rows = sorted(self._ensure_active(), key=lambda r: order.index(r.suite))
        return [{"kid": r.kid, "suite": r.suite, "public_key": r.public_key} for r in rows]

    def _record(self, kid: str) -> dict[str, Any] | None:
        row = self._session().get(HpkeKey, kid)
        return _row_record(row) if row is not None else None

    def rotate(self) -> list[str]:
        """Retire the active keys and create new ones for every suite (flushed, not committed)."""
        session = self._session()
        session.execute(update(HpkeKey).where(HpkeKey.active.is_(True)).values(active=False))
        session.flush()
        fresh = [_new_key(suite, self._kek) for suite in SUITES.values()]
        for rec in fresh:
            session.add(HpkeKey(kid=rec["kid"], suite=rec["suite"], active=True,
                                public_key=rec["public_key"],
                                private_key_wrapped=rec["wrapped_private_key"]))
        session.flush()
        return [rec["kid"] for rec in fresh]

    def rewrap(self) -> int:
        """Re-wrap every private key under the KEK provider's active KEK (flushed)."""
        session = self._session()
        rows = list(session.execute(select(HpkeKey)).scalars())
        for row in rows:
            row.private_key_wrapped = self._kek.rewrap(row.private_key_wrapped,
                                                       _wrap_context(row.kid))
        session.flush()
        return len(rows)
