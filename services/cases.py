"""Cases: opening, reading, editing, the access policy, required documents, completion."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import load_only, raiseload

from services import case_states
from services.audit import SYSTEM, record_event
from services.case_notifications import announce_status
from storage.db import session as db, utcnow
from storage.errors import InvalidState, NotFound
from storage.models.accounts import Account
from storage.models.cases import Case, Document

IDENTITY_KINDS = ("passport", "internal_passport", "id_card")
EVIDENCE_BY_RELATIONSHIP = {
    "mother": "birth_certificate", "father": "birth_certificate", "child": "birth_certificate",
    "sibling": "birth_certificate", "grandparent": "birth_certificate",
    "spouse": "marriage_certificate", "other": None,
}
PEOPLE = ("applicant", "soldier")


def _jsonable(person: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in person.items()
            if v is not None}


# --- the access policy -------------------------------------------------------------------------

def ensure_relative_owns(case: Any, account_id: uuid.UUID) -> None:
    """A relative sees her own case; someone else's answers 404 exactly like a missing one."""
    if case is None or case.account_id != account_id:
        raise NotFound()


def case_for_relative(case_id: uuid.UUID, account: Account) -> Case:
    """The relative's own case."""
    case = db().get(Case, case_id)
    ensure_relative_owns(case, account.id)
    return case


def case_for_staff(case_id: uuid.UUID, account: Account) -> Case:
    """A case as staff may see it: only once submitted (a draft, or a draft withdrawn
    unsubmitted, is its relative's alone)."""
    case = db().get(Case, case_id)
    if case is None or case.status == "draft" or case.submitted_at is None:
        raise NotFound()
    return case


def ensure_editable(case: Case) -> None:
    """409 invalid_state unless the case is in `draft` or `info_requested`."""
    case_states.require(case, "edit")


def require_relative_action(case_id: uuid.UUID, account: Account, action: str) -> Case:
    case = case_for_relative(case_id, account)
    case_states.require(case, action)
    return case


def require_staff_action(case_id: uuid.UUID, account: Account, action: str) -> Case:
    case = case_for_staff(case_id, account)
    case_states.require(case, action)
    return case


# --- documents a case needs --------------------------------------------------------------------

def required_documents(case: Case) -> list[str]:
    kinds = ["passport"]
    evidence = EVIDENCE_BY_RELATIONSHIP[case.relationship]
    if evidence:
        kinds.append(evidence)
    for kind in case.requested_documents or []:
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def _last_info_request_at(case: Case) -> Any:
    times = [change.at for change in case.history if change.status == "info_requested"]
    return times[-1] if times else None


def missing_documents(case: Case, documents: list[Document] | None = None) -> list[str]:
    """Required kinds with no stored document; a kind an officer asked for must have been
    uploaded after the request. A missing identity document is reported as `passport`."""
    if documents is None:
        documents = documents_of(case)
    stored = [d for d in documents if d.status == "stored"]
    requested_since = _last_info_request_at(case)
    requested = set(case.requested_documents or [])
    missing = []
    for kind in required_documents(case):
        kinds = IDENTITY_KINDS if kind == "passport" else (kind,)
        candidates = [d for d in stored if d.kind in kinds]
        if kind in requested and requested_since is not None:
            candidates = [d for d in candidates if d.created_at >= requested_since]
        if not candidates:
            missing.append(kind)
    return missing


# --- use cases ---------------------------------------------------------------------------------

def open_case(*, account: Account, relationship: str, applicant: dict[str, Any],
              soldier: dict[str, Any]) -> Case:
    now = utcnow()
    case = Case(account_id=account.id, status="draft", relationship=relationship,
                applicant=_jsonable(applicant), soldier=_jsonable(soldier), version=1,
                created_at=now, updated_at=now)
    db().add(case)
    db().flush()
    case_states.record_initial(case, now)
    record_event("case.create", account, subject_type="case", subject_id=case.id)
    return case


def list_cases_query(account_id: uuid.UUID) -> Select:
    """A relative's cases to page through by (created_at, id): only those columns are loaded,
    since the views are read apart (services.case_views.relative_views)."""
    return (select(Case).where(Case.account_id == account_id)
            .options(load_only(Case.id, Case.created_at), raiseload(Case.history)))


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
    case_states.transition(case, "completed")
    announce_status(case)
    record_event("case.complete", actor, subject_type="case", subject_id=case.id)
    return case


# --- documents ---------------------------------------------------------------------------------

def documents_of(case: Case) -> list[Document]:
    return list(db().execute(select(Document).where(Document.case_id == case.id)
                             .order_by(Document.created_at, Document.id)).scalars())
