"""The staff queue's filters: status, a failing check, age, a search by name (either
script) or registry number, and the order; and the counts per status."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, Text, cast, func, or_, select

from services.registry.prisoner_fields import tidy
from services.registry.prisoners import prisoners_found
from storage.db import session as db, utcnow
from storage.models.cases import Case
from storage.vocabulary import CaseStatus

# name: (key columns, newest first)
ORDERS = {"oldest": ((Case.submitted_at, Case.id), False),
          "newest": ((Case.submitted_at, Case.id), True),
          "updated": ((Case.updated_at, Case.id), True)}
ANY_CHECK = "any"
PEOPLE = ("soldier", "applicant")
NAME_PARTS = ("surname", "given_name")


@dataclass(frozen=True)
class QueueFilters:
    """What a queue page asks for beyond the status; every field optional."""

    failing: str | None = None  # a check's name, or "any"
    older_than_days: int | None = None
    search: str | None = None
    order: str = "oldest"


def _failing(check: str) -> Any:
    """Cases whose stored checks hold a `fail` (of the named check): the checks are JSON
    written by this service, one object per check with its name first."""
    text = cast(Case.checks, Text)
    if check == ANY_CHECK:
        return text.like('%"result": "fail"%')
    return text.like(f'%"name": "{check}", "result": "fail"%')


def _spellings(word: str) -> set[str]:
    return {word, word.capitalize(), word.upper(), word.lower(), word.title()}


def _search(q: str) -> Any:
    """A registry number or a name, in either script: the cases linked to (or whose best
    candidate is) a record the registry search finds, and those whose soldier or applicant
    has this surname or given name as written."""
    q = tidy(q)[:100]
    found = prisoners_found(q)
    clauses = [Case.prisoner_id.in_(found), Case.candidate_prisoner_id.in_(found)]
    for person in PEOPLE:
        for part in NAME_PARTS:
            clauses.append(getattr(Case, person)[part].as_string().in_(_spellings(q)))
    return or_(*clauses)


def filtered(query: Select, filters: QueueFilters) -> Select:
    if filters.failing:
        query = query.where(_failing(filters.failing))
    if filters.older_than_days:
        query = query.where(Case.submitted_at
                            <= utcnow() - timedelta(days=filters.older_than_days))
    if filters.search and filters.search.strip():
        query = query.where(_search(filters.search))
    return query


def status_counts() -> dict[str, int]:
    """How many submitted cases are in each status (one query)."""
    rows = db().execute(select(Case.status, func.count()).where(
        Case.status != CaseStatus.DRAFT, Case.submitted_at.is_not(None))
        .group_by(Case.status))
    return {str(status): count for status, count in rows}
