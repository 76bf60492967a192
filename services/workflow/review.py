"""Officers and supervisors: linking and decisions (four eyes); what they see is in
services.workflow.views."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from services.audit.events import record_event
from services.cases import states as case_states
from services.cases.notifications import announce_status
from services.cases.policy import require_staff_action
from services.core import unit_of_work
from services.workflow.checks import run_checks
from storage.db import session as db, utcnow
from storage.domain_errors import FourEyesRequired, InvalidState, ValidationFailed
from storage.models.accounts import Account
from storage.models.cases import Case, CaseDecision
from storage.models.prisoners import Prisoner
from storage.vocabulary import AuditOutcome, CaseStatus, Decision, Role

NEXT_STATUS = {Decision.REJECT: CaseStatus.REJECTED,
               Decision.REQUEST_INFO: CaseStatus.INFO_REQUESTED}


def link_case(*, case_id: uuid.UUID, prisoner_id: uuid.UUID, actor: Account) -> Case:
    """Link the case to a registry record and re-run the checks."""
    case = require_staff_action(case_id, actor, "link")
    prisoner = db().get(Prisoner, prisoner_id)
    if prisoner is None:
        raise ValidationFailed(errors={"prisoner_id": ["No prisoner has this id."]})
    result = db().execute(
        update(Case)
        .where(Case.id == case.id, Case.version == case.version,
               Case.status.in_(case_states.ACTIONS["link"]))
        .values(prisoner_id=prisoner.id, candidate_prisoner_id=None,
                version=Case.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise InvalidState()
    db().refresh(case)
    run_checks(case)
    record_event("case.link", actor, subject_type="case", subject_id=case.id)
    return case


def _first_approval(case: Case) -> CaseDecision | None:
    return db().execute(
        select(CaseDecision).where(CaseDecision.case_id == case.id,
                                   CaseDecision.decision == Decision.APPROVE)
        .order_by(CaseDecision.at.desc(), CaseDecision.id.desc()).limit(1)).scalar_one_or_none()


def first_approver(case: Case) -> uuid.UUID | None:
    """Who gave the approval a case awaiting its second one has (None in other states)."""
    if case.status != CaseStatus.APPROVAL_PENDING:
        return None
    first = _first_approval(case)
    return first.by if first is not None else None


def may_approve_second(first_by: uuid.UUID | None, actor: Any) -> bool:
    """Four eyes: the second approval is a supervisor's, and not the first approver's."""
    return actor.role == Role.SUPERVISOR and (first_by is None or first_by != actor.id)


def _approval_target(case: Case, actor: Account) -> CaseStatus:
    if case.status == CaseStatus.IN_REVIEW:
        if case.prisoner_id is None:
            raise InvalidState()
        return CaseStatus.APPROVAL_PENDING
    first = _first_approval(case)
    if not may_approve_second(first.by if first is not None else None, actor):
        record_event("case.decision", actor, subject_type="case", subject_id=case.id,
                     outcome=AuditOutcome.DENIED, reason="four_eyes_required")
        unit_of_work.keep_on_refusal()
        raise FourEyesRequired()
    return CaseStatus.APPROVED


def decide_case(*, case_id: uuid.UUID, actor: Account, decision: Decision, reason: str,
                requested_documents: list[str] | None = None) -> Case:
    """approve / reject / request_info, each with a reason; the second approval is a
    different account's, a supervisor's."""
    case = require_staff_action(case_id, actor, "decide")
    target = (_approval_target(case, actor) if decision == Decision.APPROVE
              else NEXT_STATUS[decision])
    case_states.transition(case, target)
    if decision == Decision.REQUEST_INFO:
        case.requested_documents = list(dict.fromkeys(requested_documents or []))
    db().add(CaseDecision(case_id=case.id, decision=decision, by=actor.id, role=actor.role,
                          reason=reason, at=utcnow()))
    db().flush()
    announce_status(case, reason=reason, requested_documents=case.requested_documents or [])
    record_event("case.decision", actor, subject_type="case", subject_id=case.id,
                 reason=decision)
    return case
