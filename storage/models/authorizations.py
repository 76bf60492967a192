"""Handover appointments, signed authorizations, and the Ed25519 keys that sign them."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from storage.db import Base, EnumText, one_of, utcnow
from storage.vocabulary import (
    STORED_AUTHORIZATION_STATUSES,
    AuthorizationKind,
    AuthorizationStatus,
    SigningKeyStatus,
)

if TYPE_CHECKING:
    from storage.models.cases import Case


class SigningKey(Base):
    """An authorization-signing key. The private half is kept only wrapped by the KEK."""

    __tablename__ = "signing_keys"
    __table_args__ = (
        # At most one active key, even when two processes create the first one at once.
        Index("uq_signing_keys_active", "status", unique=True,
              postgresql_where=text("status = 'active'"),
              sqlite_where=text("status = 'active'")),
        one_of("signing_keys", "status", SigningKeyStatus),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[SigningKeyStatus] = mapped_column(EnumText(SigningKeyStatus, 10),
                                                     default=SigningKeyStatus.ACTIVE)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_key_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class Handover(Base):
    """One appointment at which a prisoner is handed over."""

    __tablename__ = "handovers"
    __table_args__ = (Index("ix_handovers_starts", "starts_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    location: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Authorization(Base):
    """A travel or pickup authorization: the signed token and its lifecycle."""

    __tablename__ = "authorizations"
    __table_args__ = (
        Index("ix_authorizations_case", "case_id", "issued_at", "id"),
        Index("ix_authorizations_kid_valid", "kid", "valid_until"),
        Index("ix_authorizations_revoked", "status", "valid_until"),
        # One active authorization per kind and case: a re-issue revokes the earlier one.
        Index("uq_authorizations_active_kind", "case_id", "kind", unique=True,
              postgresql_where=text("status = 'active'"),
              sqlite_where=text("status = 'active'")),
        one_of("authorizations", "kind", AuthorizationKind),
        # An authorization is stored active, revoked or redeemed; expired is read from the
        # clock (status_at).
        one_of("authorizations", "status", STORED_AUTHORIZATION_STATUSES),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[AuthorizationKind] = mapped_column(EnumText(AuthorizationKind, 10))
    status: Mapped[AuthorizationStatus] = mapped_column(EnumText(AuthorizationStatus, 10),
                                                        default=AuthorizationStatus.ACTIVE)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    entry_point: Mapped[str | None] = mapped_column(String(100))
    handover_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("handovers.id"))
    kid: Mapped[str] = mapped_column(ForeignKey("signing_keys.kid"))
    # A token issued before tokens were sealed, until it is sealed at start-up: nothing
    # writes it.
    token_clear: Mapped[str | None] = mapped_column("token", Text)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    redeemed_at: Mapped[datetime | None]
    redeemed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    # The token, sealed (services.authorizations.sealing); None once shredded with its case.
    token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    shredded_at: Mapped[datetime | None]

    handover: Mapped[Handover | None] = relationship(lazy="joined")
    # Gives Case an ``authorizations`` list (oldest first) without the cases module knowing
    # this one: the Case view lists them.
    case: Mapped[Case] = relationship(backref=backref(
        "authorizations", order_by="(Authorization.issued_at, Authorization.id)",
        viewonly=True), viewonly=True)

    # The opened token (or None), set as the row is loaded: see services.authorizations.sealing.
    token = None

    def status_at(self, now: datetime) -> AuthorizationStatus:
        """The stored status, or expired for an active one past its valid_until."""
        if self.status == AuthorizationStatus.ACTIVE and now >= self.valid_until:
            return AuthorizationStatus.EXPIRED
        return AuthorizationStatus(self.status)

    @property
    def current_status(self) -> AuthorizationStatus:
        return self.status_at(utcnow())
