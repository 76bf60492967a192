from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    event,
)
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
        Index("ix_audit_events_document_number", "document_number_hmac"),
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
    # The keyed HMAC of the document number the event concerns (never the number itself);
    # last, where revision 0007 added it.
    document_number_hmac: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The single row every append locks first, so the chain cannot fork."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    # Where the last signed checkpoint stands (its clock starts with the log).
    checkpoint_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoint_at: Mapped[datetime | None]
    # The Merkle tree's frontier (services.audit.tree): the hashes of its perfect subtrees,
    # left to right, so an append reads nothing more; NULL until the first append.
    tree_frontier: Mapped[bytes | None] = mapped_column(LargeBinary(64 * 32))


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


class AuditTreeNode(Base):
    """A perfect subtree of the log's Merkle tree (RFC 9162): leaves ``[index·2^level,
    (index+1)·2^level)``; level 0 holds the leaf hashes."""

    __tablename__ = "audit_tree_nodes"
    __table_args__ = {"sqlite_with_rowid": False}  # the key is the table: one B-tree to write

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditTreeHead(Base):
    """A signed tree head: `jws` is a compact JWS over {tree_size, root_hash, at}."""

    __tablename__ = "audit_tree_heads"
    __table_args__ = (Index("ix_audit_tree_heads_size", "tree_size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    kid: Mapped[str] = mapped_column(String(64))
    jws: Mapped[str] = mapped_column(String(1024))


class AuditWitnessReceipt(Base):
    """The witness accepted this head (a head without a receipt is sent again)."""

    __tablename__ = "audit_witness_receipts"

    head_id: Mapped[int] = mapped_column(ForeignKey("audit_tree_heads.id"), primary_key=True,
                                         autoincrement=False)
    accepted_at: Mapped[datetime]


# PostgreSQL refuses any UPDATE or DELETE of an audit row, and TRUNCATE of an audit table
# (a statement trigger: TRUNCATE fires no row triggers). The server's role has neither the
# privilege to do these nor to disable the triggers (storage.roles); on SQLite the hash chain
# and the tree are the guard.
APPEND_ONLY_TABLES = ("audit_events", "audit_checkpoints", "audit_tree_nodes",
                      "audit_tree_heads", "audit_witness_receipts")
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def append_only_triggers(table: str) -> list[str]:
    row = "audit_events_append_only" if table == "audit_events" else f"{table}_append_only"
    return [f"CREATE TRIGGER {row} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"]


for _model in (AuditEvent, AuditCheckpoint, AuditTreeNode, AuditTreeHead, AuditWitnessReceipt):
    event.listen(_model.__table__, "after_create",
                 DDL(APPEND_ONLY_FUNCTION.replace("%", "%%")).execute_if(dialect="postgresql"))
    for _statement in append_only_triggers(_model.__tablename__):
        event.listen(_model.__table__, "after_create",
                     DDL(_statement).execute_if(dialect="postgresql"))
