"""Messages to relatives: queued on the unit of work by the use case, written to the outbox
in the same transaction as the change, and handed to the sender once it is committed.

A message goes by the channel its contact implies (an email address: email; an E.164 number:
SMS), and a case's notices also by push to each device the relative registered. A channel
with no gateway configured records the message as failed at once, and nothing of its text.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core import runtime, unit_of_work
from services.core.settings import Settings
from services.core.unit_of_work import OutgoingMessage
from services.messages.delivery import wake_sender
from services.messages.sealing import Payload, seal_payload
from services.messages.templates import PUSH_TEXT, TEMPLATES, render
from storage.db import session as db
from storage.models.messages import Device, OutboxMessage
from storage.translations import pick_language
from storage.vocabulary import MessageChannel, MessageStatus

__all__ = ["TEMPLATES", "hand_on", "notify", "write_messages"]

UNCONFIGURED = {MessageChannel.EMAIL: "no email gateway configured (KINPASS_SMTP_URL)",
                MessageChannel.SMS: "no SMS gateway configured (KINPASS_SMS_WEBHOOK_URL)",
                MessageChannel.PUSH: "no push gateway configured (KINPASS_PUSH_WEBHOOK_URL)"}


def channel_of(contact: str) -> MessageChannel:
    return MessageChannel.EMAIL if "@" in contact else MessageChannel.SMS


def configured(settings: Settings, channel: str) -> bool:
    return bool({MessageChannel.EMAIL: settings.smtp_url,
                 MessageChannel.SMS: settings.sms_webhook_url,
                 MessageChannel.PUSH: settings.push_webhook_url}[MessageChannel(channel)])


def notify(to: str, template: str, language: str | None, code: str | None = None, *,
           account_id: uuid.UUID | None = None, case_id: uuid.UUID | None = None,
           **params: Any) -> None:
    """Queue the message; it is written with the change and leaves after the commit, so it
    never announces something that was rolled back."""
    lang = pick_language(language)
    rendered = render(template, lang, {"code": code, **params})
    unit_of_work.queue_message(OutgoingMessage(
        id=uuid.uuid4(), channel=channel_of(to), to=to, template=template, language=lang,
        text=rendered.text, subject=rendered.subject, code=code, account_id=account_id,
        case_id=case_id))
    if case_id is None or account_id is None:
        return
    if not runtime.get().settings.push_webhook_url:
        return
    for device in db().scalars(
            select(Device).where(Device.account_id == account_id).order_by(Device.created_at)):
        unit_of_work.queue_message(OutgoingMessage(
            id=uuid.uuid4(), channel=MessageChannel.PUSH, to=device.token, template=template,
            language=lang, text=PUSH_TEXT[lang], subject=PUSH_TEXT[lang],
            account_id=account_id, case_id=case_id, device_id=device.id))


def write_messages(session: Session, messages: Sequence[OutgoingMessage]) -> None:
    """The unit of work's mailbox: one outbox row per message, in the commit's transaction."""
    settings = runtime.get().settings
    for message in messages:
        row = OutboxMessage(id=message.id, account_id=message.account_id,
                            case_id=message.case_id, device_id=message.device_id,
                            channel=message.channel, template=message.template,
                            language=message.language)
        if configured(settings, message.channel):
            row.status = MessageStatus.QUEUED
            row.payload_sealed = seal_payload(message.id, Payload(
                to=message.to, subject=message.subject, text=message.text, code=message.code))
        else:
            row.status, row.last_error = MessageStatus.FAILED, UNCONFIGURED[message.channel]
        session.add(row)
    session.flush()


def hand_on(messages: Sequence[OutgoingMessage]) -> None:
    """The unit of work's courier, after the commit: the copy (KINPASS_NOTIFIER) of each
    message, then the sender is woken."""
    notifier = runtime.get().notifier
    for message in messages:
        notifier.send({key: str(value) if isinstance(value, uuid.UUID) else value
                       for key, value in asdict(message).items()
                       if value is not None and key != "subject"})
    wake_sender()
