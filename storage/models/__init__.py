"""Every table, imported here so metadata and Alembic see them all."""
from storage.db import Base
from storage.models.accounts import (
    Account,
    AuthSession,
    ContactCode,
    Registration,
    VerificationCode,
)
from storage.models.audit import (
    AuditCheckpoint,
    AuditEvent,
    AuditHead,
    AuditSigningKey,
    AuditTreeHead,
    AuditTreeNode,
    AuditWitnessReceipt,
)
from storage.models.authorizations import Authorization, Handover, SigningKey
from storage.models.cases import Case, CaseDecision, CaseStatusChange, Document
from storage.models.encryption_keys import HpkeKey
from storage.models.messages import Device, OutboxMessage
from storage.models.prisoners import Prisoner, PrisonerBlockingKey
from storage.models.requests import IdempotencyRecord, RateCounter
from storage.models.secrets import ServiceSecret
from storage.models.uploads import ResumableUpload

__all__ = [
    "Account",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditHead",
    "AuditSigningKey",
    "AuditTreeHead",
    "AuditTreeNode",
    "AuditWitnessReceipt",
    "AuthSession",
    "Authorization",
    "Base",
    "Case",
    "CaseDecision",
    "CaseStatusChange",
    "ContactCode",
    "Device",
    "Document",
    "Handover",
    "HpkeKey",
    "IdempotencyRecord",
    "OutboxMessage",
    "Prisoner",
    "PrisonerBlockingKey",
    "RateCounter",
    "Registration",
    "ResumableUpload",
    "ServiceSecret",
    "SigningKey",
    "VerificationCode",
]
