"""Every table, imported here so metadata and Alembic see them all."""
from storage.db import Base
from storage.models.accounts import Account, AuthSession, VerificationCode
from storage.models.audit import AuditEvent, AuditHead
from storage.models.cases import Case, CaseDecision, CaseStatusChange, Document
from storage.models.prisoners import Prisoner, PrisonerBlockingKey
from storage.models.requests import IdempotencyRecord, RateCounter

__all__ = [
           "Account",
           "AuditEvent",
           "AuditHead",
           "AuthSession",
           "Base",
           "Case",
           "CaseDecision",
           "CaseStatusChange",
           "Document",
           "IdempotencyRecord",
           "Prisoner",
           "PrisonerBlockingKey",
           "RateCounter",
           "VerificationCode",
]
