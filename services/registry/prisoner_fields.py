"""A prisoner record's fields: tidying, the domain rules, the derived name columns and the
blocking keys kept beside each record."""
from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import delete

from services.registry.matching import PersonRecord, index_keys
from services.registry.romanize import icao_latin, name_key
from storage.db import session as db, utcnow
from storage.limits import NAME_MAX, REGISTRY_NUMBER_MAX
from storage.models.prisoners import (
    BLOCKING_KEY_MAX,
    PrisonerBlockingKey,
    bulk_insert_blocking_keys,
)
from storage.vocabulary import PrisonerStatus

NAME_FIELDS = ("surname", "given_name", "patronymic")
REQUIRED_FIELDS = ("registry_number", "surname", "given_name", "birth_date")
OPTIONAL_TEXT_FIELDS = ("birth_place", "unit", "rank", "service_number", "mother_name",
                        "father_name")
DATE_FIELDS = ("birth_date", "captured_on")
INPUT_FIELDS = ("registry_number", "surname", "given_name", "patronymic", "birth_date",
                "birth_place", "unit", "rank", "service_number", "status", "captured_on",
                "mother_name", "father_name")
DERIVED_FIELDS = ("surname_latin", "given_name_latin", "patronymic_latin", "surname_key",
                  "given_name_key", "patronymic_key")
DEFAULT_STATUS = PrisonerStatus.HELD
EARLIEST_BIRTH = date(1900, 1, 1)

_NAME_RE = re.compile(r"^[^\W\d_](?:[^\W\d_]|[\u0300-\u036f .'\u2019\u02bc-])*\Z")
_REGISTRY_RE = re.compile(r"^[^\W_](?:[\w./#-]| (?! ))*\Z")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES_RE = re.compile(r" {2,}")


# Names repeat thousands of times in a registry import.
latin_of = lru_cache(maxsize=65536)(icao_latin)


def tidy(value: str) -> str:
    """NFC, trimmed, inner runs of spaces as one (other white space is refused later)."""
    return _SPACES_RE.sub(" ", unicodedata.normalize("NFC", value)).strip(" ")


def _name_problem(value: str) -> str | None:
    if not _NAME_RE.match(value):
        return "Use letters, spaces, hyphens and apostrophes only, starting with a letter."
    if not latin_of(value):
        return "Give the name in Cyrillic or Latin letters."
    return None


def _text_problem(field: str, value: str) -> str | None:
    limit = REGISTRY_NUMBER_MAX if field == "registry_number" else NAME_MAX
    if len(value) > limit:
        return f"Longer than maximum length {limit}."
    if _CONTROL_RE.search(value):
        return "Contains control characters."
    if field == "registry_number" and not _REGISTRY_RE.match(value):
        return "Use letters, digits and . / # - only."
    if field in NAME_FIELDS:
        return _name_problem(value)
    return None


def tidied(values: Mapping[str, Any]) -> dict[str, Any]:
    return {f: tidy(v) if isinstance(v, str) else v for f, v in values.items()}


def check_values(values: Mapping[str, Any], *,
                 birth_date: date | None = None) -> dict[str, list[str]]:
    """Domain rules for prisoner fields (already typed: str, date or None); field → messages.

    ``birth_date`` is the record's current one when ``values`` does not carry it (an update).
    """
    errors: dict[str, list[str]] = {}
    today = utcnow().date()
    for field, value in values.items():
        problem = None
        if value is None:
            if field in REQUIRED_FIELDS or field == "status":
                problem = "Field may not be null."
        elif isinstance(value, str):
            if not value:
                problem = ("Missing data for required field." if field in REQUIRED_FIELDS
                           else "May not be empty.")
            elif field == "status":
                problem = None if value in tuple(PrisonerStatus) else (
                    "Must be one of: " + ", ".join(PrisonerStatus) + ".")
            else:
                problem = _text_problem(field, value)
        elif isinstance(value, date):
            if value > today:
                problem = "May not be in the future."
            elif field == "birth_date" and value < EARLIEST_BIRTH:
                problem = f"May not be before {EARLIEST_BIRTH.isoformat()}."
        if problem:
            errors.setdefault(field, []).append(problem)
    born = values.get("birth_date", birth_date)
    captured = values.get("captured_on")
    if (isinstance(born, date) and isinstance(captured, date) and captured < born
            and "captured_on" not in errors):
        errors.setdefault("captured_on", []).append("May not be before the birth date.")
    return errors


def derived_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The server-computed columns of the names present in ``values``."""
    out: dict[str, Any] = {}
    for field in NAME_FIELDS:
        if field in values:
            name = values[field]
            out[f"{field}_latin"] = latin_of(name) if name else None
            out[f"{field}_key"] = name_key(name) if name else None
    return out


def record_of(row: Any) -> PersonRecord:
    return PersonRecord(surname=row.surname, given_name=row.given_name,
                        patronymic=row.patronymic, birth_date=row.birth_date,
                        birth_place=row.birth_place, unit=row.unit, ref=row.id)


def key_rows(prisoner_id: uuid.UUID, values: Mapping[str, Any]) -> list[tuple[uuid.UUID, str]]:
    keys = index_keys(PersonRecord(surname=values["surname"], given_name=values["given_name"],
                                   birth_date=values["birth_date"]))
    return [(prisoner_id, key) for key in sorted(keys) if len(key) <= BLOCKING_KEY_MAX]


def insert_keys(rows: list[tuple[uuid.UUID, str]]) -> None:
    if rows:
        bulk_insert_blocking_keys(db().connection(), rows)


def delete_keys(prisoner_ids: Iterable[uuid.UUID]) -> None:
    ids = list(prisoner_ids)
    if ids:
        db().execute(delete(PrisonerBlockingKey)
                     .where(PrisonerBlockingKey.prisoner_id.in_(ids)))
