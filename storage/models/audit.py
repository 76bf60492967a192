from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DDL, BigInteger, Index, LargeBinary, String, event
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, one_of
from storage.limits import REASON_MAX
from storage.vocabulary import ACTOR_ROLES, AuditOutcome

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_subject", "subject_type", "subject_id"),
        Index("ix_audit_events_actor", "actor_id"),
        Index("ix_audit_events_action", "action"),
        Index("ix_audit_events_at", "at"),
        one_of("audit_events", "actor_role", ACTOR_ROLES),
        one_of("audit_events", "outcome", AuditOutcome),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None]
    # Plain strings, as the event's hash covers them: a Role or a ServiceActor, an AuditOutcome.
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row every append locks first, so the chain cannot fork."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    # Where the last signed checkpoint stands (its clock starts with the log).
    checkpoint_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoint_at: Mapped[datetime | None]


class AuditSigningKey(Base):
    """Ed25519 keys that sign checkpoints; the private half only ever stored KEK-wrapped."""

    __tablename__ = "audit_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_wrapped: Mapped[bytes] = mapped_column(LargeBinary(1024))
    created_at: Mapped[datetime]


class AuditCheckpoint(Base):
    """A signed log head: `jws` is a compact JWS over {seq, hash, at}."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    kid: Mapped[str] = mapped_column(String(64))
    jws: Mapped[str] = mapped_column(String(1024))


# PostgreSQL refuses any UPDATE or DELETE of an audit row (TRUNCATE, a table-level
# operation for the owner only, is not affected). On SQLite the hash chain is the guard.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_events_append_only
BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""

for _statement in (APPEND_ONLY_FUNCTION, APPEND_ONLY_TRIGGER):
    event.listen(AuditEvent.__table__, "after_create",
                 DDL(_statement.replace("%", "%%")).execute_if(dialect="postgresql"))
