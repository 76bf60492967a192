"""`kinpass gc`: expired uploads, orphaned objects and retention. Idempotent; audited as the
acting system.

- A pending upload whose time has run out goes, row and any object; so does a resumable
  upload past its time (or whose document no longer waits), with its staged file or its
  S3 multipart upload and tail.
- An object no row refers to goes once it is older than ORPHAN_AGE (an upload in flight
  writes its object before its row refers to it), and so do the leftovers of writes whose
  process died (temp files, incomplete multipart uploads).
- Documents of closed cases (completed, rejected, withdrawn) are shredded once the case has
  been closed for the retention period, and so are their authorizations' tokens.
- What is left of a message sent or failed (its delivery state) goes after the retention
  period too.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import select

from auth.ratelimit import purge_counters
from services.accounts import housekeeping
from services.accounts.contacts import HOUR
from services.audit.events import SYSTEM, record_event
from services.authorizations.sealing import shred_case_authorizations
from services.cases.states import CLOSED
from services.core import idempotency, runtime
from services.documents.resumable import collect_uploads
from services.documents.shredding import forget_object_after_commit, shred_document
from services.messages.delivery import forget_delivered
from storage.db import session as db, utcnow
from storage.models.authorizations import Authorization
from storage.models.cases import Case, Document
from storage.vocabulary import DocumentStatus

ORPHAN_AGE = timedelta(hours=1)
BATCH = 500


@dataclass
class GcReport:
    expired_uploads: int = 0
    expired_resumable_uploads: int = 0
    orphaned_objects: int = 0
    incomplete_writes: int = 0
    retention_shredded: int = 0
    authorizations_shredded: int = 0
    messages_forgotten: int = 0
    idempotency_records: int = 0
    rate_counters: int = 0
    codes: int = 0
    registrations: int = 0
    sessions: int = 0


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(items, size)):
        yield batch


def _remove_expired_uploads(now: datetime) -> int:
    expired = db().execute(select(Document).where(
        Document.status == DocumentStatus.PENDING_UPLOAD,
        Document.upload_expires_at <= now)).scalars().all()
    for document in expired:
        if document.object_key:
            forget_object_after_commit(document.object_key)
        db().delete(document)
    db().flush()
    return len(expired)


def _shred_past_retention(now: datetime, actor: Any) -> int:
    cutoff = now - timedelta(days=runtime.get().settings.retention_days)
    due = db().execute(
        select(Document).join(Case, Case.id == Document.case_id)
        .where(Case.status.in_(CLOSED), Case.closed_at <= cutoff,
               Document.status != DocumentStatus.SHREDDED)).scalars().all()
    for document in due:
        shred_document(document, actor)
    return len(due)


def _shred_authorizations_past_retention(now: datetime, actor: Any) -> int:
    cutoff = now - timedelta(days=runtime.get().settings.retention_days)
    due = db().execute(
        select(Case).where(Case.status.in_(CLOSED), Case.closed_at <= cutoff,
                           Case.id.in_(select(Authorization.case_id)
                                       .where(Authorization.shredded_at.is_(None))))
    ).scalars().all()
    return sum(shred_case_authorizations(case, actor) for case in due)


def _delete_orphans(now: datetime) -> int:
    store = runtime.get().objects
    old = ((key, at) for key, at in store.iter_objects("docs/") if at < now - ORPHAN_AGE)
    deleted = 0
    for batch in _batches(old, BATCH):
        keys = [key for key, _ in batch]
        referenced = set(db().execute(
            select(Document.object_key).where(Document.object_key.in_(keys))).scalars())
        for key in keys:
            if key not in referenced:
                store.delete(key)
                deleted += 1
    return deleted


def collect_garbage(actor: Any = SYSTEM, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    # Orphans first, judged on what is committed: objects let go below are deleted only
    # after this run commits.
    resumable, in_flight = collect_uploads(now)
    report = GcReport(orphaned_objects=_delete_orphans(now),
                      incomplete_writes=runtime.get().objects.sweep_incomplete(
                          now - ORPHAN_AGE, keep=in_flight),
                      expired_resumable_uploads=resumable)
    report.expired_uploads = _remove_expired_uploads(now)
    report.retention_shredded = _shred_past_retention(now, actor)
    report.authorizations_shredded = _shred_authorizations_past_retention(now, actor)
    report.messages_forgotten = forget_delivered(
        now - timedelta(days=runtime.get().settings.retention_days))
    report.idempotency_records = idempotency.purge_expired()
    report.rate_counters = purge_counters(now.timestamp(), HOUR)
    report.codes = housekeeping.purge_dead_codes(now)
    report.registrations = housekeeping.purge_old_registrations(now)
    report.sessions = housekeeping.purge_dead_sessions(now)
    counts = asdict(report)
    record_event("gc.run", actor, subject_type="gc",
                 reason=", ".join(f"{name}={n}" for name, n in counts.items()))
    return counts
