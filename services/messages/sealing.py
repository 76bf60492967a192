"""What a queued message says (recipient, subject, text, code), sealed at rest with the
shared message key (AES-256-GCM, bound to the message's id); emptied once it is delivered."""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.core import runtime

NONCE_BYTES = 12


@dataclass(frozen=True)
class Payload:
    to: str
    subject: str
    text: str
    code: str | None = None


def _aad(message_id: uuid.UUID) -> bytes:
    return b"kinpass-outbox:" + message_id.bytes


@lru_cache(maxsize=2)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def seal_payload(message_id: uuid.UUID, payload: Payload) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps({"to": payload.to, "subject": payload.subject, "text": payload.text,
                        "code": payload.code}, ensure_ascii=False).encode()
    return nonce + _aead(runtime.get().message_key()).encrypt(nonce, plain, _aad(message_id))


def open_payload(message_id: uuid.UUID, sealed: bytes) -> Payload:
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    plain = _aead(runtime.get().message_key()).decrypt(nonce, body, _aad(message_id))
    return Payload(**json.loads(plain))
