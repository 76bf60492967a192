from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship as relation

from storage.db import Base, EnumText, one_of, utcnow
from storage.vocabulary import (
    CaseStatus,
    ContentType,
    Decision,
    DocumentKind,
    DocumentStatus,
    Encryption,
    Relationship,
    Role,
)


class Case(Base):
    """One relative's request to collect one soldier. People are JSON: they are read whole."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_submitted", "status", "submitted_at", "id"),
        Index("ix_cases_account_created", "account_id", "created_at", "id"),
        one_of("cases", "status", CaseStatus),
        one_of("cases", "relationship", Relationship),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[CaseStatus] = mapped_column(EnumText(CaseStatus, 20),
                                               default=CaseStatus.DRAFT)
    relationship: Mapped[Relationship] = mapped_column(EnumText(Relationship, 20))
    applicant: Mapped[dict[str, Any]] = mapped_column(JSON)
    soldier: Mapped[dict[str, Any]] = mapped_column(JSON)
    prisoner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prisoners.id"),
                                                          index=True)
    # The strongest registry candidate while no prisoner is linked: conflicting claims are
    # found on it too.
    candidate_prisoner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("prisoners.id", ondelete="SET NULL"), index=True)
    checks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    match_candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    requested_documents: Mapped[list[str] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    history: Mapped[list[CaseStatusChange]] = relation(
        order_by="CaseStatusChange.seq", cascade="all, delete-orphan", lazy="selectin")


class CaseStatusChange(Base):
    __tablename__ = "case_status_changes"
    __table_args__ = (one_of("case_status_changes", "status", CaseStatus),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               index=True)
    seq: Mapped[int]
    status: Mapped[CaseStatus] = mapped_column(EnumText(CaseStatus, 20))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseDecision(Base):
    __tablename__ = "case_decisions"
    __table_args__ = (one_of("case_decisions", "decision", Decision),
                      one_of("case_decisions", "role", Role))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               index=True)
    decision: Mapped[Decision] = mapped_column(EnumText(Decision, 20))
    by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    role: Mapped[Role] = mapped_column(EnumText(Role, 20))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_number", "number_hmac"),
                      one_of("documents", "kind", DocumentKind),
                      one_of("documents", "content_type", ContentType),
                      one_of("documents", "encryption", Encryption),
                      one_of("documents", "status", DocumentStatus))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                               index=True)
    kind: Mapped[DocumentKind] = mapped_column(EnumText(DocumentKind, 30))
    content_type: Mapped[ContentType] = mapped_column(EnumText(ContentType, 50))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    encryption: Mapped[Encryption] = mapped_column(EnumText(Encryption, 10),
                                                   default=Encryption.SERVER)
    status: Mapped[DocumentStatus] = mapped_column(EnumText(DocumentStatus, 20),
                                                   default=DocumentStatus.PENDING_UPLOAD)
    # The declared MRZ and fields, sealed under the document's own metadata key, which is
    # kept only wrapped by the KEK (services/document_metadata.py); both go at shredding.
    meta_sealed: Mapped[bytes | None]
    meta_key_wrapped: Mapped[bytes | None]
    # HMAC of the document number, so duplicates are found without the number in clear.
    number_hmac: Mapped[str | None] = mapped_column(String(64))
    object_key: Mapped[str | None] = mapped_column(String(100))
    wrapped_dek: Mapped[bytes | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_at: Mapped[datetime | None]
    shredded_at: Mapped[datetime | None]
    upload_expires_at: Mapped[datetime | None]
