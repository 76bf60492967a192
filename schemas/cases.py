"""Case shapes: what a relative sends and sees, and what staff see besides."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.authorizations import AuthorizationOut
from schemas.base import EnumValue, In, Name, Out, Pattern, Reason, UtcDateTime
from schemas.documents import DocumentOut
from schemas.prisoners import CandidateOut, PrisonerOut
from storage.vocabulary import (
    STAFF_CASE_STATUSES,
    AccountStatus,
    CaseStatus,
    CheckOutcome,
    Decision,
    DocumentKind,
    Language,
    Relationship,
    Role,
)

# Letters of the Cyrillic or the Latin script, with spaces, hyphens and apostrophes between.
_PERSON_NAME = re.compile(
    r"(?:[A-Za-z\u00C0-\u024F]+|[\u0400-\u04FF]+)"
    r"(?:[ \-'\u2019](?:[A-Za-z\u00C0-\u024F]+|[\u0400-\u04FF]+))*")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")


def _person_name(value: str) -> None:
    if not _PERSON_NAME.fullmatch(value):
        raise ValidationError("Use letters of the Cyrillic or the Latin script.")
    scripts = {"cyrillic" if "\u0400" <= ch <= "\u04ff" else "latin"
               for ch in value if ch.isalpha()}
    if len(scripts) > 1:
        raise ValidationError("Write a name in one script, Cyrillic or Latin.")


def _past(value: date) -> None:
    if value > date.today():
        raise ValidationError("A birth date cannot be in the future.")
    if value.year < 1900:
        raise ValidationError("Not a plausible birth date.")


def PersonName(**kwargs: Any) -> fields.String:  # noqa: N802  (a field factory)
    return fields.String(validate=[validate.Length(min=1, max=100), _person_name], **kwargs)


def BirthDate(**kwargs: Any) -> fields.Date:  # noqa: N802
    return fields.Date(validate=_past, **kwargs)


class ApplicantIn(In):
    surname = PersonName(required=True)
    given_name = PersonName(required=True)
    patronymic = PersonName(load_default=None)
    birth_date = BirthDate(required=True)
    citizenship = fields.String(load_default=None, validate=Pattern(
        _ALPHA3, error="Give an ISO 3166 alpha-3 code, e.g. RUS."))


class SoldierIn(In):
    surname = PersonName(required=True)
    given_name = PersonName(required=True)
    patronymic = PersonName(load_default=None)
    birth_date = BirthDate(required=True)
    birth_place = Name(load_default=None)
    unit = Name(load_default=None)


class CaseIn(In):
    relationship = EnumValue(Relationship, required=True)
    applicant = fields.Nested(ApplicantIn, required=True)
    soldier = fields.Nested(SoldierIn, required=True)

    EXAMPLE = {"relationship": "mother",
               "applicant": {"surname": "Иванова", "given_name": "Мария",
                             "patronymic": "Петровна", "birth_date": "1971-04-02",
                             "citizenship": "RUS"},
               "soldier": {"surname": "Иванов", "given_name": "Алексей",
                           "patronymic": "Сергеевич", "birth_date": "2001-09-14",
                           "birth_place": "Курск"}}


class ApplicantPatch(In):
    """Merge patch: an absent field is unchanged, `null` clears an optional one."""

    surname = PersonName()
    given_name = PersonName()
    patronymic = PersonName(allow_none=True)
    birth_date = BirthDate()
    citizenship = fields.String(allow_none=True, validate=Pattern(
        _ALPHA3, error="Give an ISO 3166 alpha-3 code, e.g. RUS."))


class SoldierPatch(In):
    surname = PersonName()
    given_name = PersonName()
    patronymic = PersonName(allow_none=True)
    birth_date = BirthDate()
    birth_place = Name(allow_none=True)
    unit = Name(allow_none=True)


class CasePatchIn(In):
    relationship = EnumValue(Relationship)
    applicant = fields.Nested(ApplicantPatch)
    soldier = fields.Nested(SoldierPatch)

    EXAMPLE = {"soldier": {"unit": "44th brigade"}, "applicant": {"patronymic": None}}


class PersonOut(Out):
    surname = fields.String()
    given_name = fields.String()
    patronymic = fields.String(allow_none=True)
    birth_date = fields.String()


class ApplicantOut(PersonOut):
    citizenship = fields.String(allow_none=True)


class SoldierOut(PersonOut):
    birth_place = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)


class StatusChangeOut(Out):
    status = EnumValue(CaseStatus)
    at = UtcDateTime()


class InfoRequestOut(Out):
    reason = fields.String()
    requested_documents = fields.List(fields.String())
    at = UtcDateTime()


class CaseOut(Out):
    id = fields.UUID()
    status = EnumValue(CaseStatus)
    relationship = EnumValue(Relationship)
    applicant = fields.Nested(ApplicantOut)
    soldier = fields.Nested(SoldierOut)
    documents = fields.List(fields.Nested(DocumentOut))
    required_documents = fields.List(EnumValue(DocumentKind))
    missing_documents = fields.List(EnumValue(DocumentKind))
    status_history = fields.List(fields.Nested(StatusChangeOut))
    authorizations = fields.List(fields.Nested(AuthorizationOut))
    info_request = fields.Nested(InfoRequestOut, allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()

    EXAMPLE = {"id": "5d1c3f9a-8b7e-4d2a-9c61-2e4f7a8b9c01", "status": "draft",
               "relationship": "mother",
               "applicant": {"surname": "Иванова", "given_name": "Мария",
                             "patronymic": "Петровна", "birth_date": "1971-04-02",
                             "citizenship": "RUS"},
               "soldier": {"surname": "Иванов", "given_name": "Алексей",
                           "patronymic": "Сергеевич", "birth_date": "2001-09-14",
                           "birth_place": "Курск", "unit": None},
               "documents": [], "required_documents": ["passport", "birth_certificate"],
               "missing_documents": ["passport", "birth_certificate"],
               "status_history": [{"status": "draft", "at": "2026-03-02T10:15:00Z"}],
               "authorizations": [], "created_at": "2026-03-02T10:15:00Z",
               "updated_at": "2026-03-02T10:15:00Z"}


class ApplicantAccountOut(Out):
    id = fields.UUID()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    full_name = fields.String()
    language = EnumValue(Language)
    status = EnumValue(AccountStatus)
    created_at = UtcDateTime()


class CheckOut(Out):
    name = fields.String()
    result = EnumValue(CheckOutcome)
    detail = fields.String()


class DecisionOut(Out):
    decision = EnumValue(Decision)
    by = fields.UUID()
    role = EnumValue(Role)
    reason = fields.String()
    at = UtcDateTime()


class StaffCaseOut(CaseOut):
    applicant_account = fields.Nested(ApplicantAccountOut)
    checks = fields.List(fields.Nested(CheckOut))
    match_candidates = fields.List(fields.Nested(CandidateOut))
    linked_prisoner = fields.Nested(PrisonerOut, allow_none=True)
    decisions = fields.List(fields.Nested(DecisionOut))

    EXAMPLE = {**CaseOut.EXAMPLE, "status": "in_review",
               "status_history": [{"status": "draft", "at": "2026-03-02T10:15:00Z"},
                                  {"status": "submitted", "at": "2026-03-02T10:20:00Z"},
                                  {"status": "in_review", "at": "2026-03-02T10:20:02Z"}],
               "checks": [{"name": "mrz_valid", "result": "clear",
                           "detail": "Format and check digits are valid."}],
               "match_candidates": [], "linked_prisoner": None, "decisions": []}


class DocumentsMissingOut(Out):
    missing = fields.List(EnumValue(DocumentKind))


class StaffCaseFilters(In):
    status = fields.String(load_default=None, validate=validate.OneOf(STAFF_CASE_STATUSES))


class LinkIn(In):
    prisoner_id = fields.UUID(required=True)

    EXAMPLE = {"prisoner_id": "9a3e6c1b-4d5f-4e7a-8b9c-0d1e2f3a4b5c"}


class DecisionIn(In):
    decision = EnumValue(Decision, required=True)
    reason = Reason(required=True)
    requested_documents = fields.List(
        EnumValue(DocumentKind),
        validate=validate.Length(min=1, max=len(DocumentKind)), load_default=None)

    @validates_schema
    def _reason_not_blank(self, data: dict, **_: object) -> None:
        if "reason" in data and not data["reason"].strip():
            raise ValidationError("Give a reason.", "reason")
        if data.get("requested_documents") and data.get("decision") != Decision.REQUEST_INFO:
            raise ValidationError("Only a request for information names documents.",
                                  "requested_documents")

    EXAMPLE = {"decision": "request_info",
               "reason": "The birth certificate is unreadable; please photograph it again.",
               "requested_documents": ["birth_certificate"]}
