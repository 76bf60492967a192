"""Reading the audit log back: walking and verifying the chain, the auditor's searches and the
streamed export. The auditor's reads are themselves recorded in the log (services.audit.events).
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from services.audit.checkpoints import signed_anchors
from services.audit.events import canonical_text, format_at, record_event
from storage.db import session as db
from storage.models.audit import GENESIS_HASH, AuditCheckpoint, AuditEvent, AuditHead
from storage.paging import Page, paginate

EVENT_COLUMNS = ("seq", "at", "actor_id", "actor_role", "action", "subject_type",
                 "subject_id", "outcome", "reason", "document_number_hmac", "request_id", "ip",
                 "prev_hash", "hash")
_COLUMNS = [getattr(AuditEvent, name) for name in EVENT_COLUMNS]


def event_dict(row: Any) -> dict[str, Any]:
    return {c: getattr(row, c) for c in EVENT_COLUMNS}


def plain_event(row: Any) -> dict[str, Any]:
    """The event as exported: the canonical field values plus its hash."""
    event = event_dict(row)
    event["at"] = format_at(event["at"])
    event["actor_id"] = str(event["actor_id"]) if event["actor_id"] else None
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None


def iter_events(session: Session, batch: int = 10_000, *, upto: int | None = None,
                query: Select | None = None, release: bool = False) -> Iterator[Any]:
    """Rows (named tuples of EVENT_COLUMNS) with seq 1..upto (default: the head) in seq order.

    seqs are dense, so each batch is the window ``seq in (low, low + batch]``: the index
    range is exact whatever the planner's statistics say. ``release`` ends the read
    transaction between batches so a long walk never holds the database (SQLite takes its
    write lock when a transaction begins).
    """
    base = query if query is not None else select(*_COLUMNS)
    end = head_of(session)[0] if upto is None else upto
    low = 0
    while low < end:
        high = min(low + batch, end)
        rows = session.connection().execute(
            base.where(AuditEvent.seq > low, AuditEvent.seq <= high)
            .order_by(AuditEvent.seq)).all()
        if release:
            session.rollback()
        yield from rows
        low = high


def head_of(session: Session) -> tuple[int, str]:
    row = session.execute(select(AuditHead.seq, AuditHead.hash)
                          .where(AuditHead.id == 1)).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


def _walk_columns(dialect: str) -> list[Any]:
    """The event's columns as the chain hashes them, formatted by the database itself
    (`at` as canonical text, `actor_id` as text), so a long walk builds no Python objects."""
    columns = list(_COLUMNS)
    if dialect == "postgresql":
        columns[1] = func.to_char(func.timezone("UTC", AuditEvent.at),
                                  'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        columns[2] = cast(AuditEvent.actor_id, String)
    elif dialect == "sqlite":
        columns[1] = type_coerce(AuditEvent.at, String)
        columns[2] = type_coerce(AuditEvent.actor_id, String)
    return columns


def _at_text(value: Any) -> str:
    if isinstance(value, datetime):
        return format_at(value)
    if len(value) == 26 and value[10] == " ":  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff"
        return value[:10] + "T" + value[11:] + "Z"
    return value


def _uuid_text(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and len(value) == 36):
        return value
    if isinstance(value, str) and len(value) == 32:  # SQLite keeps the bare hex
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(uuid.UUID(str(value)))


def verify_chain(session: Session, *, anchors: Mapping[int, str] | None = None,
                 release: bool = False) -> ChainReport:
    """Walk the chain up to the head in seq order; the first row whose seq, link or hash is
    wrong — or whose hash differs from a signed checkpoint (``anchors``) — is named."""
    head_seq, head_hash = head_of(session)
    anchors = anchors or {}
    sha256, fromhex, at_text, uuid_text = hashlib.sha256, bytes.fromhex, _at_text, _uuid_text
    query = select(*_walk_columns(session.get_bind().dialect.name))
    prev, expected = GENESIS_HASH, 1
    for (seq, at, actor_id, actor_role, action, subject_type, subject_id, outcome, reason,
         number_hmac, request_id, ip, prev_hash, row_hash) in iter_events(
            session, upto=head_seq, query=query, release=release):
        body = canonical_text(seq, at_text(at), uuid_text(actor_id), actor_role, action,
                               subject_type, subject_id, outcome, reason, number_hmac,
                               request_id, ip, prev_hash)
        if (seq != expected or prev_hash != prev
                or sha256(fromhex(prev) + body).hexdigest() != row_hash
                or anchors.get(seq, row_hash) != row_hash):
            return ChainReport(False, expected - 1, expected - 1, prev, expected)
        prev, expected = row_hash, expected + 1
    count = expected - 1
    beyond = [seq for seq in anchors if seq > count]
    if count != head_seq or prev != head_hash or beyond:
        bad = count if count == head_seq and prev != head_hash else count + 1
        return ChainReport(False, count, count, prev, bad)
    return ChainReport(True, count, count, prev, None)


def verify_log(actor: Any) -> ChainReport:
    """The one verification the API and the command line share: the chain, anchored by the
    signed checkpoints; the read itself is audited. It changes nothing, so the walk may end
    its read transaction between batches instead of holding the database for a long log."""
    record_event("audit.read", actor, subject_type="audit", subject_id="verify")
    session = db()
    return verify_chain(session, anchors=signed_anchors(session), release=True)


@dataclass(frozen=True)
class EventFilter:
    actor_id: uuid.UUID | None = None
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    document_number_hmac: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select) -> Select:
        for column, value in ((AuditEvent.actor_id, self.actor_id),
                              (AuditEvent.action, self.action),
                              (AuditEvent.subject_type, self.subject_type),
                              (AuditEvent.subject_id, self.subject_id),
                              (AuditEvent.document_number_hmac, self.document_number_hmac)):
            if value is not None:
                query = query.where(column == value)
        if self.since is not None:
            query = query.where(AuditEvent.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEvent.at < self.until)
        return query

    def describe(self) -> str:
        """The search as text, for the read's own event (the document number's HMAC has its
        own field there)."""
        return " ".join(f"{name}={value.isoformat() if isinstance(value, datetime) else value}"
                        for name, value in vars(self).items()
                        if value is not None and name != "document_number_hmac")


def _record_read(actor: Any, what: str, filters: EventFilter | None = None) -> None:
    record_event("audit.read", actor, subject_type="audit", subject_id=what,
                 reason=(filters.describe() or None) if filters else None,
                 document_number_hmac=filters.document_number_hmac if filters else None)


def list_audit_events(actor: Any, filters: EventFilter, *, cursor: str | None,
                      limit: int) -> Page[AuditEvent]:
    """The auditor's event search, oldest first; the search is audited."""
    _record_read(actor, "events", filters)
    return paginate(filters.apply(select(AuditEvent)), [AuditEvent.seq], cursor, limit)


def list_audit_checkpoints(actor: Any, *, cursor: str | None,
                           limit: int) -> Page[AuditCheckpoint]:
    """The signed heads of the log, oldest first; the read is audited."""
    _record_read(actor, "checkpoints")
    return paginate(select(AuditCheckpoint), [AuditCheckpoint.seq], cursor, limit)


def export_events(actor: Any, filters: EventFilter, batch: int = 2000) -> Iterator[dict]:
    """Record the export now; the returned iterator streams events up to today's head on its
    own connection, a batch at a time (constant memory however long the log)."""
    _record_read(actor, "export", filters)
    engine = db().get_bind()
    upto = head_of(db())[0]

    def stream() -> Iterator[dict]:
        with Session(engine) as session:
            query = filters.apply(select(*_COLUMNS))
            for row in iter_events(session, batch, upto=upto, query=query, release=True):
                yield plain_event(row)

    return stream()
