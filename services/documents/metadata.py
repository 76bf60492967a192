"""What a relative declared about a document (its MRZ and typed fields), sealed at rest.

Each document has a random metadata key of its own, kept only wrapped by the KEK (context
``doc-meta:`` + the document id). The metadata is AES-256-GCM over the canonical JSON of
``{"fields": ..., "mrz": ...}`` with the document id as associated data, stored as
nonce (12) || ciphertext || tag (16). Shredding a document destroys the wrapped key, so its
MRZ and fields are unrecoverable from then on. Every reader goes through
``document_metadata``.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.core import runtime
from storage.domain_errors import InvalidCiphertext
from storage.models.cases import Document

KEY_BYTES = 32
NONCE_BYTES = 12


@dataclass(frozen=True)
class DocumentMetadata:
    mrz: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def key_context(document_id: uuid.UUID) -> bytes:
    return b"doc-meta:" + document_id.bytes


def _canonical(mrz: str | None, fields: dict[str, Any]) -> bytes:
    return json.dumps({"fields": fields, "mrz": mrz}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


def seal_metadata(document: Document, *, mrz: str | None,
                  fields: dict[str, Any] | None) -> None:
    """Encrypt ``mrz`` and ``fields`` (document number included) into ``document``'s row
    under a fresh key of its own."""
    if document.id is None:
        document.id = uuid.uuid4()
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    document.meta_sealed = nonce + AESGCM(key).encrypt(
        nonce, _canonical(mrz, dict(fields or {})), document.id.bytes)
    document.meta_key_wrapped = runtime.get().keys.wrap(key, key_context(document.id))


def document_metadata(document: Document) -> DocumentMetadata:
    """The document's MRZ and fields; nothing for a shredded document (its key is gone)."""
    if document.meta_sealed is None or document.meta_key_wrapped is None:
        return DocumentMetadata()
    key = runtime.get().keys.unwrap(document.meta_key_wrapped, key_context(document.id))
    sealed = document.meta_sealed
    if len(key) != KEY_BYTES or len(sealed) < NONCE_BYTES + 16:
        raise InvalidCiphertext("sealed document metadata is malformed")
    try:
        plain = AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                    document.id.bytes)
    except InvalidTag:
        raise InvalidCiphertext("document metadata failed authentication") from None
    value = json.loads(plain)
    return DocumentMetadata(mrz=value["mrz"], fields=value["fields"])
