"""The tamper-evident audit log: events are queued in the unit of work and chained at commit.

hash = SHA-256(prev_hash bytes ‖ canonical JSON of the event), canonical JSON being the
event's fields (hash excluded, and document_number_hmac when null) with sorted keys, no
spaces, UTF-8, `at` written as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (docs/audit.md). Every N
events (or M minutes) the head is signed (services.audit.checkpoints), so a rewrite of the
whole chain is caught too. Reading the log
back and verifying the chain is services.audit.reading.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from services.audit import tree, witness
from services.audit.checkpoints import jwks, sign_head, sign_tree_head
from services.core import runtime, unit_of_work
from services.core.unit_of_work import AuditEntry
from storage.db import session as db, utcnow
from storage.domain_errors import KinPassError, ServiceUnavailable
from storage.limits import REASON_MAX
from storage.models.audit import (
    GENESIS_HASH,
    AuditCheckpoint,
    AuditEvent,
    AuditHead,
    AuditTreeHead,
)
from storage.vocabulary import AuditOutcome, ServiceActor

log = logging.getLogger("kinpass.audit")

REDACTED = "[redacted]"


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID | None
    role: str


SYSTEM = Actor(None, ServiceActor.SYSTEM)
ANONYMOUS = Actor(None, ServiceActor.ANONYMOUS)


@dataclass(frozen=True)
class RequestContext:
    request_id: str | None = None
    ip: str | None = None


_request: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)


def set_request_context(request_id: str | None, ip: str | None) -> None:
    _request.set(RequestContext(request_id, ip))


def request_context() -> RequestContext:
    return _request.get() or RequestContext()


def actor_of(account: Any) -> Actor:
    if account is None:
        return ANONYMOUS
    if isinstance(account, Actor):
        return account
    return Actor(account.id, account.role)


# --- keeping secrets out --------------------------------------------------------------

# Ids and dates are safe to keep as written; what they surround is checked.
_SAFE = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}\b|\b\d{4}-\d{2}-\d{2}(?:T[\d:.]+Z?)?\b"
                   r"|\b(?:0[1-9]|[12]\d|3[01])\.(?:0[1-9]|1[0-2])\.(?:19|20)\d{2}\b(?![./_-]\d)")
_JWS = re.compile(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# An MRZ, or any piece of one: a filler '<' against a letter, a digit or another filler.
_MRZ = re.compile(r"\S*(?:<<|[A-Za-z0-9]<|<[A-Za-z0-9])\S*")
# Words holding digits, joined by single spaces, hyphens, dots, slashes or underscores
# ("45 12 345678", "45.12.345678", "AB/123/456", "L898902C3").
_NUMBERISH = re.compile(r"[^\W_]*\d[^\W_]*(?:[ ./_-][^\W_]*\d[^\W_]*)*")
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
                 subject_id: Any = None, outcome: AuditOutcome = AuditOutcome.SUCCESS,
                 reason: str | None = None, document_number_hmac: str | None = None) -> None:
    """Queue an event; it is chained and written with the unit of work's commit. ``reason`` is
    kept as the actor gave it, scrubbed; ``document_number_hmac`` is the `searchable_hash` of
    the document number the event concerns (`kinpass audit hash` gives it for a number)."""
    who = actor_of(actor)
    ctx = request_context()
    unit_of_work.queue_event(AuditEntry(
        at=utcnow(), actor_id=who.id, actor_role=str(who.role), action=action,
        subject_type=subject_type, subject_id=str(subject_id) if subject_id else None,
        outcome=AuditOutcome(outcome).value, reason=(scrub(reason) or None) if reason else None,
        document_number_hmac=document_number_hmac, request_id=ctx.request_id, ip=ctx.ip))


def format_at(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses
_CANONICAL = ('{"action":%s,"actor_id":%s,"actor_role":%s,"at":"%s",%s"ip":%s,"outcome":%s,'
              '"prev_hash":%s,"reason":%s,"request_id":%s,"seq":%d,"subject_id":%s,'
              '"subject_type":%s}')


def _json_str(value: str | None) -> str:
    return "null" if value is None else _string(value)


def canonical_text(seq: int, at: str, actor_id: str | None, *rest: str | None) -> bytes:
    """json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False), unrolled,
    ``document_number_hmac`` left out when it is null (so events from before it existed hash
    as they did); ``rest`` is actor_role, action, subject_type, subject_id, outcome, reason,
    document_number_hmac, request_id, ip, prev_hash."""
    (actor_role, action, subject_type, subject_id, outcome, reason, number_hmac, request_id,
     ip, prev_hash) = rest
    number = "" if number_hmac is None else f'"document_number_hmac":{_string(number_hmac)},'
    return (_CANONICAL % (
        _json_str(action), _json_str(actor_id), _json_str(actor_role), at, number,
        _json_str(ip), _json_str(outcome), _json_str(prev_hash), _json_str(reason),
        _json_str(request_id), seq, _json_str(subject_id), _json_str(subject_type))).encode()


def canonical(event: Mapping[str, Any]) -> bytes:
    at = event["at"]
    return canonical_text(
        event["seq"], at if isinstance(at, str) else format_at(at),
        str(event["actor_id"]) if event["actor_id"] else None, event["actor_role"],
        event["action"], event["subject_type"], event["subject_id"], event["outcome"],
        event["reason"], event.get("document_number_hmac"), event["request_id"], event["ip"],
        event["prev_hash"])


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


def _sign_tree_head(session: Session, head: AuditHead) -> AuditTreeHead:
    """A tree head over the whole log (the head row locked), sent to the witness once the
    unit of work commits."""
    tree_head = sign_tree_head(session, head.seq, tree.root_at(session, head.seq))
    if runtime.get().settings.audit_witness_url:
        unit_of_work.after_commit(witness.deliver_in_background(session.get_bind()))
    return tree_head


def _checkpoint(session: Session, head: AuditHead) -> AuditCheckpoint:
    checkpoint = sign_head(session, head.seq, head.hash)
    _sign_tree_head(session, head)
    head.checkpoint_seq, head.checkpoint_at = checkpoint.seq, checkpoint.at
    return checkpoint


def write_pending(session: Session, pending: Sequence[AuditEntry]) -> None:
    """Append the queued events to the chain inside the current transaction.

    The UPDATE on the head row comes first: it takes the row (PostgreSQL) or database
    (SQLite) write lock, so concurrent appenders queue and the chain never forks. If the
    events cannot be written the whole unit fails (503): an action that is not in the log
    does not happen.
    """
    if not pending:
        return
    session.flush()
    try:
        head = _lock_head(session)
        seq, prev = head.seq, head.hash
        rows = []
        for queued in pending:
            seq += 1
            # vars(), not asdict(): the values are immutable, and a deep copy of each
            # datetime and UUID was most of what a page of staff views cost to log.
            event = {**vars(queued), "seq": seq, "prev_hash": prev}
            event["hash"] = prev = chain_hash(prev, event)
            rows.append(event)
        session.execute(insert(AuditEvent.__table__), rows)  # Core: one executemany
        head.tree_frontier = tree.append_leaves(session, head.seq, [row["hash"] for row in rows],
                                                head.tree_frontier)
        head.seq, head.hash = seq, prev
        session.flush()
    except OperationalError:
        raise
    except (SQLAlchemyError, LookupError) as exc:
        log.error("audit events could not be written: %s", type(exc).__name__)
        raise ServiceUnavailable("audit log unavailable") from None
    if _checkpoint_due(head):
        try:
            with session.begin_nested():
                _checkpoint(session, head)
        except (KinPassError, SQLAlchemyError, LookupError) as exc:
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


def sign_tree_head_now(actor: Any) -> AuditTreeHead:
    """A tree head signed now over the whole log (`POST /v1/audit/tree-heads`)."""
    session = db()
    tree_head = _sign_tree_head(session, _lock_head(session))
    record_event("audit.tree_head", actor, subject_type="audit_tree_head",
                 subject_id=tree_head.tree_size)
    return tree_head


def checkpoint_keys() -> dict[str, Any]:
    """The JWKS that verifies checkpoints (the key is made on first use)."""
    return jwks(db())
