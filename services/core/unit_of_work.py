"""The one commit point of a request or command."""
from __future__ import annotations

from collections.abc import Callable

from services.audit.events import discard_pending, write_pending
from services.messages.outbox import flush_outbox
from storage.db import ReadOnlyWriteError, session as db


def commit() -> None:
    """Chain the queued audit events and commit; if the log cannot be written, nothing is.

    Messages queued by the use case leave only once the commit has succeeded.
    """
    session = db()
    try:
        write_pending(session)
        session.commit()
    except Exception:
        rollback()
        raise
    outbox = session.info.pop("outbox", [])
    flush_outbox(outbox)
    for hook in session.info.pop("after_commit", []):
        hook()


def end_read() -> None:
    """The end of a unit of work that only read: nothing to commit, and nothing may be
    waiting to be written (an event queued by a read-only route would otherwise be lost)."""
    if not db.registry.has():
        return
    info = db().info
    if info.get("audit_pending") or info.get("outbox") or info.get("after_commit"):
        raise ReadOnlyWriteError("a read-only unit of work queued a write")


def after_commit(hook: Callable[[], None]) -> None:
    """Run ``hook`` once the unit of work has committed (never if it rolls back): hand work
    to another process only when what it will read is there."""
    db().info.setdefault("after_commit", []).append(hook)


def rollback() -> None:
    session = db()
    discard_pending(session)
    session.info.pop("outbox", None)
    session.info.pop("after_commit", None)
    session.rollback()
