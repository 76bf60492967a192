"""Cases: opening, editing, completion (a relative lists hers in services.workflow.views)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import update

from services.audit.events import SYSTEM, record_event
from services.cases import states as case_states
from services.cases.notifications import announce_status
from services.cases.policy import require_relative_action
from storage.db import session as db, utcnow
from storage.domain_errors import InvalidState
from storage.models.accounts import Account
from storage.models.cases import Case
from storage.vocabulary import CaseStatus, Relationship

PEOPLE = ("applicant", "soldier")


def _jsonable(person: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in person.items()
            if v is not None}


def open_case(*, account: Account, relationship: Relationship, applicant: dict[str, Any],
              soldier: dict[str, Any]) -> Case:
    now = utcnow()
    case = Case(account_id=account.id, status=CaseStatus.DRAFT, relationship=relationship,
                applicant=_jsonable(applicant), soldier=_jsonable(soldier), version=1,
                created_at=now, updated_at=now)
    db().add(case)
    db().flush()
    case_states.record_initial(case, now)
    record_event("case.create", account, subject_type="case", subject_id=case.id)
    return case


def patch_case(*, case_id: uuid.UUID, account: Account, changes: dict[str, Any]) -> Case:
    """JSON Merge Patch (RFC 7396): people merge field by field, `null` clears a field."""
    case = require_relative_action(case_id, account, "edit")
    values: dict[str, Any] = {}
    if "relationship" in changes:
        values["relationship"] = changes["relationship"]
    for person in PEOPLE:
        if person in changes:
            merged = dict(getattr(case, person))
            for key, value in changes[person].items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            values[person] = _jsonable(merged)
    result = db().execute(
        update(Case)
        .where(Case.id == case.id, Case.version == case.version,
               Case.status.in_(case_states.EDITABLE))
        .values(**values, version=Case.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise InvalidState()
    db().refresh(case)
    record_event("case.update", account, subject_type="case", subject_id=case.id)
    return case


def complete_case(case: Case, actor: Any = SYSTEM) -> Case:
    """`approved` → `completed`, when the case's pickup authorization is redeemed."""
    case_states.transition(case, CaseStatus.COMPLETED)
    announce_status(case)
    record_event("case.complete", actor, subject_type="case", subject_id=case.id)
    return case
