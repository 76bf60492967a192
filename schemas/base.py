"""Shared schema pieces: strict input, UTC timestamps with Z, bounded strings, the
vocabulary's words, paging."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from storage.limits import NAME_MAX, REASON_MAX

E164 = re.compile(r"^\+[1-9]\d{1,14}$")


class In(Schema):
    """Request bodies: unknown fields are refused, never stored."""

    class Meta:
        unknown = RAISE


class Out(Schema):
    pass


class UtcDateTime(fields.DateTime):
    """RFC 3339 UTC with Z out; any RFC 3339 offset in, normalised to UTC."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        utc = value.astimezone(UTC).replace(microsecond=0, tzinfo=None)
        return utc.isoformat() + "Z"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        result = super()._deserialize(value, attr, data, **kwargs)
        if result.tzinfo is None:
            raise ValidationError("Give a timezone (RFC 3339, e.g. 2026-03-02T10:15:00Z).")
        try:
            return result.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Not a valid datetime.") from None


class EnumValue(fields.Enum):
    """A word of one of storage.vocabulary's StrEnums: its value on the wire and in the
    OpenAPI document (a string enum), the member once loaded. What is dumped may be the
    member or its plain string."""

    def __init__(self, enum: type[StrEnum], **kwargs: Any) -> None:
        super().__init__(enum, by_value=fields.String, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        member = None if value is None else self.enum(value)
        return super()._serialize(member, attr, obj, **kwargs)


def Name(**kwargs: Any) -> fields.String:  # noqa: N802  (a field factory)
    return fields.String(validate=validate.Length(min=1, max=NAME_MAX), **kwargs)


def Reason(**kwargs: Any) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=REASON_MAX), **kwargs)


def validate_phone(value: str) -> None:
    if not E164.match(value):
        raise ValidationError("Not a valid E.164 phone number (e.g. +380441234567).")


class PageArgs(In):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class ProblemOut(Out):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    code = fields.String()
    errors = fields.Dict()
