"""Documents: adding one to a case, receiving its content, officers reading it.

Content is encrypted under a per-document data key (DEK) before it reaches the object store;
the DEK is kept only wrapped by the KEK, in the document's row. Destroying that wrapped DEK
crypto-shreds every copy of the object.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from services.audit.events import record_event
from services.cases.policy import case_for_relative, ensure_editable
from services.cases.states import EDITABLE
from services.core import runtime, unit_of_work
from services.documents.keyring import hpke_keyring
from services.documents.metadata import seal_metadata
from services.documents.numbers import document_number, document_number_hmac
from services.documents.policy import document_for_relative, document_for_staff
from services.documents.shredding import delete_object_quietly
from services.documents.uploads import (
    Expected,
    PlaintextCheck,
    checked,
    finished,
    limited,
    sealed_size_bound,
)
from storage.db import session as db, utcnow
from storage.domain_errors import (
    AccessReasonRequired,
    Gone,
    InvalidCiphertext,
    InvalidState,
    KinPassError,
    NotFound,
    PayloadTooLarge,
    SizeMismatch,
    UnsupportedMediaType,
)
from storage.envelope import decrypt_stream, encrypt_stream, new_dek, verify_stream
from storage.models.accounts import Account
from storage.models.cases import Case, Document
from storage.object_store import ObjectMissing
from storage.sealed import MEDIA_TYPE as SEALED_MEDIA_TYPE, sealed_to_stored
from storage.vocabulary import (
    AuditOutcome,
    ContentType,
    DocumentKind,
    DocumentStatus,
    Encryption,
)

log = logging.getLogger("kinpass.documents")

UPLOAD_TTL = timedelta(hours=24)
ACCESS_REASON_MIN = 10


# --- adding a document ---------------------------------------------------------------------

def add_document(*, case_id: uuid.UUID, account: Account, kind: DocumentKind,
                 content_type: ContentType, size: int, sha256: str,
                 encryption: Encryption = Encryption.SERVER, mrz: str | None = None,
                 fields: dict[str, Any] | None = None) -> Document:
    """A pending document; its content comes with the upload. The MRZ and fields (document
    number included) are sealed under the document's own key; the number is also kept as an
    HMAC, to find duplicates."""
    case = case_for_relative(case_id, account)
    ensure_editable(case)
    if size > runtime.get().settings.max_upload_bytes:
        raise PayloadTooLarge()
    number = document_number(mrz, fields)
    now = utcnow()
    document = Document(
        id=uuid.uuid4(), case_id=case.id, kind=kind, content_type=content_type, size=size,
        sha256=sha256.lower(), encryption=encryption, status=DocumentStatus.PENDING_UPLOAD,
        number_hmac=document_number_hmac(number) if number else None,
        created_at=now, upload_expires_at=now + UPLOAD_TTL)
    seal_metadata(document, mrz=mrz, fields=fields)
    db().add(document)
    db().flush()
    record_event("document.create", account, subject_type="document", subject_id=document.id,
                 document_number_hmac=document.number_hmac)
    return document


def upload_media_type(document: Document) -> str:
    """The Content-Type the upload must carry."""
    return SEALED_MEDIA_TYPE if document.encryption == Encryption.CLIENT else document.content_type


def ensure_pending(document: Document) -> None:
    """The document still waits for its content, in a case that can still be edited."""
    if document.status != DocumentStatus.PENDING_UPLOAD:
        raise InvalidState()
    ensure_editable(db().get_one(Case, document.case_id))
    if document.upload_expires_at is not None and document.upload_expires_at <= utcnow():
        raise Gone()


# --- receiving the content -----------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    """The request body as the HTTP layer hands it over: never read whole."""

    content_type: str | None
    content_length: int | None
    chunks: Iterable[bytes]


def receive_content(document_id: uuid.UUID, account: Account, upload: Upload) -> Document:
    """Validate and store a document's content in one streaming pass.

    Server encryption: the body is the file; it is hashed, sized and typed on its way into
    the segment encryptor. Client encryption: the body is the sealed container; its DEK is
    opened with the server's HPKE key, every segment is authenticated and the plaintext
    checked as it goes by, and the segments are kept as a stored container. Any failure
    aborts the object write, so nothing is stored and the document stays pending.
    """
    document = document_for_relative(document_id, account)
    ensure_pending(document)
    if upload.content_type != upload_media_type(document):
        raise UnsupportedMediaType()
    doc_id = document.id
    try:
        key, wrapped = store_content(document, upload)
    except KinPassError as exc:
        refuse_upload(doc_id, account, exc)
        raise
    return mark_stored(doc_id, account, key, wrapped)


def refuse_upload(doc_id: uuid.UUID, account: Account, exc: KinPassError) -> None:
    """A refused upload is in the audit log; the document stays pending."""
    record_event("document.upload", account, subject_type="document", subject_id=doc_id,
                 outcome=AuditOutcome.FAILURE, reason=exc.code)
    unit_of_work.keep_on_refusal()


def mark_stored(doc_id: uuid.UUID, account: Account, key: str, wrapped: bytes) -> Document:
    """The checked content at ``key`` becomes the document's: it is `stored` from now on."""
    result = db().execute(
        update(Document)
        .where(Document.id == doc_id, Document.status == DocumentStatus.PENDING_UPLOAD,
               Document.case_id.in_(select(Case.id).where(Case.status.in_(EDITABLE))))
        .values(status=DocumentStatus.STORED, object_key=key, wrapped_dek=wrapped,
                uploaded_at=utcnow(), upload_expires_at=None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # another upload won, or the case moved on meanwhile
        delete_object_quietly(key)
        raise InvalidState()
    record_event("document.upload", account, subject_type="document", subject_id=doc_id)
    return db().get_one(Document, doc_id, populate_existing=True)


def store_content(document: Document, upload: Upload) -> tuple[str, bytes]:
    """The PUT's checks and write; returns the object key and the wrapped DEK."""
    rt = runtime.get()
    limit = rt.settings.max_upload_bytes
    client_side = document.encryption == Encryption.CLIENT
    doc_id = document.id
    check = PlaintextCheck(Expected(document.size, document.sha256, document.content_type,
                                    limit))
    if client_side:
        # The header first (a bad one is 422 whatever the length), then the exact length
        # the declared size takes; the absolute bound keeps a huge body from being read.
        body_limit = sealed_size_bound(limit)
        dek, stored = sealed_to_stored(limited(upload.chunks, body_limit), hpke_keyring(),
                                       doc_id, check, plaintext_size=document.size)
        if upload.content_length is not None and upload.content_length > body_limit:
            raise PayloadTooLarge()
        container = finished(stored, check)
    else:
        if upload.content_length is not None:
            if upload.content_length > limit:
                raise PayloadTooLarge()
            if upload.content_length != document.size:
                raise SizeMismatch()
        dek = new_dek()
        container = encrypt_stream(checked(limited(upload.chunks, limit), check), dek, doc_id)
    wrapped = rt.keys.wrap(dek, doc_id.bytes)
    key = rt.objects.new_key()
    unit_of_work.release_snapshot()
    rt.objects.put_stream(key, container)
    return key, wrapped


# --- officers reading the content ----------------------------------------------------------

@dataclass(frozen=True)
class Content:
    document: Document
    chunks: Iterator[bytes]


def read_content(document_id: uuid.UUID, account: Account, reason: str | None) -> Content:
    """The decrypted content for staff, with the reason for the access in the audit log.

    The whole object is authenticated first (a first pass that keeps no plaintext); only
    then is it decrypted into the response, so no byte of a tampered object is served.
    """
    reason = (reason or "").strip()
    if len(reason) < ACCESS_REASON_MIN:
        raise AccessReasonRequired()
    document = document_for_staff(document_id, account)
    if document.status == DocumentStatus.SHREDDED:
        raise Gone()
    if document.object_key is None or document.wrapped_dek is None:
        raise NotFound()
    doc_id, key, size = document.id, document.object_key, document.size
    number_hmac = document.number_hmac
    rt = runtime.get()
    try:
        dek = rt.keys.unwrap(document.wrapped_dek, doc_id.bytes)
        unit_of_work.release_snapshot()
        if verify_stream(rt.objects.open_stream(key), dek, doc_id) != size:
            raise InvalidCiphertext("plaintext length differs from the document's size")
        chunks = decrypt_stream(rt.objects.open_stream(key), dek, doc_id)
    except (InvalidCiphertext, ObjectMissing) as exc:
        log.error("document content failed its integrity check",
                  extra={"document_id": str(doc_id), "failure": type(exc).__name__})
        record_event("document.view", account, subject_type="document", subject_id=doc_id,
                     outcome=AuditOutcome.FAILURE, reason=reason,
                     document_number_hmac=number_hmac)
        refusal = Gone if isinstance(exc, ObjectMissing) else InvalidCiphertext
        unit_of_work.keep_on_refusal()
        raise refusal() from None
    record_event("document.view", account, subject_type="document", subject_id=doc_id,
                 reason=reason, document_number_hmac=number_hmac)
    return Content(db().get_one(Document, doc_id), chunks)


