"""Shared schema pieces: strict input, UTC timestamps with Z, bounded strings, the
vocabulary's words, paging."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any
from urllib.parse import unquote

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from storage import cursors
from storage.domain_errors import problem_codes
from storage.limits import NAME_MAX, REASON_MAX
from storage.vocabulary import CiphertextFault, DocumentKind, Readiness

HEADER_NOT_UTF8 = "Send the text in UTF-8, as is or percent-encoded."
NOT_UTF8 = "Send the text in UTF-8."
E164 = re.compile(r"^\+[1-9][0-9]{1,14}\Z")


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


class Pattern(validate.Regexp):
    """A pattern the whole value must match: with ``match``, a final ``$`` lets a trailing
    newline through. The pattern itself stays ECMA-compatible for the OpenAPI document."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# Control characters, line and paragraph separators: never part of a name, a place or a unit.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable_text(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError("Use printable characters only (no line breaks or tabs).")


def Name(**kwargs: Any) -> fields.String:  # noqa: N802  (a field factory)
    return fields.String(validate=[validate.Length(min=1, max=NAME_MAX), printable_text],
                         **kwargs)


def Reason(**kwargs: Any) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=REASON_MAX), **kwargs)


def validate_phone(value: str) -> None:
    if not E164.match(value):
        raise ValidationError("Not a valid E.164 phone number (e.g. +380441234567).")


class Cursor(fields.String):
    """An opaque ``next_cursor`` handed back; empty is no cursor, as if absent."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(max=cursors.CURSOR_MAX), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text and len(text) <= cursors.CURSOR_MAX:  # a longer one is refused for its length
            try:
                cursors.decode(text)
            except ValueError:
                raise ValidationError("Not a valid cursor.") from None
        return text


class HeaderText(fields.String):
    """A header's text as the client meant it: UTF-8, sent as is (which the WSGI server
    hands over decoded as latin-1, PEP 3333) or percent-encoded."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            text = raw.encode("latin-1").decode("utf-8")
        except UnicodeEncodeError:  # a server that decoded the header as UTF-8 already
            text = raw
        except UnicodeDecodeError:
            raise ValidationError(HEADER_NOT_UTF8) from None
        if "%" in text:
            try:
                text = unquote(text, errors="strict")
            except UnicodeDecodeError:
                raise ValidationError(HEADER_NOT_UTF8) from None
        return text


def sent_as_utf8(value: str) -> None:
    """A form field the browser sent in UTF-8, as HeaderText asks of a header: werkzeug
    leaves bytes it cannot decode as %XX escapes, and those are refused here."""
    try:
        unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise ValidationError(NOT_UTF8) from None


class PageArgs(In):
    """The query of every list: how many items, and after which."""

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = Cursor(load_default=None)


@cache
def page_args(filters: type[In] | None = None) -> type[In]:
    """A list's query: the page arguments, then the list's own filters."""
    if filters is None:
        return PageArgs
    return type(f"{filters.__name__}Page", (filters, PageArgs), {})


class PageOut(Out):
    """The envelope of every list: ``{"items": [...], "next_cursor": "..." | null}``."""


@cache
def page_of(item: type[Out]) -> type[PageOut]:
    """The page schema of ``item`` (``StaffOut`` gives ``StaffPageOut``), made once."""
    name = item.__name__.removesuffix("Out") + "PageOut"
    return type(name, (PageOut,), {"items": fields.List(fields.Nested(item)),
                                   "next_cursor": fields.String(allow_none=True)})


class ProblemOut(Out):
    """An RFC 9457 problem: the five standard members, always, and the extension members
    some codes carry."""

    type = fields.String(required=True, metadata={
        "description": "A URI naming the problem; it ends with `/` and the code."})
    title = fields.String(required=True, metadata={
        "description": "A short summary in the language Accept-Language chose."})
    status = fields.Integer(required=True, validate=validate.Range(min=400, max=599))
    detail = fields.String(required=True, metadata={
        "description": "What happened and what to do, in the same language."})
    code = fields.String(required=True, validate=validate.OneOf(list(problem_codes())),
                         metadata={"description": "Stable and machine-readable."})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "validation_error: field name → list of messages (nested objects "
                       "nest; `_schema` is the body as a whole)."})
    missing = fields.List(EnumValue(DocumentKind), metadata={
        "description": "documents_missing: the document kinds still to add."})
    reason = EnumValue(CiphertextFault, metadata={
        "description": "invalid_ciphertext: why the sealed container was refused."})
    checks = fields.Dict(keys=fields.String(), values=EnumValue(Readiness), metadata={
        "description": "/readyz: the state of each dependency."})
    unlock = fields.String(metadata={
        "enum": ["code_sent"],
        "description": "rate_limited on login: an unlock code was sent to the owner's contact."})

    EXAMPLE = {"type": "https://kinpass.example/problems/validation_error",
               "title": "Invalid request", "status": 400,
               "detail": "Some fields are missing or invalid; see errors.",
               "code": "validation_error",
               "errors": {"soldier": {"birth_date": ["Not a valid date."]}}}
