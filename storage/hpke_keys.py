"""The server's HPKE (RFC 9180, base mode) keys that clients seal document DEKs to.

Two suites, both with HKDF-SHA256 and AES-256-GCM:

    name                               kem_id  kdf_id  aead_id  public key          enc
    X25519-SHA256-AES256GCM            0x0020  0x0001  0x0002   32 bytes            32
    MLKEM768X25519-SHA256-AES256GCM    0x647a  0x0001  0x0002   1216 = ML-KEM-768   1120
                                                                ek (1184) || X25519

The DEK is sealed with single-shot HPKE, ``info = "kinpass/kps1/sealed-dek" || doc id``
(16 raw bytes), no AAD; ``sealed`` is the 48-byte AEAD output (DEK and tag).

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
import struct
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.envelope import DEK_SIZE, doc_id_bytes
from storage.errors import InvalidCiphertext
from storage.keys import (
    KeyProvider,
    create_private_file,
    file_lock,
    read_private_file,
    replace_private_file,
)
from storage.models.encryption_keys import HpkeKey

INFO_LABEL = b"kinpass/kps1/sealed-dek"
SEALED_DEK_SIZE = DEK_SIZE + 16

PrivateKey = x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey
PublicKey = x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey


@dataclass(frozen=True)
class HpkeSuite:
    name: str
    kid_prefix: str
    kem_id: int
    kdf_id: int
    aead_id: int
    public_key_size: int
    enc_size: int

    @property
    def wire_id(self) -> bytes:
        """kem_id || kdf_id || aead_id, as in the sealed container header."""
        return struct.pack(">HHH", self.kem_id, self.kdf_id, self.aead_id)

    def hpke_suite(self) -> hpke.Suite:
        kem = hpke.KEM.X25519 if self is X25519_SUITE else hpke.KEM.MLKEM768_X25519
        return hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

    def generate(self) -> tuple[PrivateKey, bytes]:
        """A new private key and its serialization."""
        x = x25519.X25519PrivateKey.generate()
        if self is X25519_SUITE:
            return x, x.private_bytes_raw()
        pq = mlkem.MLKEM768PrivateKey.generate()
        return hpke.MLKEM768X25519PrivateKey(pq, x), pq.private_bytes_raw() + x.private_bytes_raw()

    def load_private(self, raw: bytes) -> PrivateKey:
        if self is X25519_SUITE:
            return x25519.X25519PrivateKey.from_private_bytes(raw)
        if len(raw) != 96:
            raise ValueError("hybrid private key must be 96 bytes")
        return hpke.MLKEM768X25519PrivateKey(mlkem.MLKEM768PrivateKey.from_seed_bytes(raw[:64]),
                                             x25519.X25519PrivateKey.from_private_bytes(raw[64:]))

    def public_bytes(self, raw_private: bytes) -> bytes:
        if self is X25519_SUITE:
            return x25519.X25519PrivateKey.from_private_bytes(raw_private).public_key() \
                .public_bytes_raw()
        pq = mlkem.MLKEM768PrivateKey.from_seed_bytes(raw_private[:64])
        x = x25519.X25519PrivateKey.from_private_bytes(raw_private[64:])
        return pq.public_key().public_bytes_raw() + x.public_key().public_bytes_raw()

    def load_public(self, raw: bytes) -> PublicKey:
        if len(raw) != self.public_key_size:
            raise ValueError(f"{self.name} public key must be {self.public_key_size} bytes")
        if self is X25519_SUITE:
            return x25519.X25519PublicKey.from_public_bytes(raw)
        return hpke.MLKEM768X25519PublicKey(mlkem.MLKEM768PublicKey.from_public_bytes(raw[:1184]),
                                            x25519.X25519PublicKey.from_public_bytes(raw[1184:]))


X25519_SUITE = HpkeSuite("X25519-SHA256-AES256GCM", "x25519", 0x0020, 0x0001, 0x0002, 32, 32)
MLKEM768_X25519_SUITE = HpkeSuite("MLKEM768X25519-SHA256-AES256GCM", "mlkem768x25519",
                                  0x647A, 0x0001, 0x0002, 1216, 1120)
SUITES = {s.name: s for s in (X25519_SUITE, MLKEM768_X25519_SUITE)}
SUITES_BY_WIRE_ID = {s.wire_id: s for s in SUITES.values()}


def get_suite(suite: HpkeSuite | str) -> HpkeSuite:
    if isinstance(suite, HpkeSuite):
        return suite
    try:
        return SUITES[suite]
    except KeyError:
        raise ValueError(f"unknown HPKE suite {suite!r}") from None


def sealed_dek_info(doc_id: uuid.UUID | bytes) -> bytes:
    return INFO_LABEL + doc_id_bytes(doc_id)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("invalid base64url") from None


def seal_dek(public_key_b64: str, suite: HpkeSuite | str, dek: bytes,
             doc_id: uuid.UUID | bytes) -> tuple[bytes, bytes]:
    """Client side: seal ``dek`` to a server public key. Returns (enc, sealed)."""
    s = get_suite(suite)
    if len(dek) != DEK_SIZE:
        raise ValueError("DEK must be 32 bytes")
    public_key = s.load_public(b64url_decode(public_key_b64))
    out = s.hpke_suite().encrypt(dek, public_key, info=sealed_dek_info(doc_id))
    return out[:s.enc_size], out[s.enc_size:]


def open_with_private_key(suite: HpkeSuite | str, private_key: PrivateKey, enc: bytes,
                          sealed: bytes, doc_id: uuid.UUID | bytes) -> bytes:
    s = get_suite(suite)
    if len(enc) != s.enc_size or len(sealed) != SEALED_DEK_SIZE:
        raise InvalidCiphertext("sealed DEK has the wrong size")
    try:
        return s.hpke_suite().decrypt(enc + sealed, private_key, info=sealed_dek_info(doc_id))
    except InvalidTag:
        raise InvalidCiphertext("sealed DEK failed to open") from None


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
            raise InvalidCiphertext("unknown encryption key")
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
