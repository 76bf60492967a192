"""The outbox's sender: a thread inside each `kinpass serve` worker in the embedded default,
inside `kinpass worker` when Redis is configured. Each step is a unit of work committed here,
like a request; several senders share the outbox safely (services.messages.delivery)."""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime

from services.core import unit_of_work
from services.messages.delivery import (
    claim_due,
    read_claimed,
    record_outcome,
    send_claimed,
    wait_for_work,
)
from storage.db import session as db
from storage.delivery_errors import DeliveryError

POLL_SECONDS = 1.0

log = logging.getLogger("kinpass.sender")


def deliver_one(message_id: uuid.UUID, now: datetime | None = None) -> None:
    try:
        claimed = read_claimed(message_id)
        unit_of_work.commit()  # no transaction stays open while the gateway is talked to
        if claimed is None:
            return
        outcome = claimed if isinstance(claimed, DeliveryError) else send_claimed(claimed)
        status = record_outcome(message_id, outcome, now)
        unit_of_work.commit()
        log.info("message delivery", extra={"message_id": str(message_id), "status": status,
                                            "reason": outcome.reason if outcome else None})
    except Exception:  # the lease runs out and another attempt picks the message up
        unit_of_work.rollback()
        log.exception("message delivery failed", extra={"message_id": str(message_id)})
    finally:
        db.remove()


def deliver_due(now: datetime | None = None) -> int:
    """One round: claim what is due and try each; how many were tried."""
    try:
        ids = claim_due(now)
        unit_of_work.commit()
    except Exception:
        unit_of_work.rollback()
        raise
    finally:
        db.remove()
    for message_id in ids:
        deliver_one(message_id, now)
    return len(ids)


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


def start_sender() -> Sender:
    sender = Sender()
    sender.start()
    return sender
