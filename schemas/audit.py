"""Auditors' queries and the events, checkpoints and keys they read."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import EnumValue, In, Out, UtcDateTime
from storage.vocabulary import ACTOR_ROLES, AuditOutcome


class AuditEventTime(fields.DateTime):
    """RFC 3339 UTC with microseconds, exactly as the event's hash covers it."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class HexDigest(fields.String):
    """A SHA-256 sized digest in hex, either case; loaded in lower case as the log keeps it."""

    def __init__(self, **kwargs: Any) -> None:
        error = "Must be 64 hex digits."
        super().__init__(validate=[validate.Length(equal=64, error=error),
                                   validate.Regexp("^[0-9a-fA-F]{64}", error=error)], **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).lower()


class AuditWindowArgs(In):
    since = UtcDateTime(load_default=None)
    until = UtcDateTime(load_default=None)

    @validates_schema
    def _window(self, data: dict, **_: object) -> None:
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError("Must be later than since.", "until")


class AuditEventFilters(AuditWindowArgs):
    actor_id = fields.UUID(load_default=None)
    action = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    subject_type = fields.String(load_default=None, validate=validate.Length(min=1, max=32))
    subject_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    document_number_hmac = HexDigest(
        load_default=None,
        metadata={"description": "The keyed HMAC of a document number, as `kinpass audit "
                                 "hash NUMBER` prints it (64 hex digits)."})


class AuditEventOut(Out):
    seq = fields.Integer()
    at = AuditEventTime()
    actor_id = fields.UUID(allow_none=True)
    actor_role = fields.String(metadata={"enum": [role.value for role in ACTOR_ROLES]})
    action = fields.String()
    subject_type = fields.String(allow_none=True)
    subject_id = fields.String(allow_none=True)
    outcome = EnumValue(AuditOutcome)
    reason = fields.String(allow_none=True)
    document_number_hmac = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    prev_hash = fields.String()
    hash = fields.String()


class AuditHeadOut(Out):
    seq = fields.Integer()
    hash = fields.String()


class AuditVerifyOut(Out):
    ok = fields.Boolean()
    events = fields.Integer()
    head = fields.Nested(AuditHeadOut)
    first_bad_seq = fields.Integer(allow_none=True)


class AuditCheckpointOut(Out):
    seq = fields.Integer()
    hash = fields.String()
    at = UtcDateTime()
    jws = fields.String()


class TreeHeadOut(Out):
    tree_size = fields.Integer()
    root_hash = fields.String()
    at = fields.String(metadata={"description": "RFC 3339 UTC, as the JWS payload has it"})
    jws = fields.String()


_SIZE = {"validate": validate.Range(min=0, max=2**62)}


class InclusionArgs(In):
    seq = fields.Integer(required=True, **_SIZE)
    tree_size = fields.Integer(required=True, **_SIZE)


class InclusionOut(Out):
    seq = fields.Integer()
    tree_size = fields.Integer()
    leaf_hash = fields.String()
    audit_path = fields.List(fields.String())


class ConsistencyArgs(In):
    first = fields.Integer(required=True, **_SIZE)
    second = fields.Integer(required=True, **_SIZE)


class ConsistencyOut(Out):
    first = fields.Integer()
    second = fields.Integer()
    consistency_path = fields.List(fields.String())
