"""The one commit point of a request, a command or a job.

A use case changes rows through the session and queues what must follow the change: audit
events (chained into the log inside the same transaction, so an action that is not logged
does not happen), outgoing messages (written to the outbox in the same transaction, and
delivered once it is committed) and other work for after the commit (deleting shredded
objects, handing a case to the worker). The request
wrapper, the error path, idempotency, the command line and the worker end it with
`commit()` or `rollback()`; services never do.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from storage.db import ReadOnlyWriteError, session as db, set_read_only

log = logging.getLogger("kinpass.unit_of_work")


@dataclass(frozen=True)
class AuditEntry:
    """An audit event as the use case gave it; its place in the chain comes at commit."""

    at: datetime
    actor_id: uuid.UUID | None
    actor_role: str
    action: str
    subject_type: str | None
    subject_id: str | None
    outcome: str
    reason: str | None
    document_number_hmac: str | None
    request_id: str | None
    ip: str | None


@dataclass(frozen=True)
class OutgoingMessage:
    """One message as the use case gave it; it is written to the outbox with the change."""

    id: uuid.UUID
    channel: str
    to: str
    template: str
    language: str
    text: str
    subject: str
    code: str | None = None
    account_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None


class Journal(Protocol):
    def __call__(self, session: Session, entries: Sequence[AuditEntry]) -> None: ...


class Mailbox(Protocol):
    """Writes the queued messages to the outbox, inside the transaction being committed."""

    def __call__(self, session: Session, messages: Sequence[OutgoingMessage]) -> None: ...


class Courier(Protocol):
    """Told of the messages once they are committed (the copy, and waking the sender)."""

    def __call__(self, messages: Sequence[OutgoingMessage]) -> None: ...


@dataclass
class Writers:
    """How queued work leaves: installed once by the composition root."""

    journal: Journal | None = None
    mailbox: Mailbox | None = None
    courier: Courier | None = None


_writers = Writers()


def install_writers(*, journal: Journal, mailbox: Mailbox, courier: Courier) -> None:
    _writers.journal, _writers.mailbox, _writers.courier = journal, mailbox, courier


@dataclass
class UnitOfWork:
    events: list[AuditEntry] = field(default_factory=list)
    messages: list[OutgoingMessage] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    keeps_refusal: bool = False

    @property
    def pending(self) -> bool:
        return bool(self.events or self.messages or self.after_commit)


_KEY = "kinpass_unit_of_work"


def current() -> UnitOfWork:
    """The unit of work of this request's (thread's) session."""
    info = db().info
    unit = info.get(_KEY)
    if unit is None:
        unit = info[_KEY] = UnitOfWork()
    return unit


def _take() -> UnitOfWork:
    return db().info.pop(_KEY, None) or UnitOfWork()


def queue_event(entry: AuditEntry) -> None:
    current().events.append(entry)


def queue_message(message: OutgoingMessage) -> None:
    current().messages.append(message)


def after_commit(hook: Callable[[], None]) -> None:
    """Run ``hook`` once the unit of work has committed (never if it rolls back): hand work
    to another process only when what it will read is there."""
    current().after_commit.append(hook)


def keep_on_refusal() -> None:
    """The refusal about to be raised is itself a change that must persist (a wrong code
    counts a try, a reused refresh token ends its family, a failed upload is logged): the
    error path commits the unit instead of rolling it back."""
    current().keeps_refusal = True


def commit() -> None:
    """Chain the queued audit events, write the queued messages to the outbox, and commit;
    if the log or the outbox cannot be written, nothing is. The sender learns of the
    messages, and after-commit work runs, only after a commit that succeeded."""
    session = db()
    unit = current()
    try:
        if unit.events:
            if _writers.journal is None:
                raise RuntimeError("no audit journal installed")
            _writers.journal(session, unit.events)
        if unit.messages:
            if _writers.mailbox is None:
                raise RuntimeError("no outbox installed")
            _writers.mailbox(session, unit.messages)
        session.commit()
    except Exception:
        rollback()
        raise
    _take()
    if unit.messages:
        if _writers.courier is None:
            raise RuntimeError("no message courier installed")
        try:
            _writers.courier(unit.messages)
        except Exception:  # the messages are in the outbox; the sender finds them anyway
            log.exception("could not hand the committed messages on")
    for hook in unit.after_commit:
        try:
            hook()
        except Exception:  # the change is committed; what follows is best effort
            log.exception("after-commit work failed")


@contextmanager
def rehearsal() -> Iterator[None]:
    """Do a change's work and keep none of it: its statements run, and the messages it
    queues are written to the outbox, in a savepoint that is then rolled back. For answers
    whose timing must not tell whether the change was made."""
    session = db()
    unit = current()
    queued = len(unit.messages)
    savepoint = session.begin_nested()
    try:
        yield
        rehearsed = unit.messages[queued:]
        if rehearsed and _writers.mailbox is not None:
            _writers.mailbox(session, rehearsed)
        session.flush()
    finally:
        savepoint.rollback()
        del unit.messages[queued:]


def rollback() -> None:
    """Forget the changes and everything queued with them."""
    session = db()
    _take()
    session.rollback()


def end_read() -> None:
    """The end of a unit of work that only read: nothing to commit, and nothing may be
    waiting to be written (an event queued by a read-only route would otherwise be lost)."""
    if not db.registry.has():
        return
    if current().pending:
        raise ReadOnlyWriteError("a read-only unit of work queued a write")


def commit_after_read() -> None:
    """The end of a unit that only read and logged what it read: the read transaction ends,
    and the queued audit events are chained and committed in a write transaction of their
    own, so the write lock (SQLite) or the head row (PostgreSQL) is held for the append
    alone. Nothing else may be waiting to be written."""
    release_snapshot()
    set_read_only(False)
    commit()


def release_snapshot() -> None:
    """End the read transaction before slow I/O (SQLite takes its write lock when a
    transaction begins, and a pooled connection must not wait on a phone's upload). Only a
    unit that has changed nothing may: queued audit events stay queued for the commit."""
    session = db()
    unit = current()
    if session.new or session.dirty or session.deleted or unit.messages or unit.after_commit:
        raise ReadOnlyWriteError("the snapshot of a unit with changes cannot be released")
    session.rollback()
