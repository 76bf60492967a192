"""Delivery from the outbox: claim what is due, send it outside any transaction, record the
outcome. At least once: a message is claimed for a lease (attempts counted at the claim), so
a sender that dies mid-send leaves it to be claimed again when the lease runs out; the
message's id is the gateway's idempotency key (and the email's Message-ID), so a gateway can
tell the repeat. Retries back off exponentially with jitter for 24 h; then it is `failed`.

The commit points are the caller's (api/sender.py): the claim (which reads the batch) and
each message's outcome are short transactions of their own, and none is open while a
gateway is being talked to.
"""
from __future__ import annotations

import json
import secrets
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from sqlalchemy import Row, and_, delete, func, or_, select, update

from services.core import runtime
from services.messages.sealing import Payload, open_payload
from services.messages.templates import html_part
from storage.db import session as db, utcnow
from storage.delivery_errors import DeferredError, DeliveryError, RefusedError
from storage.mail import Mail, SmtpServer
from storage.models.messages import Device, OutboxMessage
from storage.vocabulary import MessageChannel, MessageStatus
from storage.webhooks import post_signed

LEASE = timedelta(minutes=2)  # longer than an SMTP exchange (30 s) or a webhook (10 s) takes
GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY_SECONDS = 8.0
LONGEST_WAIT_SECONDS = 3600.0
BATCH = 20

_jitter = secrets.SystemRandom()
_wake = threading.Event()


def wake_sender() -> None:
    """Tell this process's sender that something was committed to the outbox."""
    _wake.set()


def wait_for_work(seconds: float) -> None:
    _wake.wait(seconds)
    _wake.clear()


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: 8 s · 2^(n-1), at most an hour, less up to half of it
    at random (so senders that failed together do not retry together)."""
    ceiling = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_WAIT_SECONDS)
    return timedelta(seconds=ceiling * _jitter.uniform(0.5, 1.0))


def _due(now: datetime):
    return and_(OutboxMessage.status == MessageStatus.QUEUED,
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now))


@dataclass(frozen=True)
class Claimed:
    """A claimed message and what it says; `unsendable` when it cannot go at all."""

    id: uuid.UUID
    channel: MessageChannel
    template: str
    language: str
    created_at: datetime
    payload: Payload | None
    unsendable: DeliveryError | None = None


def _open(row: Row, devices: set[uuid.UUID]) -> Claimed:
    claimed = Claimed(id=row.id, channel=row.channel, template=row.template,
                      language=row.language, created_at=row.created_at, payload=None)
    if row.channel == MessageChannel.PUSH and row.device_id not in devices:
        return replace(claimed, unsendable=RefusedError("the device was removed"))
    try:
        return replace(claimed, payload=open_payload(row.id, row.payload_sealed or b""))
    except (InvalidTag, ValueError):
        return replace(claimed, unsendable=RefusedError("the sealed message could not be opened"))


def any_due(now: datetime | None = None) -> bool:
    """Whether a message is due: a read, so an idle sender never takes a write lock."""
    return db().scalar(select(OutboxMessage.id).where(_due(now or utcnow())).limit(1)) \
        is not None


def claim_due(now: datetime | None = None, limit: int = BATCH) -> list[Claimed]:
    """Take up to `limit` due messages for this sender, and read them, in one statement. On
    PostgreSQL rows another sender is claiming are skipped (SKIP LOCKED); SQLite runs
    writing transactions one at a time."""
    now = now or utcnow()
    session = db()
    outbox = OutboxMessage.__table__
    due = (select(outbox.c.id).where(_due(now))
           .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit)
           .with_for_update(skip_locked=True))
    rows = session.connection().execute(
        update(outbox).where(outbox.c.id.in_(due.scalar_subquery()))
        .values(claimed_until=now + LEASE, attempts=outbox.c.attempts + 1)
        .returning(outbox.c.id, outbox.c.channel, outbox.c.template, outbox.c.language,
                   outbox.c.created_at, outbox.c.next_attempt_at, outbox.c.device_id,
                   outbox.c.payload_sealed)).all()
    if not rows:
        return []
    rows.sort(key=lambda row: (row.next_attempt_at, row.id))
    wanted = {row.device_id for row in rows if row.device_id}
    devices = set(session.scalars(select(Device.id).where(Device.id.in_(wanted)))) \
        if wanted else set()
    return [_open(row, devices) for row in rows]


def _webhook_body(message: Claimed) -> bytes:
    return json.dumps({
        "id": str(message.id), "channel": message.channel, "to": message.payload.to,
        "template": message.template, "language": message.language,
        "text": message.payload.text,
        "created_at": message.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }, ensure_ascii=False).encode()


def send_claimed(message: Claimed) -> DeliveryError | None:
    """Hand the message to its gateway; what went wrong, if anything."""
    if message.unsendable is not None or message.payload is None:
        return message.unsendable
    settings = runtime.get().settings
    try:
        if message.channel == MessageChannel.EMAIL:
            if not (settings.smtp_url and settings.mail_from):
                return DeferredError("no email gateway configured (KINPASS_SMTP_URL)")
            server = SmtpServer.from_url(settings.smtp_url, ca_file=settings.smtp_ca_file,
                                         mail_from=settings.mail_from)
            server.send(Mail(message_id=str(message.id), to=message.payload.to,
                             subject=message.payload.subject, text=message.payload.text,
                             html=html_part(message.payload.subject, message.payload.text,
                                            message.language)))
            return None
        url = (settings.sms_webhook_url if message.channel == MessageChannel.SMS
               else settings.push_webhook_url)
        if not (url and settings.webhook_secret):
            return DeferredError(f"no {message.channel} gateway configured")
        post_signed(url, settings.webhook_secret, _webhook_body(message), str(message.id))
    except DeliveryError as error:
        return error
    return None


def record_outcomes(outcomes: list[tuple[uuid.UUID, DeliveryError | None]],
                    now: datetime | None = None) -> None:
    """Record a batch: the delivered ones in one statement, the others one by one."""
    now = now or utcnow()
    sent = [message_id for message_id, error in outcomes if error is None]
    if sent:
        db().connection().execute(
            update(OutboxMessage.__table__)
            .where(OutboxMessage.id.in_(sent), OutboxMessage.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.SENT, sent_at=now, last_error=None,
                    claimed_until=None, payload_sealed=None))
    for message_id, error in outcomes:
        if error is not None:
            record_failure(message_id, error, now)


def record_failure(message_id: uuid.UUID, error: DeliveryError,
                   now: datetime) -> MessageStatus | None:
    """Failed (refused, or retried for 24 h) or due again later. A message that is no
    longer queued is left as it is."""
    row = db().get(OutboxMessage, message_id)
    if row is None or row.status != MessageStatus.QUEUED:
        return None
    row.claimed_until = None
    if not error.retry or now - row.created_at >= GIVE_UP_AFTER:
        row.status = MessageStatus.FAILED
        row.last_error = (error.reason if not error.retry
                          else f"gave up after 24 h: {error.reason}")
        if not error.retry and row.channel == MessageChannel.PUSH and row.device_id:
            db().execute(delete(Device).where(Device.id == row.device_id))
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)
        row.last_error = error.reason
    if row.status != MessageStatus.QUEUED:
        row.payload_sealed = None
    db().flush()
    return row.status


def forget_delivered(before: datetime) -> int:
    """The metadata of messages sent or failed before `before` (their text is long gone)."""
    done = db().execute(delete(OutboxMessage).where(
        OutboxMessage.status != MessageStatus.QUEUED, OutboxMessage.created_at < before)
        .execution_options(synchronize_session=False))
    return done.rowcount or 0


@dataclass(frozen=True)
class OutboxState:
    queued: int
    oldest_queued_at: datetime | None
    counts: dict[tuple[str, str], int]


def outbox_state() -> OutboxState:
    """Queue depth, the oldest queued message, and how many went each way on each channel."""
    session = db()
    counts = {(str(channel), str(status)): count for channel, status, count in session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count())
        .group_by(OutboxMessage.channel, OutboxMessage.status))}
    oldest = session.scalar(select(func.min(OutboxMessage.created_at))
                            .where(OutboxMessage.status == MessageStatus.QUEUED))
    queued = sum(count for (_, status), count in counts.items()
                 if status == MessageStatus.QUEUED)
    return OutboxState(queued=queued, oldest_queued_at=oldest, counts=counts)
