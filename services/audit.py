"""The tamper-evident audit log: events are queued in the unit of work and chained at commit.

hash = SHA-256(prev_hash bytes ‖ canonical JSON of the event), canonical JSON being the
event's fields (hash excluded) with sorted keys, no spaces, UTF-8.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db import session as db, utcnow
from storage.models.audit import GENESIS_HASH, AuditEvent, AuditHead

OUTCOMES = ("success", "denied", "failure")


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
        "outcome": outcome, "reason": reason, "request_id": ctx.request_id, "ip": ctx.ip,
    })


def discard_pending(session: Session) -> None:
    session.info.pop("audit_pending", None)


def _fmt_at(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: dict[str, Any]) -> bytes:
    body = {
        "seq": event["seq"], "at": _fmt_at(event["at"]),
        "actor_id": str(event["actor_id"]) if event["actor_id"] else None,
        "actor_role": event["actor_role"], "action": event["action"],
        "subject_type": event["subject_type"], "subject_id": event["subject_id"],
        "outcome": event["outcome"], "reason": event["reason"],
        "request_id": event["request_id"], "ip": event["ip"], "prev_hash": event["prev_hash"],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(event)).hexdigest()


def write_pending(session: Session) -> None:
    """Append the queued events to the chain inside the current transaction.

    The UPDATE on the head row comes first: it takes the row (PostgreSQL) or database
    (SQLite) write lock, so concurrent appenders queue and the chain never forks.
    """
    pending = session.info.pop("audit_pending", None)
    if not pending:
        return
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS_HASH)
        session.add(head)
    seq, prev = head.seq, head.hash
    for queued in pending:
        seq += 1
        event = {**queued, "seq": seq, "prev_hash": prev}
        event["hash"] = prev = chain_hash(event["prev_hash"], event)
        session.add(AuditEvent(**event))
    head.seq, head.hash = seq, prev
    session.flush()


def event_dict(row: AuditEvent) -> dict[str, Any]:
    return {c: getattr(row, c) for c in (
        "seq", "at", "actor_id", "actor_role", "action", "subject_type", "subject_id",
        "outcome", "reason", "request_id", "ip", "prev_hash", "hash")}


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None


def iter_events(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.execute(select(AuditEvent).where(AuditEvent.seq > last)
                               .order_by(AuditEvent.seq).limit(batch)).scalars().all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify_chain(session: Session) -> ChainReport:
    """Walk the chain in seq order; the first row whose seq, link or hash is wrong is named."""
    prev, expected_seq, count = GENESIS_HASH, 1, 0
    for row in iter_events(session):
        ev = event_dict(row)
        if (row.seq != expected_seq or row.prev_hash != prev
                or not hmac.compare_digest(chain_hash(prev, ev), row.hash)):
            return ChainReport(False, count, expected_seq - 1, prev, expected_seq)
        prev, expected_seq, count = row.hash, expected_seq + 1, count + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != count or head.hash != prev):
        return ChainReport(False, count, count, prev, count + 1)
    return ChainReport(True, count, count, prev, None)
