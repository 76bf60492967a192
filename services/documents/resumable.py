"""Resumable uploads (tus 1.0): creating one, taking its chunks, finishing it with the PUT's
checks, ending it.

What is kept between requests is ciphertext only (storage.staging). Server encryption: the
plaintext is sealed as it arrives into whole KPS1 segments under the document's DEK; the
bytes of a chunk that do not fill a segment are not kept, so the offset a client resumes from
is always the end of the last whole segment (the last chunk seals its tail as the final
segment). Client encryption: the client's sealed container is kept as it arrives, every byte.
The last byte makes the staged object whole, and the content is checked exactly as a PUT
would check it, streaming: only then is the document `stored`.
"""
from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from services.core import runtime, unit_of_work
from services.documents.operations import (
    Upload,
    ensure_pending,
    mark_stored,
    refuse_upload,
    store_content,
    upload_media_type,
)
from services.documents.policy import document_for_relative
from services.documents.shredding import delete_object_quietly
from services.documents.uploads import Expected, PlaintextCheck, sealed_size_bound
from storage.db import session as db, utcnow
from storage.domain_errors import (
    ChunkChecksumMismatch,
    Conflict,
    Gone,
    KinPassError,
    NotFound,
    OffsetMismatch,
    PayloadTooLarge,
    SizeMismatch,
    StorageUnavailable,
)
from storage.envelope import (
    DEFAULT_SEGMENT_SIZE,
    SegmentEncryptor,
    StreamHeader,
    decrypt_stream,
    new_dek,
)
from storage.models.accounts import Account
from storage.models.cases import Document
from storage.models.uploads import ResumableUpload
from storage.staging import Stage, staging_for, tails_of
from storage.vocabulary import DocumentStatus, Encryption

UPLOAD_TTL = timedelta(hours=24)
SEGMENT_SIZE = DEFAULT_SEGMENT_SIZE


def max_upload_length() -> int:
    """The largest Upload-Length taken (a sealed container of the largest document)."""
    return sealed_size_bound(runtime.get().settings.max_upload_bytes)


def _stage(upload: ResumableUpload) -> Stage:
    return Stage(key=upload.object_key, upload_name=upload.id.hex, stored=upload.stored,
                 multipart_id=upload.multipart_id,
                 parts=tuple(upload.parts.split()), tail_key=upload.tail_key)


def _discard_after_commit(stage: Stage, *, completed: bool = False) -> None:
    """The stage goes once the change that forgets it is committed (gc is the backstop);
    of a ``completed`` one only the tails are left to delete."""
    store = runtime.get().objects

    def discard() -> None:
        try:
            if not completed:
                staging_for(store).discard(stage)
            for key in tails_of(store, stage.upload_name):
                store.delete(key)
        except StorageUnavailable:
            pass  # expired uploads are swept by `kinpass gc`

    unit_of_work.after_commit(discard)


# --- creating, reading, ending -------------------------------------------------------------

def create_upload(document_id: uuid.UUID, account: Account, length: int) -> ResumableUpload:
    """A new tus upload of the document's content: ``length`` bytes of the file (server
    encryption) or of the sealed container (client encryption)."""
    document = document_for_relative(document_id, account)
    ensure_pending(document)
    rt = runtime.get()
    limit = rt.settings.max_upload_bytes
    if document.encryption == Encryption.CLIENT:
        if length > sealed_size_bound(min(document.size, limit)):
            raise PayloadTooLarge()
    elif length > limit:
        raise PayloadTooLarge()
    elif length != document.size:
        raise SizeMismatch()
    now = utcnow()
    expires = now + UPLOAD_TTL
    if document.upload_expires_at is not None:
        expires = min(expires, document.upload_expires_at)
    upload = ResumableUpload(id=uuid.uuid4(), document_id=document.id, account_id=account.id,
                             length=length, offset=0, stored=0, parts="",
                             created_at=now, expires_at=expires)
    if document.encryption == Encryption.CLIENT:
        upload.object_key = f"uploads/{upload.id.hex}"
    else:
        upload.object_key = rt.objects.new_key()
        upload.wrapped_dek = rt.keys.wrap(new_dek(), document.id.bytes)
        upload.nonce_prefix = StreamHeader.generate(SEGMENT_SIZE).nonce_prefix
    db().add(upload)
    db().flush()
    return upload


def upload_for(upload_id: uuid.UUID, account: Account) -> ResumableUpload:
    """The account's own upload, while it may still go on; anyone else's is 404."""
    upload = db().get(ResumableUpload, upload_id)
    if upload is None or upload.account_id != account.id:
        raise NotFound()
    if upload.expires_at <= utcnow():
        raise Gone()
    return upload


def end_upload(upload_id: uuid.UUID, account: Account) -> None:
    """tus termination: the upload and what it had kept go."""
    upload = upload_for(upload_id, account)
    _discard_after_commit(_stage(upload))
    db().delete(upload)
    db().flush()


# --- taking a chunk ------------------------------------------------------------------------

@dataclass(frozen=True)
class Chunk:
    """One PATCH as the HTTP layer hands it over. ``body`` ends early, without raising, when
    the client goes away; ``cut`` then says so."""

    offset: int
    content_length: int | None
    checksum: bytes | None  # the SHA-256 the client declared for this chunk
    body: Iterable[bytes]
    cut: Callable[[], bool]


@dataclass(frozen=True)
class Progress:
    offset: int
    expires_at: datetime
    document: Document | None = None  # set once the last byte made the document stored


class _Feed:
    """The chunk's bytes, counted and bounded; a declared checksum is verified before the
    iterator ends, so a mismatching chunk (or one cut short) is never kept."""

    def __init__(self, chunk: Chunk, remaining: int) -> None:
        self._chunk = chunk
        self._remaining = remaining
        self.received = 0

    def __iter__(self) -> Iterator[bytes]:
        declared = self._chunk.checksum
        digest = hashlib.sha256() if declared is not None else None
        for data in self._chunk.body:
            self.received += len(data)
            if self.received > self._remaining:
                raise PayloadTooLarge()
            if digest is not None:
                digest.update(data)
            yield data
        if digest is not None and declared is not None and (
                self._chunk.cut() or not hmac.compare_digest(digest.digest(), declared)):
            raise ChunkChecksumMismatch()


def _sealed(feed: _Feed, encryptor: SegmentEncryptor, first: bool,
            last: Callable[[], bool]) -> Iterator[bytes]:
    if first:
        yield encryptor.header()
    for data in feed:
        out = encryptor.update(data)
        if out:
            yield out
    if last():
        yield encryptor.finalize()


def receive_chunk(upload_id: uuid.UUID, account: Account, chunk: Chunk) -> Progress:
    """Append one PATCH at the upload's offset; the last byte finishes the upload."""
    upload = upload_for(upload_id, account)
    document = db().get_one(Document, upload.document_id)
    ensure_pending(document)
    if chunk.offset != upload.offset:
        raise OffsetMismatch()
    remaining = upload.length - upload.offset
    if chunk.content_length is not None and chunk.content_length > remaining:
        raise PayloadTooLarge()
    rt = runtime.get()
    doc_id, offset, length, expires = document.id, upload.offset, upload.length, upload.expires_at
    stage, wrapped = _stage(upload), upload.wrapped_dek
    feed = _Feed(chunk, remaining)
    staging = staging_for(rt.objects)
    if wrapped is None:
        staged: Iterable[bytes] = feed
        encryptor = None
    else:
        encryptor = SegmentEncryptor(rt.keys.unwrap(wrapped, doc_id.bytes), doc_id,
                                     segment_size=SEGMENT_SIZE,
                                     nonce_prefix=upload.nonce_prefix,
                                     first_segment=offset // SEGMENT_SIZE)
        staged = _sealed(feed, encryptor, offset == 0,
                         lambda: offset + feed.received == length)
    unit_of_work.release_snapshot()
    moved = staging.append(stage, staged)
    new_offset = offset + feed.received - (encryptor.buffered if encryptor else 0)
    if new_offset == length:
        return Progress(length, expires, _finish(upload_id, account, moved, wrapped))
    result = db().execute(
        update(ResumableUpload)
        .where(ResumableUpload.id == upload_id, ResumableUpload.offset == offset)
        .values(offset=new_offset, stored=moved.stored, multipart_id=moved.multipart_id,
                parts="\n".join(moved.parts), tail_key=moved.tail_key)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict()
    if stage.tail_key and stage.tail_key != moved.tail_key:
        tail = stage.tail_key
        unit_of_work.after_commit(lambda: delete_object_quietly(tail))
    return Progress(new_offset, expires)


# --- the last byte -------------------------------------------------------------------------

def _finish(upload_id: uuid.UUID, account: Account, stage: Stage,
            wrapped: bytes | None) -> Document:
    """Make the staged object whole and check it as the plain PUT checks its body."""
    rt = runtime.get()
    staged_key = staging_for(rt.objects).complete(stage)
    document = db().get_one(Document, db().get_one(ResumableUpload, upload_id).document_id)
    doc_id = document.id
    try:
        if wrapped is None:
            sealed = rt.objects.open_stream(staged_key)
            key, wrapped = store_content(document, Upload(upload_media_type(document),
                                                          stage.stored, sealed))
            delete_object_quietly(staged_key)
        else:
            key = staged_key
            _check_plaintext(document, key, rt.keys.unwrap(wrapped, doc_id.bytes))
    except KinPassError as exc:
        delete_object_quietly(staged_key)
        _forget(upload_id, stage)
        refuse_upload(doc_id, account, exc)
        raise
    _forget(upload_id, stage)
    return mark_stored(doc_id, account, key, wrapped)


def _check_plaintext(document: Document, key: str, dek: bytes) -> None:
    """The PUT's plaintext checks (size, SHA-256, type), over the stored object decrypted
    as it streams by: nothing of it is kept in memory."""
    rt = runtime.get()
    check = PlaintextCheck(Expected(document.size, document.sha256, document.content_type,
                                    rt.settings.max_upload_bytes))
    doc_id = document.id
    unit_of_work.release_snapshot()
    for plaintext in decrypt_stream(rt.objects.open_stream(key), dek, doc_id):
        check(plaintext)
    check.finish()


def _forget(upload_id: uuid.UUID, stage: Stage) -> None:
    db().execute(delete(ResumableUpload).where(ResumableUpload.id == upload_id))
    _discard_after_commit(stage, completed=True)


# --- kinpass gc ----------------------------------------------------------------------------

def collect_uploads(now: datetime) -> tuple[int, frozenset[str]]:
    """Forget uploads past their time or whose document no longer waits; returns how many,
    and the multipart uploads of those still in flight (which must not be swept)."""
    rows = db().execute(
        select(ResumableUpload, Document.status)
        .join(Document, Document.id == ResumableUpload.document_id)).all()
    removed = 0
    live: set[str] = set()
    for upload, status in rows:
        if upload.expires_at <= now or status != DocumentStatus.PENDING_UPLOAD:
            _discard_after_commit(_stage(upload))
            db().delete(upload)
            removed += 1
        elif upload.multipart_id:
            live.add(upload.multipart_id)
    db().flush()
    return removed, frozenset(live)
