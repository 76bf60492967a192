"""Idempotency keys (Stripe semantics), scoped per account and kept at least 24 hours.

A key is reserved with an in-progress row inside the request's own transaction: a concurrent
request with the same key waits on the unique index until the first one commits, then replays
its answer. The row is completed with the response and commits with the request's changes.

Stored answers hold personal data (a case, a one-time staff password), so they are sealed:
AES-256-GCM under a key derived from the shared HMAC key, bound to the account and the key.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from services.core import runtime
from storage.db import session as db, utcnow
from storage.domain_errors import Conflict, IdempotencyKeyReused
from storage.models.requests import IdempotencyRecord

KEEP_FOR = timedelta(hours=24)
IN_PROGRESS = 0
NONCE_BYTES = 12


@lru_cache(maxsize=2)
def _cipher_for(pepper: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"kinpass idempotency replies v1").derive(pepper))


def _cipher() -> AESGCM:
    return _cipher_for(runtime.get().pepper)


def _associated(record: IdempotencyRecord) -> bytes:
    return record.account_id.bytes + record.key.encode()


def _seal(record: IdempotencyRecord, body: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher().encrypt(nonce, body, _associated(record))


def _open(record: IdempotencyRecord) -> bytes:
    try:
        return _cipher().decrypt(record.body[:NONCE_BYTES], record.body[NONCE_BYTES:],
                                 _associated(record))
    except (InvalidTag, ValueError):  # sealed under an HMAC key since replaced
        raise Conflict() from None


@dataclass(frozen=True)
class Replay:
    status: int
    body: bytes
    content_type: str


def _find(account_id: uuid.UUID, key: str) -> IdempotencyRecord | None:
    return db().execute(
        select(IdempotencyRecord).where(IdempotencyRecord.account_id == account_id,
                                        IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)).scalar_one_or_none()


def _answer(record: IdempotencyRecord, request_hash: str) -> Replay:
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused()
    if record.status == IN_PROGRESS:
        raise Conflict()
    return Replay(record.status, _open(record), record.content_type)


def reserve(account_id: uuid.UUID, key: str, request_hash: str) -> IdempotencyRecord | Replay:
    """The stored answer to replay, or a fresh in-progress record for this request.

    The same key with another request is 422 idempotency_key_reused."""
    record = _find(account_id, key)
    if record is not None and record.created_at < utcnow() - KEEP_FOR:
        db().delete(record)
        db().flush()
        record = None
    if record is not None:
        return _answer(record, request_hash)
    record = IdempotencyRecord(account_id=account_id, key=key, request_hash=request_hash,
                               status=IN_PROGRESS, body=b"", content_type="")
    try:
        with db().begin_nested():
            db().add(record)
    except IntegrityError:
        winner = _find(account_id, key)
        if winner is None:
            raise Conflict() from None
        return _answer(winner, request_hash)
    return record


def complete(record: IdempotencyRecord, status: int, body: bytes, content_type: str) -> None:
    record.status, record.body, record.content_type = status, _seal(record, body), content_type
    db().flush()


def record_outcome(*, account_id: uuid.UUID, key: str, request_hash: str, status: int,
                   body: bytes, content_type: str) -> None:
    """Store an answer given after the request's own changes were rolled back (a refusal)."""
    record = _find(account_id, key)
    if record is None:
        record = IdempotencyRecord(account_id=account_id, key=key, request_hash=request_hash,
                                   status=IN_PROGRESS, body=b"", content_type="")
        try:
            with db().begin_nested():
                db().add(record)
        except IntegrityError:  # a concurrent request with this key answered first
            return
    if record.status == IN_PROGRESS and record.request_hash == request_hash:
        complete(record, status, body, content_type)


def purge_expired() -> int:
    """Delete records past their keeping time; returns how many."""
    result = db().execute(delete(IdempotencyRecord)
                          .where(IdempotencyRecord.created_at < utcnow() - KEEP_FOR))
    return result.rowcount or 0
