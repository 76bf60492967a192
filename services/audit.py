"""The tamper-evident audit log: events are queued in the unit of work and chained at commit.

hash = SHA-256(prev_hash bytes ‖ canonical JSON of the event), canonical JSON being the
event's fields (hash excluded) with sorted keys, no spaces, UTF-8, `at` written as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``. Every N events (or M minutes) the head is signed
(services.audit_checkpoints), so a rewrite of the whole chain is caught too.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, cast, func, insert, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from services import runtime
from services.audit_checkpoints import jwks, sign_head, signed_anchors
from storage.db import session as db, utcnow
from storage.errors import KinPassError, ServiceUnavailable
from storage.models.audit import GENESIS_HASH, AuditCheckpoint, AuditEvent, AuditHead

log = logging.getLogger("kinpass.audit")

OUTCOMES = ("success", "denied", "failure")
REASON_MAX = 2000
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID | None
    role: str


SYSTEM = Actor(None, "system")
ANONYMOUS = Actor(None, "anonymous")


@dataclass(frozen=True)
class RequestContext:
    request_id: str | None = None
    ip: str | None = None


_request: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)


def set_request_context(request_id: str | None, ip: str | None) -> None:
    _request.set(RequestContext(request_id, ip))


def actor_of(account: Any) -> Actor:
    if account is None:
        return ANONYMOUS
    if isinstance(account, Actor):
        return account
    return Actor(account.id, account.role)


# --- keeping secrets out --------------------------------------------------------------

# Ids and dates are safe to keep as written; what they surround is checked.
_SAFE = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}\b|\b\d{4}-\d{2}-\d{2}(?:T[\d:.]+Z?)?\b")
_JWS = re.compile(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_MRZ = re.compile(r"\S*<<\S*")
# Words holding digits, joined by single spaces or hyphens ("45 12 345678", "L898902C3").
_NUMBERISH = re.compile(r"[^\W_]*\d[^\W_]*(?:[ -][^\W_]*\d[^\W_]*)*")
_DIGITS_IN_A_SECRET = 6


def _redact_numbers(match: re.Match[str]) -> str:
    text = match.group()
    return REDACTED if sum(ch.isdigit() for ch in text) >= _DIGITS_IN_A_SECRET else text


def _redact(text: str) -> str:
    text = _JWS.sub(REDACTED, text)
    text = _MRZ.sub(REDACTED, text)
    return _NUMBERISH.sub(_redact_numbers, text)


def scrub(text: str) -> str:
    """A free-text reason without what looks like a token, an MRZ, a code or a document
    number (six digits or more); ids and dates stay."""
    pieces, pos = [], 0
    for safe in _SAFE.finditer(text):
        pieces += [_redact(text[pos:safe.start()]), safe.group()]
        pos = safe.end()
    pieces.append(_redact(text[pos:]))
    return "".join(pieces)[:REASON_MAX]


def normalize_identifier(value: str) -> str:
    """The form a document number is hashed in: NFKC, upper case, letters and digits only."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", value).upper() if ch.isalnum())


def searchable_hash(value: str) -> str:
    """HMAC-SHA256 (hex) of a normalised identifier, keyed from the runtime pepper: an auditor
    can look a document number up (`kinpass audit hash`) without the log holding it."""
    key = hmac.new(runtime.get().pepper, b"kinpass-audit-searchable-v1", hashlib.sha256).digest()
    return hmac.new(key, normalize_identifier(value).encode(), hashlib.sha256).hexdigest()


# --- appending ------------------------------------------------------------------------

def record_event(action: str, actor: Any = None, *, subject_type: str | None = None,
                 subject_id: Any = None, outcome: str = "success",
                 reason: str | None = None) -> None:
    """Queue an event; it is chained and written with the unit of work's commit."""
    assert outcome in OUTCOMES
    who = actor_of(actor)
    ctx = _request.get() or RequestContext()
    db().info.setdefault("audit_pending", []).append({
        "at": utcnow(), "actor_id": who.id, "actor_role": who.role, "action": action,
        "subject_type": subject_type, "subject_id": str(subject_id) if subject_id else None,
        "outcome": outcome, "reason": scrub(reason) if reason else None,
        "request_id": ctx.request_id, "ip": ctx.ip,
    })


def discard_pending(session: Session) -> None:
    session.info.pop("audit_pending", None)


def _fmt_at(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses
_CANONICAL = ('{"action":%s,"actor_id":%s,"actor_role":%s,"at":"%s","ip":%s,"outcome":%s,'
              '"prev_hash":%s,"reason":%s,"request_id":%s,"seq":%d,"subject_id":%s,'
              '"subject_type":%s}')


def _json_str(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _canonical_text(seq: int, at: str, actor_id: str | None, *rest: str | None) -> bytes:
    """json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False), unrolled;
    ``rest`` is actor_role, action, subject_type, subject_id, outcome, reason, request_id, ip,
    prev_hash."""
    (actor_role, action, subject_type, subject_id, outcome, reason, request_id, ip,
     prev_hash) = rest
    return (_CANONICAL % (
        _json_str(action), _json_str(actor_id), _json_str(actor_role), at, _json_str(ip),
        _json_str(outcome), _json_str(prev_hash), _json_str(reason), _json_str(request_id),
        seq, _json_str(subject_id), _json_str(subject_type))).encode()


def canonical(event: Mapping[str, Any]) -> bytes:
    at = event["at"]
    return _canonical_text(
        event["seq"], at if isinstance(at, str) else _fmt_at(at),
        str(event["actor_id"]) if event["actor_id"] else None, event["actor_role"],
        event["action"], event["subject_type"], event["subject_id"], event["outcome"],
        event["reason"], event["request_id"], event["ip"], event["prev_hash"])


def chain_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(event)).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    """Take the head row's lock (creating the row once, race-free) and read it fresh."""
    lock = update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq)
    if session.execute(lock).rowcount == 0:
        upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(upsert(AuditHead).values(
            id=1, seq=0, hash=GENESIS_HASH, checkpoint_seq=0, checkpoint_at=utcnow())
            .on_conflict_do_nothing())
        session.execute(lock)
    return session.execute(select(AuditHead).where(AuditHead.id == 1)
                           .execution_options(populate_existing=True)).scalar_one()


def _checkpoint_due(head: AuditHead) -> bool:
    settings = runtime.get().settings
    if head.seq <= head.checkpoint_seq:
        return False
    if head.seq - head.checkpoint_seq >= settings.audit_checkpoint_events:
        return True
    if head.checkpoint_at is None:
        return True
    return utcnow() - head.checkpoint_at >= timedelta(minutes=settings.audit_checkpoint_minutes)


def _checkpoint(session: Session, head: AuditHead) -> AuditCheckpoint:
    checkpoint = sign_head(session, head.seq, head.hash)
    head.checkpoint_seq, head.checkpoint_at = checkpoint.seq, checkpoint.at
    return checkpoint


def write_pending(session: Session) -> None:
    """Append the queued events to the chain inside the current transaction.

    The UPDATE on the head row comes first: it takes the row (PostgreSQL) or database
    (SQLite) write lock, so concurrent appenders queue and the chain never forks. If the
    events cannot be written the whole unit fails (503): an action that is not in the log
    does not happen.
    """
    pending = session.info.pop("audit_pending", None)
    if not pending:
        return
    session.flush()
    try:
        head = _lock_head(session)
        seq, prev = head.seq, head.hash
        rows = []
        for queued in pending:
            seq += 1
            event = {**queued, "seq": seq, "prev_hash": prev}
            event["hash"] = prev = chain_hash(prev, event)
            rows.append(event)
        session.execute(insert(AuditEvent), rows)
        head.seq, head.hash = seq, prev
        session.flush()
    except OperationalError:
        raise
    except SQLAlchemyError as exc:
        log.error("audit events could not be written: %s", type(exc).__name__)
        raise ServiceUnavailable("audit log unavailable") from None
    if _checkpoint_due(head):
        try:
            with session.begin_nested():
                _checkpoint(session, head)
        except (KinPassError, SQLAlchemyError) as exc:
            # The log itself is written; the signature waits for the next append.
            log.warning("audit checkpoint deferred: %s", type(exc).__name__)


def checkpoint_now(actor: Any) -> AuditCheckpoint:
    """Sign the current head on demand (the command line's `audit checkpoint`)."""
    session = db()
    head = _lock_head(session)
    checkpoint = _checkpoint(session, head)
    record_event("audit.checkpoint", actor, subject_type="audit_checkpoint",
                 subject_id=checkpoint.seq)
    return checkpoint


def checkpoint_keys() -> dict[str, Any]:
    """The JWKS that verifies checkpoints (the key is made on first use)."""
    return jwks(db())


# --- reading and verifying ------------------------------------------------------------

EVENT_COLUMNS = ("seq", "at", "actor_id", "actor_role", "action", "subject_type",
                 "subject_id", "outcome", "reason", "request_id", "ip", "prev_hash", "hash")
_COLUMNS = [getattr(AuditEvent, name) for name in EVENT_COLUMNS]


def event_dict(row: Any) -> dict[str, Any]:
    return {c: getattr(row, c) for c in EVENT_COLUMNS}


def plain_event(row: Any) -> dict[str, Any]:
    """The event as exported: the canonical field values plus its hash."""
    event = event_dict(row)
    event["at"] = _fmt_at(event["at"])
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
    end = _head(session)[0] if upto is None else upto
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


def _head(session: Session) -> tuple[int, str]:
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
        return _fmt_at(value)
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
    head_seq, head_hash = _head(session)
    anchors = anchors or {}
    sha256, fromhex, at_text, uuid_text = hashlib.sha256, bytes.fromhex, _at_text, _uuid_text
    query = select(*_walk_columns(session.get_bind().dialect.name))
    prev, expected = GENESIS_HASH, 1
    for (seq, at, actor_id, actor_role, action, subject_type, subject_id, outcome, reason,
         request_id, ip, prev_hash, row_hash) in iter_events(session, upto=head_seq,
                                                             query=query, release=release):
        body = _canonical_text(seq, at_text(at), uuid_text(actor_id), actor_role, action,
                               subject_type, subject_id, outcome, reason, request_id, ip,
                               prev_hash)
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
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select) -> Select:
        for column, value in ((AuditEvent.actor_id, self.actor_id),
                              (AuditEvent.action, self.action),
                              (AuditEvent.subject_type, self.subject_type),
                              (AuditEvent.subject_id, self.subject_id)):
            if value is not None:
                query = query.where(column == value)
        if self.since is not None:
            query = query.where(AuditEvent.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEvent.at < self.until)
        return query

    def describe(self) -> str:
        return " ".join(f"{name}={value.isoformat() if isinstance(value, datetime) else value}"
                        for name, value in vars(self).items() if value is not None)


def _record_read(actor: Any, what: str, filters: EventFilter | None = None) -> None:
    record_event("audit.read", actor, subject_type="audit", subject_id=what,
                 reason=(filters.describe() or None) if filters else None)


def events_query(actor: Any, filters: EventFilter) -> Select:
    """The auditor's event search (paged by the caller on seq); the search is audited."""
    _record_read(actor, "events", filters)
    return filters.apply(select(AuditEvent))


def checkpoints_query(actor: Any) -> Select:
    _record_read(actor, "checkpoints")
    return select(AuditCheckpoint)


def export_events(actor: Any, filters: EventFilter, batch: int = 2000) -> Iterator[dict]:
    """Record the export now; the returned iterator streams events up to today's head on its
    own connection, a batch at a time (constant memory however long the log)."""
    _record_read(actor, "export", filters)
    engine = db().get_bind()
    upto = _head(db())[0]

    def stream() -> Iterator[dict]:
        with Session(engine) as session:
            query = filters.apply(select(*_COLUMNS))
            for row in iter_events(session, batch, upto=upto, query=query, release=True):
                yield plain_event(row)

    return stream()
