"""What a relative and what staff see of a case."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from services import case_states
from services.audit import record_event
from services.authorizations import authorizations_for_case
from services.cases import documents_of, missing_documents, required_documents
from storage.db import session as db
from storage.models.accounts import Account
from storage.models.cases import Case, CaseDecision
from storage.models.prisoners import Prisoner


def relative_view(case: Case) -> dict[str, Any]:
    """The case as its relative sees it: no checks, scores, officer notes or registry data."""
    documents = documents_of(case)
    return {
        "id": case.id, "status": case.status, "relationship": case.relationship,
        "applicant": case.applicant, "soldier": case.soldier,
        "documents": documents,
        "required_documents": required_documents(case),
        "missing_documents": missing_documents(case, documents),
        "status_history": list(case.history),
        "authorizations": (authorizations_for_case(case.id)
                           if case.status in case_states.AFTER_APPROVAL else []),
        "created_at": case.created_at, "updated_at": case.updated_at,
    }


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
