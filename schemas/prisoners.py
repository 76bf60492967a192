from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from schemas.base import (
    NAME_MAX,
    REASON_MAX,
    EnumValue,
    HeaderText,
    In,
    Name,
    Out,
    UtcDateTime,
    sent_as_utf8,
)
from storage.limits import REGISTRY_NUMBER_MAX
from storage.vocabulary import PrisonerStatus


def Text(**kwargs):  # noqa: N802  (a field factory)
    return fields.String(validate=validate.Length(min=1, max=NAME_MAX), **kwargs)


def RegistryNumber(**kwargs):  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=REGISTRY_NUMBER_MAX), **kwargs)


class PrisonerIn(In):
    registry_number = RegistryNumber(required=True)
    surname = Name(required=True)
    given_name = Name(required=True)
    patronymic = Name(load_default=None, allow_none=True)
    birth_date = fields.Date(required=True)
    birth_place = Text(load_default=None, allow_none=True)
    unit = Text(load_default=None, allow_none=True)
    rank = Text(load_default=None, allow_none=True)
    service_number = Text(load_default=None, allow_none=True)
    status = EnumValue(PrisonerStatus, load_default=None, allow_none=True)
    captured_on = fields.Date(load_default=None, allow_none=True)
    mother_name = Text(load_default=None, allow_none=True)
    father_name = Text(load_default=None, allow_none=True)

    EXAMPLE = {"registry_number": "UA-2024-000123", "surname": "Иванов",
               "given_name": "Алексей", "patronymic": "Сергеевич", "birth_date": "2001-09-14",
               "birth_place": "Курск", "status": "held", "captured_on": "2024-08-20"}


class PrisonerPatchIn(In):
    registry_number = RegistryNumber()
    surname = Name()
    given_name = Name()
    patronymic = Name(allow_none=True)
    birth_date = fields.Date()
    birth_place = Text(allow_none=True)
    unit = Text(allow_none=True)
    rank = Text(allow_none=True)
    service_number = Text(allow_none=True)
    status = EnumValue(PrisonerStatus)
    captured_on = fields.Date(allow_none=True)
    mother_name = Text(allow_none=True)
    father_name = Text(allow_none=True)

    @validates_schema
    def _not_empty(self, data: dict, **_: object) -> None:
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")

    EXAMPLE = {"status": "transferred"}


class PrisonerOut(Out):
    id = fields.UUID()
    registry_number = fields.String()
    surname = fields.String()
    given_name = fields.String()
    patronymic = fields.String(allow_none=True)
    surname_latin = fields.String()
    given_name_latin = fields.String()
    patronymic_latin = fields.String(allow_none=True)
    birth_date = fields.Date()
    birth_place = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    rank = fields.String(allow_none=True)
    service_number = fields.String(allow_none=True)
    status = EnumValue(PrisonerStatus)
    captured_on = fields.Date(allow_none=True)
    mother_name = fields.String(allow_none=True)
    father_name = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class AccessReasonHeaders(Schema):
    """The ``X-Access-Reason`` header of a registry read or a document's content; audited
    with the read."""

    class Meta:
        unknown = EXCLUDE  # every other request header

    reason = HeaderText(data_key="X-Access-Reason", load_default=None,
                        validate=validate.Length(max=REASON_MAX),
                        metadata={"description": "Why the registry is read; kept with the "
                                                 "read in the audit log."})


class AccessReasonForm(In):
    """The console's "Access reason" field: AccessReasonHeaders' rules for a form field (the
    at least 10 characters are the content read's own rule)."""

    reason = fields.String(load_default=None,
                           validate=[validate.Length(max=REASON_MAX), sent_as_utf8])


class PrisonerFilters(In):
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=2 * NAME_MAX))
    birth_date = fields.Date(load_default=None)
    status = EnumValue(PrisonerStatus, load_default=None)


class MatchIn(In):
    surname = Name(required=True)
    given_name = Name(required=True)
    patronymic = Name(load_default=None, allow_none=True)
    birth_date = fields.Date(load_default=None, allow_none=True)
    birth_place = Text(load_default=None, allow_none=True)
    unit = Text(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=10, strict=True, validate=validate.Range(min=1, max=100))

    EXAMPLE = {"surname": "Ivanov", "given_name": "Aleksei", "birth_date": "2001-09-14"}


class CandidateOut(Out):
    prisoner = fields.Nested(PrisonerOut)
    score = fields.Float()
    matched_on = fields.List(fields.String())


class MatchOut(Out):
    candidates = fields.List(fields.Nested(CandidateOut))


class ImportArgs(In):
    dry_run = fields.Boolean(load_default=False)


class ImportErrorOut(Out):
    line = fields.Integer()
    field = fields.String(allow_none=True)
    message = fields.String()


class ImportOut(Out):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    skipped = fields.Integer()
    dry_run = fields.Boolean()
    errors = fields.List(fields.Nested(ImportErrorOut))
    errors_truncated = fields.Boolean()
