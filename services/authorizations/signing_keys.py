"""Ed25519 keys that sign authorizations and the revocation list (never session tokens).

The private half lives only in the database, wrapped by the KEK with the key's ``kid`` as
context. One key is active; a rotated-out key stays published in the JWKS until the last
token it signed has expired.
"""
from __future__ import annotations

import threading
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from services.audit.events import record_event
from services.authorizations import jws
from services.core import runtime
from storage.db import session as db, utcnow
from storage.keys import wrapped_kid
from storage.models.authorizations import Authorization, SigningKey
from storage.vocabulary import SigningKeyStatus

ACTIVE = SigningKeyStatus.ACTIVE

# Unwrapped keys by kid. A kid names one immutable key, so a cached entry never goes stale;
# which kid is active is read from the database every time.
_private_cache: dict[str, Ed25519PrivateKey] = {}
_cache_lock = threading.Lock()


def _context(kid: str) -> bytes:
    return b"kinpass-signing-key:" + kid.encode()


def _new_key() -> SigningKey:
    private = Ed25519PrivateKey.generate()
    public = jws.public_raw(private.public_key())
    kid = jws.thumbprint(public)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return SigningKey(kid=kid, status=ACTIVE, public_key=public,
                      private_key_wrapped=runtime.get().keys.wrap(raw, _context(kid)))


def _active_row() -> SigningKey | None:
    return db().execute(select(SigningKey).where(SigningKey.status == ACTIVE)
                        .execution_options(populate_existing=True)).scalar_one_or_none()


def _private(row: SigningKey) -> Ed25519PrivateKey:
    with _cache_lock:
        key = _private_cache.get(row.kid)
    if key is None:
        raw = runtime.get().keys.unwrap(row.private_key_wrapped, _context(row.kid))
        key = Ed25519PrivateKey.from_private_bytes(raw)
        if jws.public_raw(key.public_key()) != row.public_key:
            raise ValueError(f"signing key {row.kid} does not match its public half")
        with _cache_lock:
            _private_cache[row.kid] = key
    return key


def active_signing_key() -> tuple[str, Ed25519PrivateKey]:
    """The active key, created on first use (once, even with several processes starting)."""
    row = _active_row()
    if row is None:
        candidate = _new_key()
        try:
            with db().begin_nested():
                db().add(candidate)
        except IntegrityError:
            pass  # another process created the first key first; use theirs
        row = _active_row()
        assert row is not None
    return row.kid, _private(row)


def rotate_signing_key(actor: object) -> str:
    """Retire the active key and make a new one active; returns the new kid."""
    now = utcnow()
    db().execute(update(SigningKey).where(SigningKey.status == ACTIVE)
                 .values(status=SigningKeyStatus.RETIRED, retired_at=now))
    db().flush()
    row = _new_key()
    db().add(row)
    db().flush()
    record_event("signing_key.rotate", actor, subject_type="signing_key", subject_id=row.kid)
    return row.kid


def published_keys(now: datetime | None = None) -> list[SigningKey]:
    """The keys a JWKS must carry: the active one, and retired ones with unexpired tokens."""
    now = now or utcnow()
    live_tokens = exists().where(Authorization.kid == SigningKey.kid,
                                 Authorization.valid_until > now)
    rows = db().execute(select(SigningKey).where((SigningKey.status == ACTIVE) | live_tokens)
                        .order_by(SigningKey.created_at.desc(), SigningKey.kid)).scalars().all()
    if not any(row.status == ACTIVE for row in rows):
        active_signing_key()
        return published_keys(now)
    return list(rows)


def jwks(now: datetime | None = None) -> dict[str, list[dict[str, str]]]:
    return {"keys": [jws.public_jwk(row.kid, row.public_key) for row in published_keys(now)]}


def verification_keys() -> dict[str, Ed25519PublicKey]:
    """Every key this server ever signed with, so an old token reads 'expired', not 'invalid'."""
    rows = db().execute(select(SigningKey.kid, SigningKey.public_key)).all()
    return {kid: Ed25519PublicKey.from_public_bytes(public) for kid, public in rows}


def rewrap_signing_keys(actor: object) -> int:
    """Re-wrap every signing key under the KEK that is active now (after a KEK rotation)."""
    keys = runtime.get().keys
    rows = [row for row in db().execute(select(SigningKey)).scalars()
            if wrapped_kid(row.private_key_wrapped) != keys.active_kid]
    for row in rows:
        row.private_key_wrapped = keys.rewrap(row.private_key_wrapped, _context(row.kid))
    db().flush()
    record_event("signing_key.rewrap", actor, subject_type="signing_key",
                 reason=f"{len(rows)} keys")
    return len(rows)
