"""The service's vocabulary: every enumerated value that tables, the wire and the rules share.

Each set is a StrEnum, so a member is its own string in SQL, in JSON and on the wire. The
models keep them in checked columns (storage.db.EnumText and storage.db.one_of), the schemas
load and document them by value, and the services and routes name them instead of spelling
the strings. Nothing here imports anything of the service's: every layer may use it.
"""
from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    """The languages the service writes in (problem texts, messages), for the whole service."""

    EN = "en"
    RU = "ru"
    UK = "uk"


DEFAULT_LANGUAGE = Language.EN


class Role(StrEnum):
    RELATIVE = "relative"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    CHECKPOINT = "checkpoint"
    ADMIN = "admin"


STAFF_ROLES = tuple(role for role in Role if role is not Role.RELATIVE)
# The staff who work on cases.
CASE_STAFF = (Role.OFFICER, Role.SUPERVISOR)


class ServiceActor(StrEnum):
    """Who an audit event names when no account acted."""

    SYSTEM = "system"
    ANONYMOUS = "anonymous"


# What an audit event's actor_role may be.
ACTOR_ROLES = (*Role, *ServiceActor)


class AccountStatus(StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    ACTIVE = "active"
    DISABLED = "disabled"


class ContactKind(StrEnum):
    """The two kinds of contact an account can be reached and signed in by."""

    EMAIL = "email"
    PHONE = "phone"


class CodePurpose(StrEnum):
    """What a code sent to a contact proves or allows."""

    VERIFY = "verify"
    RESET = "reset"
    UNLOCK = "unlock"


class CaseStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    INFO_REQUESTED = "info_requested"
    APPROVAL_PENDING = "approval_pending"
    APPROVED = "approved"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


# What staff see of a case: everything but a draft.
STAFF_CASE_STATUSES = tuple(status for status in CaseStatus if status is not CaseStatus.DRAFT)


class Relationship(StrEnum):
    """The applicant's relationship to the soldier."""

    MOTHER = "mother"
    FATHER = "father"
    SPOUSE = "spouse"
    SIBLING = "sibling"
    CHILD = "child"
    GRANDPARENT = "grandparent"
    OTHER = "other"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_INFO = "request_info"


class CheckOutcome(StrEnum):
    """An automated check's answer: the evidence agrees, needs weighing, or contradicts."""

    CLEAR = "clear"
    CONSIDER = "consider"
    FAIL = "fail"


class DocumentKind(StrEnum):
    PASSPORT = "passport"
    INTERNAL_PASSPORT = "internal_passport"
    ID_CARD = "id_card"
    BIRTH_CERTIFICATE = "birth_certificate"
    MARRIAGE_CERTIFICATE = "marriage_certificate"
    PHOTO = "photo"
    OTHER = "other"


# The documents that prove who the applicant is; any one of them stands for a passport.
IDENTITY_KINDS = (DocumentKind.PASSPORT, DocumentKind.INTERNAL_PASSPORT, DocumentKind.ID_CARD)


class DocumentStatus(StrEnum):
    PENDING_UPLOAD = "pending_upload"
    STORED = "stored"
    REJECTED = "rejected"
    SHREDDED = "shredded"


class ContentType(StrEnum):
    """The file types a document may be."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    PDF = "application/pdf"


class Encryption(StrEnum):
    """Who encrypts a document's content: the server, or the relative's device."""

    SERVER = "server"
    CLIENT = "client"


class AuthorizationKind(StrEnum):
    TRAVEL = "travel"
    PICKUP = "pickup"


class AuthorizationStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    REDEEMED = "redeemed"
    # Never stored: an active authorization past its valid_until reads as expired.
    EXPIRED = "expired"


STORED_AUTHORIZATION_STATUSES = (AuthorizationStatus.ACTIVE, AuthorizationStatus.REVOKED,
                                 AuthorizationStatus.REDEEMED)


class VerificationResult(StrEnum):
    """What a checkpoint learns of a presented token."""

    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"
    REDEEMED = "redeemed"
    INVALID = "invalid"


class SigningKeyStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class PrisonerStatus(StrEnum):
    HELD = "held"
    RELEASED = "released"
    TRANSFERRED = "transferred"
    DECEASED = "deceased"


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


class CiphertextFault(StrEnum):
    """Why a container is refused (``invalid_ciphertext``'s ``reason``)."""

    UNKNOWN_KEY = "unknown_key"  # fetch /v1/encryption-keys again and re-seal
    UNSUPPORTED_SUITE = "unsupported_suite"
    BAD_HEADER = "bad_header"
    BAD_SEAL = "bad_seal"  # the sealed DEK does not open
    BAD_SEGMENT = "bad_segment"
    TRUNCATED = "truncated"
    TRAILING_DATA = "trailing_data"


class MessageChannel(StrEnum):
    """How a message reaches a relative: chosen by the contact, or her registered devices."""

    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class DevicePlatform(StrEnum):
    FCM = "fcm"
    APNS = "apns"


class Readiness(StrEnum):
    """The state of one dependency in /readyz."""

    OK = "ok"
    UNAVAILABLE = "unavailable"
