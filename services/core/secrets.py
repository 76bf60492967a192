"""Secrets every instance shares, kept in the database wrapped by the KEK: the HMAC key
(`runtime.get().pepper`) for verification codes, rate-limit keys, document-number HMACs and
searchable audit values. It is independent of the session-token secret, so rotating that
one changes no HMAC.

A secret is made on first use; when two instances make it at once, the second insert fails
on the name and that instance reads the first one's. It is read in the caller's own
transaction (on SQLite a second connection would wait on that transaction's write lock) and
remembered only once committed, so a secret made by a transaction that then rolls back is
never used again.
"""
from __future__ import annotations

import secrets

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from storage.db import session as db
from storage.keys import KeyProvider, decode_configured_key, wrapped_kid
from storage.models.secrets import ServiceSecret

HMAC_KEY = "hmac-key"
MESSAGE_KEY = "message-key"  # seals queued messages (services.messages.sealing)
AUTHORIZATION_KEY = "authorization-key"  # seals tokens (services.authorizations.sealing)
SECRET_BYTES = 32
_MADE_HERE = "kinpass_secrets_made"


def _context(name: str) -> bytes:
    return b"service-secret:" + name.encode()


def decode_hmac_key(value: str) -> bytes:
    """A key given as configuration (KINPASS_HMAC_KEY): base64 of at least 32 bytes."""
    key = decode_configured_key(value, "KINPASS_HMAC_KEY")
    if len(key) < SECRET_BYTES:
        raise ValueError(f"KINPASS_HMAC_KEY must hold at least {SECRET_BYTES} bytes")
    return key


def _wrapped(session: Session, name: str) -> bytes | None:
    return session.scalar(select(ServiceSecret.wrapped).where(ServiceSecret.name == name))


def _load(name: str, keys: KeyProvider) -> tuple[bytes, bool]:
    """The secret, and whether it is committed (made by an earlier transaction)."""
    session = db()
    wrapped = _wrapped(session, name)
    if wrapped is None:
        candidate = keys.wrap(secrets.token_bytes(SECRET_BYTES), _context(name))
        try:
            with session.begin_nested():
                session.add(ServiceSecret(name=name, wrapped=candidate))
            session.info.setdefault(_MADE_HERE, set()).add(name)
        except IntegrityError:
            pass  # another instance made it first; theirs is read below
        wrapped = _wrapped(session, name)
        assert wrapped is not None
    committed = name not in session.info.get(_MADE_HERE, ())
    return keys.unwrap(wrapped, _context(name)), committed


class SharedSecret:
    """A callable giving the secret ``name``, read once committed and cached from then on."""

    def __init__(self, name: str, keys: KeyProvider) -> None:
        self.name = name
        self._keys = keys
        self._value: bytes | None = None

    def __call__(self) -> bytes:
        if self._value is not None:
            return self._value
        value, committed = _load(self.name, self._keys)
        if committed:
            self._value = value
        return value


class FixedSecret:
    """A secret given as configuration."""

    def __init__(self, value: bytes) -> None:
        self._value = value

    def __call__(self) -> bytes:
        return self._value


def open_stored_secrets(keys: KeyProvider) -> int:
    """Unwrap every stored secret with ``keys`` (readiness: the KEK configured is the one the
    database was written with); returns how many were opened."""
    rows = db().execute(select(ServiceSecret.name, ServiceSecret.wrapped)).all()
    for name, wrapped in rows:
        keys.unwrap(wrapped, _context(name))
    return len(rows)


def rewrap_secrets(keys: KeyProvider) -> int:
    """Re-wrap every stored secret under the KEK that is active now (after a KEK rotation)."""
    rows = [row for row in db().execute(select(ServiceSecret)).scalars()
            if wrapped_kid(row.wrapped) != keys.active_kid]
    for row in rows:
        row.wrapped = keys.rewrap(row.wrapped, _context(row.name))
    db().flush()
    return len(rows)


@event.listens_for(Session, "after_transaction_end")
def _forget_made(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction committed or rolled back
        session.info.pop(_MADE_HERE, None)
