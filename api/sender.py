"""The outbox's sender: a thread inside each `kinpass serve` worker in the embedded default,
inside `kinpass worker` when Redis is configured. Each step is a unit of work committed here,
like a request; several senders share the outbox safely (services.messages.delivery)."""
from __future__ import annotations

import logging
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from services.core import unit_of_work
from services.messages.delivery import (
    Claimed,
    any_due,
    claim_due,
    record_outcomes,
    send_claimed,
    wait_for_work,
)
from storage.db import is_read_only, session as db, set_read_only
from storage.delivery_errors import DeferredError, DeliveryError
from storage.webhooks import close_connections

POLL_SECONDS = 1.0
# A gateway takes tens to hundreds of milliseconds a message: a claimed batch goes out this
# many at a time.
SEND_AT_ONCE = 4

log = logging.getLogger("kinpass.sender")

_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _sending_pool() -> ThreadPoolExecutor:
    """The threads a batch goes out on, kept for the process's life (a forked worker makes
    its own), so their gateway connections stay open between batches."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(SEND_AT_ONCE,
                                                     thread_name_prefix="kinpass-send"))
        return _pool[1]


def _send(message: Claimed) -> tuple[uuid.UUID, DeliveryError | None]:
    try:
        return message.id, send_claimed(message)
    except Exception:  # recorded as worth another try, like a gateway that did not answer
        log.exception("message delivery failed", extra={"message_id": str(message.id)})
        return message.id, DeferredError("the sender failed while sending")


def deliver_due(now: datetime | None = None) -> int:
    """One round: claim what is due, send it (no transaction open meanwhile), record how each
    went in one unit of work; how many were tried. A sender that dies before the record
    leaves its batch to be claimed again once the lease runs out."""
    was_read_only = is_read_only()
    set_read_only(True)
    try:
        due = any_due(now)
        unit_of_work.end_read()
    finally:
        db.remove()
        set_read_only(was_read_only)
    if not due:
        return 0
    try:
        claimed = claim_due(now)
        unit_of_work.commit()
    except Exception:
        unit_of_work.rollback()
        raise
    finally:
        db.remove()
    if not claimed:
        return 0
    if len(claimed) == 1:
        outcomes = [_send(claimed[0])]
    else:
        outcomes = list(_sending_pool().map(_send, claimed))
    try:
        record_outcomes(outcomes, now)
        unit_of_work.commit()
    except Exception:  # the lease runs out and another attempt picks the messages up
        unit_of_work.rollback()
        log.exception("could not record the outcome of a delivery")
    finally:
        db.remove()
    return len(claimed)


class Sender(threading.Thread):
    """Delivers until stopped: at once when this process commits a message, otherwise
    every POLL_SECONDS (messages committed elsewhere, retries that came due)."""

    def __init__(self, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__(name="kinpass-sender", daemon=True)
        self.poll_seconds = poll_seconds
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                tried = deliver_due()
            except Exception:  # the database is away: try again at the next poll
                log.exception("the sender could not read the outbox")
                tried = 0
            if not tried:
                wait_for_work(self.poll_seconds)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=30)
        close_connections()


def start_sender() -> Sender:
    sender = Sender()
    sender.start()
    return sender
