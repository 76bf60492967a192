"""Shredding: a document's keys destroyed at once, its object deleted after the commit."""
from __future__ import annotations

import logging
import uuid
from typing import Any

from services.audit.events import record_event
from services.cases.policy import ensure_editable
from services.cases.requirements import documents_of
from services.core import runtime, unit_of_work
from services.documents.policy import document_for_relative
from storage.db import session as db, utcnow
from storage.domain_errors import StorageUnavailable
from storage.models.accounts import Account
from storage.models.cases import Case, Document
from storage.vocabulary import DocumentStatus

log = logging.getLogger("kinpass.documents")


def delete_object_quietly(key: str) -> None:
    try:
        runtime.get().objects.delete(key)
    except StorageUnavailable:
        log.warning("object left for gc")


def _shred(document: Document) -> None:
    """Destroy the wrapped DEK and metadata key (content, MRZ and fields are unrecoverable
    from then on); the object goes after the commit, or with `kinpass gc`."""
    if document.object_key:
        forget_object_after_commit(document.object_key)
    document.status = DocumentStatus.SHREDDED
    document.wrapped_dek = None
    document.object_key = None
    document.meta_sealed = None
    document.meta_key_wrapped = None
    document.number_hmac = None
    document.upload_expires_at = None
    document.shredded_at = utcnow()
    db().flush()


def shred_document(document: Document, actor: Any) -> None:
    if document.status == DocumentStatus.SHREDDED:
        return
    _shred(document)
    record_event("document.shred", actor, subject_type="document", subject_id=document.id)


def shred_case_documents(case: Case, actor: Any) -> int:
    """Shred every document of ``case`` (withdrawal, retention); returns how many."""
    shredded = 0
    for document in documents_of(case):
        if document.status != DocumentStatus.SHREDDED:
            shred_document(document, actor)
            shredded += 1
    return shredded


def delete_document(document_id: uuid.UUID, account: Account) -> None:
    """The relative's DELETE: only while the case can be edited; a shredded one stays so."""
    document = document_for_relative(document_id, account)
    ensure_editable(db().get_one(Case, document.case_id))
    if document.status != DocumentStatus.SHREDDED:
        _shred(document)
    record_event("document.delete", account, subject_type="document", subject_id=document.id)


def forget_object_after_commit(key: str) -> None:
    """Delete ``key`` from the object store once the unit of work has committed (best
    effort: `kinpass gc` deletes what is left)."""
    unit_of_work.after_commit(lambda: delete_object_quietly(key))
