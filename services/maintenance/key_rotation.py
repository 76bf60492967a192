"""KEK rotation: re-wrap every key the server keeps wrapped, documents' data and metadata keys
among them."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute

from services.accounts.staff import rewrap_totp_secrets
from services.audit.checkpoints import rewrap_checkpoint_keys
from services.audit.events import record_event
from services.authorizations.signing_keys import rewrap_signing_keys
from services.core import runtime
from services.core.secrets import rewrap_secrets
from services.documents.keyring import hpke_keyring
from services.documents.metadata import key_context as metadata_key_context
from storage.db import session as db
from storage.keys import LocalFileKeyProvider, wrapped_kid
from storage.models.cases import Document

REWRAP_BATCH = 500


def _rewrap_documents(column: InstrumentedAttribute[bytes | None],
                      context: Callable[[uuid.UUID], bytes], active: str) -> int:
    """Re-wrap one wrapped-key column of every document, a batch at a time."""
    keys = runtime.get().keys
    rewrapped, last = 0, None
    while True:
        query = (select(Document.id, column).where(column.is_not(None))
                 .order_by(Document.id).limit(REWRAP_BATCH))
        if last is not None:
            query = query.where(Document.id > last)
        rows = db().execute(query).all()
        if not rows:
            break
        for doc_id, wrapped in rows:
            if wrapped_kid(wrapped) != active:
                db().execute(update(Document).where(Document.id == doc_id)
                             .values({column: keys.rewrap(wrapped, context(doc_id))}))
                rewrapped += 1
        last = rows[-1][0]
    return rewrapped


def rotate_kek(actor: Any) -> dict[str, Any]:
    """A new active KEK (local keyring file; an environment or KMS KEK rotates in its own
    configuration), then every key the server keeps wrapped re-wrapped under it: document
    data and metadata keys, HPKE, signing and audit checkpoint keys, staff TOTP secrets and
    the service secrets (the HMAC key, the keys sealing messages and authorization tokens).
    Content is not touched. Blobs already under the active KEK are skipped, so a re-run
    finishes an interrupted one."""
    keys = runtime.get().keys
    active = keys.rotate() if isinstance(keys, LocalFileKeyProvider) else keys.active_kid
    counts = {
        "data_keys": _rewrap_documents(Document.wrapped_dek, lambda doc_id: doc_id.bytes,
                                       active),
        "metadata_keys": _rewrap_documents(Document.meta_key_wrapped, metadata_key_context,
                                           active),
        "hpke_keys": hpke_keyring().rewrap(),
        "signing_keys": rewrap_signing_keys(actor),
        "audit_keys": rewrap_checkpoint_keys(db()),
        "totp_secrets": rewrap_totp_secrets(),
        "service_secrets": rewrap_secrets(keys),
    }
    db().flush()
    record_event("kek.rotate", actor, subject_type="kek", subject_id=active,
                 reason=", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.items())
                 + " re-wrapped")
    return {"kid": active, **counts}
