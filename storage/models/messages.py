"""The outbox and the devices push messages go to.

A queued message keeps what delivery needs (recipient, text, code) only sealed, in
`payload_sealed`; once it is sent or failed that column is emptied and only the metadata
stays, which is what officers see.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, EnumText, one_of, utcnow
from storage.vocabulary import DevicePlatform, Language, MessageChannel, MessageStatus


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),
                      Index("ix_outbox_messages_case", "case_id", "created_at"),
                      one_of("outbox_messages", "channel", MessageChannel),
                      one_of("outbox_messages", "status", MessageStatus),
                      one_of("outbox_messages", "language", Language))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    device_id: Mapped[uuid.UUID | None]
    channel: Mapped[MessageChannel] = mapped_column(EnumText(MessageChannel, 10))
    template: Mapped[str] = mapped_column(String(60))
    language: Mapped[Language] = mapped_column(EnumText(Language, 2))
    status: Mapped[MessageStatus] = mapped_column(EnumText(MessageStatus, 10),
                                                  default=MessageStatus.QUEUED)
    payload_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (Index("ix_devices_account_created", "account_id", "created_at", "id"),
                      one_of("devices", "platform", DevicePlatform))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[DevicePlatform] = mapped_column(EnumText(DevicePlatform, 10))
    token: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
