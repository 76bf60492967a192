from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, EnumText, one_of, utcnow
from storage.vocabulary import (
    DEFAULT_LANGUAGE,
    AccountStatus,
    CodePurpose,
    ContactKind,
    Language,
    Role,
)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (one_of("accounts", "role", Role),
                      one_of("accounts", "language", Language),
                      one_of("accounts", "status", AccountStatus))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(EnumText(Role, 20))
    language: Mapped[Language] = mapped_column(EnumText(Language, 2), default=DEFAULT_LANGUAGE)
    status: Mapped[AccountStatus] = mapped_column(EnumText(AccountStatus, 20))
    password_hash: Mapped[str] = mapped_column(Text)
    totp_secret_wrapped: Mapped[bytes | None]
    totp_last_step: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_staff(self) -> bool:
        return self.role != Role.RELATIVE


class AuthSession(Base):
    """One login: a family of refresh tokens, of which only the newest is alive."""

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                                  index=True)
    refresh_jti: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    otp_at: Mapped[datetime | None]  # when its owner last gave a one-time code


class VerificationCode(Base):
    __tablename__ = "verification_codes"
    __table_args__ = (Index("ix_verification_codes_account", "account_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Registration(Base):
    """One registration request: the password and name it gives become an account's only
    when a code sent with it is verified. Its contacts are the ones that were free when it
    was made."""

    __tablename__ = "registrations"
    __table_args__ = (one_of("registrations", "language", Language),
                      Index("ix_registrations_email", "email"),
                      Index("ix_registrations_phone", "phone"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(200))
    language: Mapped[Language] = mapped_column(EnumText(Language, 2))
    password_hash: Mapped[str] = mapped_column(Text)
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactCode(Base):
    """A six-digit code sent to one contact: it verifies that contact for a registration, or
    resets or unlocks the account the contact belongs to."""

    __tablename__ = "contact_codes"
    __table_args__ = (one_of("contact_codes", "purpose", CodePurpose),
                      one_of("contact_codes", "channel", ContactKind),
                      Index("ix_contact_codes_registration", "registration_id"),
                      Index("ix_contact_codes_account", "account_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    purpose: Mapped[CodePurpose] = mapped_column(EnumText(CodePurpose, 10))
    channel: Mapped[ContactKind] = mapped_column(EnumText(ContactKind, 10))
    registration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
