"""An authorization's token sealed at rest, and shredded with its case.

The token is a JWS whose payload carries the holder's name, birth date and document number,
so it is kept only sealed: AES-256-GCM under the shared authorization key (a service secret
wrapped by the KEK, services.core.secrets, re-wrapped by a KEK rotation), bound to the
authorization's id, stored as nonce (12) || ciphertext || tag (16). Every row gets its opened
token as ``token`` as it is loaded, so every view reads the same thing; a shredded one has
none. Shredding destroys the sealed token with the case's documents (withdrawal, account
erasure, retention), in the same unit of work.
"""
from __future__ import annotations

import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import event, select

from services.audit.events import record_event
from services.core import runtime
from storage.db import session as db, utcnow
from storage.domain_errors import InvalidCiphertext
from storage.models.authorizations import Authorization
from storage.models.cases import Case

NONCE_BYTES = 12
SEAL_BATCH = 500


def _aad(auth: Authorization) -> bytes:
    return b"kinpass-authorization:" + auth.id.bytes


def seal_token(auth: Authorization, token: str) -> None:
    """Keep ``token`` in ``auth``'s row only sealed (the row's id must be set)."""
    nonce = os.urandom(NONCE_BYTES)
    auth.token_sealed = nonce + AESGCM(runtime.get().authorization_key()).encrypt(
        nonce, token.encode("ascii"), _aad(auth))
    auth.token_clear = None
    auth.token = token


def open_token(auth: Authorization) -> str | None:
    """The token of ``auth``; None once it is shredded."""
    sealed = auth.token_sealed
    if sealed is None:
        return auth.token_clear  # issued before tokens were sealed, not yet sealed
    try:
        plain = AESGCM(runtime.get().authorization_key()).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(auth))
    except (InvalidTag, ValueError):
        raise InvalidCiphertext("a sealed authorization token failed authentication") from None
    return plain.decode("ascii")


@event.listens_for(Authorization, "load")
def _opened_on_load(target: Authorization, _context: Any) -> None:
    target.token = open_token(target)


@event.listens_for(Authorization, "refresh")
def _opened_on_refresh(target: Authorization, _context: Any, _attrs: Any) -> None:
    target.token = open_token(target)


def shred_case_authorizations(case: Case, actor: Any) -> int:
    """Destroy the tokens of every authorization of ``case`` (with its documents); returns
    how many. Their rows stay, with their status and window, reading ``token: null``."""
    due = db().execute(select(Authorization).where(
        Authorization.case_id == case.id, Authorization.shredded_at.is_(None))).scalars().all()
    now = utcnow()
    for auth in due:
        auth.token_sealed = None
        auth.token_clear = None
        auth.token = None
        auth.shredded_at = now
        record_event("authorization.shred", actor, subject_type="authorization",
                     subject_id=auth.id)
    db().flush()
    return len(due)


def seal_clear_tokens() -> int:
    """Seal every token still kept in clear (issued before tokens were sealed), a batch at a
    time; returns how many. Idempotent: a re-run finds none."""
    sealed = 0
    while True:
        batch = db().execute(select(Authorization).where(Authorization.token_clear.is_not(None))
                             .order_by(Authorization.id).limit(SEAL_BATCH)).scalars().all()
        if not batch:
            return sealed
        for auth in batch:
            seal_token(auth, auth.token_clear or "")
        db().flush()
        sealed += len(batch)
