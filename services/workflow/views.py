"""What a relative and what staff see of a case, one case or a page of them, read in the same
few queries however many cases."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import load_only, raiseload

from services.audit.events import record_event
from services.authorizations.operations import authorizations_of_cases
from services.cases import states as case_states
from services.cases.policy import ensure_relative_owns
from services.cases.requirements import missing_documents, required_documents
from services.workflow.case_rows import CASE_COLUMNS, read_cases
from services.workflow.queue import ORDERS, QueueFilters, filtered
from storage.db import session as db
from storage.models.accounts import Account
from storage.models.cases import Case, CaseDecision
from storage.models.prisoners import Prisoner
from storage.paging import Page, paginate
from storage.vocabulary import CaseStatus, Decision


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


def _info_requests(cases: list[Any]) -> dict[uuid.UUID, dict[str, Any]]:
    """For each case waiting on its relative: the officer's reason and the documents asked
    for, from the latest request (one query, and none when no case is waiting)."""
    waiting = [case.id for case in cases if case.status == CaseStatus.INFO_REQUESTED]
    if not waiting:
        return {}
    latest: dict[uuid.UUID, Any] = {}
    for decision in db().execute(
            select(CaseDecision.case_id, CaseDecision.reason, CaseDecision.at)
            .where(CaseDecision.case_id.in_(waiting),
                   CaseDecision.decision == Decision.REQUEST_INFO)
            .order_by(CaseDecision.at, CaseDecision.id)):
        latest[decision.case_id] = decision
    requests = {}
    for case in cases:
        decision = latest.get(case.id)
        if decision is not None:
            requests[case.id] = {"reason": decision.reason, "at": decision.at,
                                 "requested_documents": list(case.requested_documents or [])}
    return requests


def _view(case: CaseRecord, documents: list[Any], authorizations: list[Any],
          info_request: dict[str, Any] | None = None) -> dict[str, Any]:
    """The case as its relative sees it: no checks, scores, officer notes or registry data."""
    return {
        "id": case.id, "status": case.status, "relationship": case.relationship,
        "applicant": case.applicant, "soldier": case.soldier,
        "documents": [document._asdict() for document in documents],
        "required_documents": required_documents(case),
        "missing_documents": missing_documents(case, documents),
        "status_history": [change._asdict() for change in case.history],
        "authorizations": authorizations,
        "info_request": info_request,
        "created_at": case.created_at, "updated_at": case.updated_at,
    }


def relative_views(case_ids: list[uuid.UUID],
                   owner_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The relative's view of each case, in the order given, in three queries however many
    (four once one is approved). With `owner_id`, a case that is not hers answers 404 before
    anything else is read."""
    if not case_ids:
        return []
    session = db()
    session.flush()
    found = read_cases(session.connection(), case_ids)
    if owner_id is not None:
        for case_id in case_ids:
            ensure_relative_owns(found[case_id][0] if case_id in found else None, owner_id)
    authorizations = authorizations_of_cases(
        [case_id for case_id in case_ids
         if found[case_id][0].status in case_states.AFTER_APPROVAL])
    info_requests = _info_requests([found[case_id][0] for case_id in case_ids])
    return [_view(_record(*found[case_id][:2]), found[case_id][2], authorizations[case_id],
                  info_requests.get(case_id))
            for case_id in case_ids]


def _record(row: Any, history: list[Any]) -> CaseRecord:
    return CaseRecord(**{name: getattr(row, name) for name in CASE_COLUMNS}, history=history)


def relative_view(case: Case) -> dict[str, Any]:
    return relative_views([case.id])[0]


def read_relative_case(case_id: uuid.UUID, account_id: uuid.UUID) -> dict[str, Any]:
    """A relative reading her own case, without loading it as a model first."""
    return relative_views([case_id], owner_id=account_id)[0]


def list_cases(account_id: uuid.UUID, *, cursor: str | None,
               limit: int) -> Page[dict[str, Any]]:
    """A relative's cases, oldest first: the page is found on (created_at, id) alone, then
    its views are read together."""
    page = paginate(select(Case).where(Case.account_id == account_id)
                    .options(load_only(Case.id, Case.created_at), raiseload(Case.history)),
                    [Case.created_at, Case.id], cursor, limit)
    return page.map(lambda cases: relative_views([case.id for case in cases]))


def _candidates(case: Case, prisoners: dict[uuid.UUID, Prisoner]) -> list[dict[str, Any]]:
    """The stored match candidates whose record is still in the registry."""
    found = []
    for candidate in case.match_candidates or []:
        prisoner = prisoners.get(uuid.UUID(candidate["prisoner_id"]))
        if prisoner is not None:
            found.append({"prisoner": prisoner, "score": candidate["score"],
                          "matched_on": candidate["matched_on"]})
    return found


STAFF_COLUMNS = (Case.id, Case.account_id, Case.prisoner_id, Case.checks, Case.match_candidates,
                 Case.submitted_at, Case.updated_at)


def _by_id(model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    return {row.id: row for row in db().execute(
        select(model).where(model.id.in_(ids))).scalars()}


def staff_views(cases: list[Case], viewer: Account) -> list[dict[str, Any]]:
    """The relative's view of each case plus the checks, the registry side and the decisions,
    in the order given and in the same few queries however many; every staff view of a case
    is in the audit log."""
    for case in cases:
        record_event("case.view", viewer, subject_type="case", subject_id=case.id)
    if not cases:
        return []
    ids = [case.id for case in cases]
    decisions: dict[uuid.UUID, list[CaseDecision]] = defaultdict(list)
    for decision in db().execute(select(CaseDecision).where(CaseDecision.case_id.in_(ids))
                                 .order_by(CaseDecision.at, CaseDecision.id)).scalars():
        decisions[decision.case_id].append(decision)
    views = relative_views(ids)
    accounts = _by_id(Account, {case.account_id for case in cases})
    prisoners = _by_id(Prisoner, {uuid.UUID(c["prisoner_id"]) for case in cases
                                  for c in case.match_candidates or []}
                       | {case.prisoner_id for case in cases if case.prisoner_id})
    return [{
        **view,
        "applicant_account": accounts.get(case.account_id),
        "checks": case.checks or [],
        "match_candidates": _candidates(case, prisoners),
        "linked_prisoner": prisoners.get(case.prisoner_id) if case.prisoner_id else None,
        "decisions": decisions[case.id],
    } for case, view in zip(cases, views, strict=True)]


def staff_view(case: Case, viewer: Account) -> dict[str, Any]:
    return staff_views([case], viewer)[0]


def list_queue(status: str | None = None, *, cursor: str | None, limit: int,
               viewer: Account, filters: QueueFilters | None = None) -> Page[dict[str, Any]]:
    """Submitted cases (never a draft), oldest submission first unless `filters` orders
    them otherwise, as staff see them."""
    filters = filters or QueueFilters()
    # Only what the staff part of a view reads off the model (and the page's keys): the
    # relative's part is read again, with the history and documents, in one statement.
    query = (select(Case).where(Case.status != "draft", Case.submitted_at.is_not(None))
             .options(load_only(*STAFF_COLUMNS, raiseload=True), raiseload(Case.history)))
    if status:
        query = query.where(Case.status == status)
    columns, descending = ORDERS[filters.order]
    page = paginate(filtered(query, filters), list(columns), cursor, limit,
                    descending=descending)
    return page.map(lambda cases: staff_views(cases, viewer))
