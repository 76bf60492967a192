"""The prisoner registry: creating, reading and updating records, look-up and matching."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from services.audit.events import record_event
from services.registry.matching import MatchQuery, PersonRecord, query_keys, rank
from services.registry.prisoner_fields import (
    DEFAULT_STATUS,
    INPUT_FIELDS,
    check_values,
    delete_keys,
    derived_values,
    insert_keys,
    key_rows,
    tidied,
    tidy,
)
from services.registry.romanize import name_key
from storage.db import session as db, utcnow
from storage.domain_errors import Conflict, NotFound, ValidationFailed
from storage.models.prisoners import (
    Prisoner,
    PrisonerBlockingKey,
)
from storage.paging import Page, paginate

# Retrieval keeps the prisoners sharing the most blocking keys with a claim; scoring is
# only ever done on this many rows, whatever the size of the registry.
CANDIDATE_POOL = 200
MAX_QUERY_WORDS = 8

@dataclass(frozen=True)
class Candidate:
    prisoner: Prisoner
    score: float
    matched_on: list[str]


def _flush_unique() -> None:
    try:
        db().flush()
    except IntegrityError:
        raise Conflict(errors={"registry_number": ["This registry number is taken."]}) from None


def _ensure_number_free(registry_number: str, own_id: uuid.UUID | None = None) -> None:
    query = select(Prisoner.id).where(Prisoner.registry_number == registry_number)
    if own_id is not None:
        query = query.where(Prisoner.id != own_id)
    if db().execute(query).first() is not None:
        raise Conflict(errors={"registry_number": ["This registry number is taken."]})


# --- use cases --------------------------------------------------------------------------------

def create_prisoner(*, actor: Any, **fields: Any) -> Prisoner:
    values = tidied({field: fields.get(field) for field in INPUT_FIELDS})
    values["status"] = values["status"] or DEFAULT_STATUS
    errors = check_values(values)
    if errors:
        raise ValidationFailed(errors=errors)
    _ensure_number_free(values["registry_number"])
    now = utcnow()
    prisoner = Prisoner(id=uuid.uuid4(), **values, **derived_values(values),
                        created_at=now, updated_at=now)
    db().add(prisoner)
    _flush_unique()
    insert_keys(key_rows(prisoner.id, values))
    record_event("prisoner.create", actor, subject_type="prisoner", subject_id=prisoner.id)
    return prisoner


def get_prisoner(prisoner_id: uuid.UUID) -> Prisoner:
    prisoner = db().get(Prisoner, prisoner_id)
    if prisoner is None:
        raise NotFound()
    return prisoner


def _access_reason(reason: str | None) -> str | None:
    """The reason staff give for reading the registry: optional, blank is none."""
    return (reason or "").strip() or None


def view_prisoner(prisoner_id: uuid.UUID, *, actor: Any, reason: str | None = None) -> Prisoner:
    """One registry record for staff; the read is in the audit log, with its reason."""
    reason = _access_reason(reason)
    prisoner = get_prisoner(prisoner_id)
    record_event("prisoner.view", actor, subject_type="prisoner", subject_id=prisoner.id,
                 reason=reason)
    return prisoner


def update_prisoner(*, prisoner_id: uuid.UUID, actor: Any, changes: Mapping[str, Any]) -> Prisoner:
    """Change the given fields (``None`` clears an optional one); keys follow the names."""
    prisoner = get_prisoner(prisoner_id)
    unknown = set(changes) - set(INPUT_FIELDS)
    if unknown:
        raise ValidationFailed(errors={f: ["Unknown field."] for f in sorted(unknown)})
    changes = tidied(changes)
    errors = check_values(changes, birth_date=prisoner.birth_date)
    if errors:
        raise ValidationFailed(errors=errors)
    changed = {f: v for f, v in changes.items() if getattr(prisoner, f) != v}
    if "registry_number" in changed:
        _ensure_number_free(changed["registry_number"], prisoner.id)
    if changed:
        for field, value in {**changed, **derived_values(changed)}.items():
            setattr(prisoner, field, value)
        prisoner.updated_at = utcnow()
        _flush_unique()
        if changed.keys() & {"surname", "given_name", "birth_date"}:
            delete_keys([prisoner.id])
            insert_keys(key_rows(prisoner.id, {f: getattr(prisoner, f) for f in
                                               ("surname", "given_name", "birth_date")}))
    record_event("prisoner.update", actor, subject_type="prisoner", subject_id=prisoner.id,
                 reason="fields: " + ", ".join(sorted(changed)) if changed else "no change")
    return prisoner


def _name_clauses(q: str) -> list[Any]:
    """A name in either script and order: SURNAME [GIVEN [PATRONYMIC]] or GIVEN [PATR.] SURNAME."""
    words = name_key(q).split(" ")
    if not words or not words[0] or len(words) > MAX_QUERY_WORDS:
        return []

    def person(surname: list[str], given: str, patronymic: list[str]) -> Any:
        parts = [Prisoner.surname_key == " ".join(surname), Prisoner.given_name_key == given]
        if patronymic:
            parts.append(Prisoner.patronymic_key == " ".join(patronymic))
        return and_(*parts)

    if len(words) == 1:
        return [Prisoner.surname_key == words[0]]
    clauses = [person(words[:i], words[i], words[i + 1:]) for i in range(1, len(words))]
    clauses += [person(words[j:], words[0], words[1:j]) for j in range(1, len(words))]
    return clauses


def _prisoners_query(q: str | None, birth_date: date | None, status: str | None) -> Select:
    query = select(Prisoner)
    if q:
        q = tidy(q)
        query = query.where(or_(Prisoner.registry_number == q, *_name_clauses(q)))
    if birth_date is not None:
        query = query.where(Prisoner.birth_date == birth_date)
    if status is not None:
        query = query.where(Prisoner.status == status)
    return query


def prisoners_found(q: str) -> Select:
    """The ids of the records a registry search for `q` finds (a registry number, exactly,
    or a name in either script), as a statement to select within."""
    return _prisoners_query(q, None, None).with_only_columns(Prisoner.id)


def list_prisoners(*, q: str | None = None, birth_date: date | None = None,
                   status: str | None = None, cursor: str | None, limit: int, actor: Any,
                   reason: str | None = None) -> Page[Prisoner]:
    """A page of registry records for staff, oldest first.

    Every search is in the audit log with the reason given, but not what was searched for:
    a name or a registry number is personal data and never enters the log.
    """
    reason = _access_reason(reason)
    page = paginate(_prisoners_query(q, birth_date, status), [Prisoner.created_at, Prisoner.id],
                    cursor, limit)
    record_event("prisoner.search", actor, subject_type="prisoner", reason=reason)
    return page


_SCORED_COLUMNS = (Prisoner.id, Prisoner.surname, Prisoner.given_name, Prisoner.patronymic,
                   Prisoner.birth_date, Prisoner.birth_place, Prisoner.unit)


def _candidates(keys: set[str]) -> list[PersonRecord]:
    """The prisoners sharing the most blocking keys with the claim, found through the key
    index, most keys first, as records to score (``ref`` is the prisoner id)."""
    if not keys:
        return []
    shared = func.count().label("shared")
    top = (select(PrisonerBlockingKey.prisoner_id, shared)
           .where(PrisonerBlockingKey.key.in_(sorted(keys)))
           .group_by(PrisonerBlockingKey.prisoner_id)
           .order_by(shared.desc(), PrisonerBlockingKey.prisoner_id)
           .limit(CANDIDATE_POOL).subquery())
    rows = db().execute(select(*_SCORED_COLUMNS).join(top, top.c.prisoner_id == Prisoner.id)
                        .order_by(top.c.shared.desc(), Prisoner.id))
    return [PersonRecord(surname, given_name, patronymic, birth_date, birth_place, unit, ref)
            for ref, surname, given_name, patronymic, birth_date, birth_place, unit in rows]


def match_prisoners(*, surname: str, given_name: str, patronymic: str | None = None,
                    birth_date: date | None = None, birth_place: str | None = None,
                    unit: str | None = None, limit: int = 10, actor: Any = None,
                    audit: bool = True) -> list[Candidate]:
    """Registry records that may be the soldier a claim names, best first (score 0..1)."""
    surname, given_name = tidy(surname or ""), tidy(given_name or "")
    errors = {field: ["Give a name with Cyrillic or Latin letters."]
              for field, value in (("surname", surname), ("given_name", given_name))
              if not name_key(value)}
    if errors:
        raise ValidationFailed(errors=errors)
    query = MatchQuery(surname=surname, given_name=given_name, patronymic=patronymic,
                       birth_date=birth_date, birth_place=birth_place, unit=unit)
    ranked = rank(query, _candidates(query_keys(query)), limit=max(0, limit))
    best = [record.ref for record, _ in ranked]
    prisoners = {p.id: p for p in db().execute(
        select(Prisoner).where(Prisoner.id.in_(best))).scalars()} if best else {}
    candidates = [Candidate(prisoners[record.ref], result.score, list(result.matched_on))
                  for record, result in ranked if record.ref in prisoners]
    if audit:
        record_event("prisoner.match", actor, subject_type="prisoner",
                     subject_id=candidates[0].prisoner.id if candidates else None,
                     reason=f"{len(candidates)} candidates")
    return candidates
