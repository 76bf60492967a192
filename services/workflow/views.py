"""What a relative and what staff see of a case."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select

from services.audit.events import record_event
from services.authorizations.operations import authorizations_for_case
from services.cases import states as case_states
from services.cases.policy import ensure_relative_owns
from services.cases.requirements import missing_documents, required_documents
from storage.db import session as db
from storage.models.accounts import Account
from storage.models.cases import Case, CaseDecision, CaseStatusChange, Document
from storage.models.prisoners import Prisoner


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """What the relative's view reads of a case, straight from its rows."""

    id: uuid.UUID
    account_id: uuid.UUID
    status: str
    relationship: str
    applicant: dict[str, Any]
    soldier: dict[str, Any]
    requested_documents: list[str] | None
    created_at: datetime
    updated_at: datetime
    history: list[Any]


def _one_and_many(query: Select, column: Any) -> tuple[Select, Select]:
    """The query for one case (`id`) and for several (`ids`, an IN list rendered per call)."""
    return (query.where(column == bindparam("id")),
            query.where(column.in_(bindparam("ids", expanding=True))))


_CASE, _CASES = _one_and_many(
    select(*(getattr(Case, name) for name in CaseRecord.__slots__ if name != "history")),
    Case.id)
_HISTORY, _HISTORIES = _one_and_many(
    select(CaseStatusChange.case_id, CaseStatusChange.status, CaseStatusChange.at)
    .order_by(CaseStatusChange.seq), CaseStatusChange.case_id)
_DOCUMENTS, _DOCUMENTS_OF_CASES = _one_and_many(
    select(Document.id, Document.case_id, Document.kind, Document.content_type, Document.size,
           Document.sha256, Document.encryption, Document.status, Document.created_at,
           Document.uploaded_at).order_by(Document.created_at, Document.id), Document.case_id)


def _view(case: CaseRecord, documents: list[Any]) -> dict[str, Any]:
    """The case as its relative sees it: no checks, scores, officer notes or registry data."""
    return {
        "id": case.id, "status": case.status, "relationship": case.relationship,
        "applicant": case.applicant, "soldier": case.soldier,
        "documents": [document._asdict() for document in documents],
        "required_documents": required_documents(case),
        "missing_documents": missing_documents(case, documents),
        "status_history": [change._asdict() for change in case.history],
        "authorizations": (authorizations_for_case(case.id)
                           if case.status in case_states.AFTER_APPROVAL else []),
        "created_at": case.created_at, "updated_at": case.updated_at,
    }


def relative_views(case_ids: list[uuid.UUID],
                   owner_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The relative's view of each case, in the order given, in three queries however many.
    With `owner_id`, a case that is not hers answers 404 before anything else is read."""
    if not case_ids:
        return []
    session = db()
    session.flush()
    connection = session.connection()
    if len(case_ids) == 1:
        queries, params = (_CASE, _HISTORY, _DOCUMENTS), {"id": case_ids[0]}
    else:
        queries, params = (_CASES, _HISTORIES, _DOCUMENTS_OF_CASES), {"ids": case_ids}
    rows = {row.id: row for row in connection.execute(queries[0], params)}
    if owner_id is not None:
        for case_id in case_ids:
            ensure_relative_owns(rows.get(case_id), owner_id)
    history: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for change in connection.execute(queries[1], params):
        history[change.case_id].append(change)
    documents: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for document in connection.execute(queries[2], params):
        documents[document.case_id].append(document)
    return [_view(CaseRecord(**rows[case_id]._mapping, history=history[case_id]),
                  documents[case_id]) for case_id in case_ids]


def relative_view(case: Case) -> dict[str, Any]:
    return relative_views([case.id])[0]


def read_relative_case(case_id: uuid.UUID, account_id: uuid.UUID) -> dict[str, Any]:
    """A relative reading her own case, without loading it as a model first."""
    return relative_views([case_id], owner_id=account_id)[0]


def _candidates(case: Case) -> list[dict[str, Any]]:
    stored = case.match_candidates or []
    ids = [uuid.UUID(c["prisoner_id"]) for c in stored]
    prisoners = {p.id: p for p in db().execute(
        select(Prisoner).where(Prisoner.id.in_(ids))).scalars()} if ids else {}
    return [{"prisoner": prisoners[uuid.UUID(c["prisoner_id"])], "score": c["score"],
             "matched_on": c["matched_on"]}
            for c in stored if uuid.UUID(c["prisoner_id"]) in prisoners]


def staff_view(case: Case, viewer: Account) -> dict[str, Any]:
    """The relative's view plus the checks, the registry side and the decisions; every
    staff view of a case is in the audit log."""
    record_event("case.view", viewer, subject_type="case", subject_id=case.id)
    decisions = db().execute(select(CaseDecision).where(CaseDecision.case_id == case.id)
                             .order_by(CaseDecision.at, CaseDecision.id)).scalars().all()
    return {
        **relative_view(case),
        "applicant_account": db().get(Account, case.account_id),
        "checks": case.checks or [],
        "match_candidates": _candidates(case),
        "linked_prisoner": db().get(Prisoner, case.prisoner_id) if case.prisoner_id else None,
        "decisions": list(decisions),
    }
