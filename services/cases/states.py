"""The case status machine, in one place: which status may follow which, and the one way a
case changes status (a conditional UPDATE on status and version, so two concurrent
transitions on one case cannot both win).

draft → submitted → in_review → (info_requested → submitted …) → approval_pending → approved
→ completed; in_review and approval_pending may also go to rejected or info_requested; every
status but completed, rejected and withdrawn may go to withdrawn.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from storage.db import session as db, utcnow
from storage.domain_errors import InvalidState
from storage.models.cases import Case, CaseStatusChange
from storage.vocabulary import CaseStatus

DRAFT, SUBMITTED, IN_REVIEW = CaseStatus.DRAFT, CaseStatus.SUBMITTED, CaseStatus.IN_REVIEW
INFO_REQUESTED, APPROVAL_PENDING = CaseStatus.INFO_REQUESTED, CaseStatus.APPROVAL_PENDING
APPROVED, COMPLETED = CaseStatus.APPROVED, CaseStatus.COMPLETED
REJECTED, WITHDRAWN = CaseStatus.REJECTED, CaseStatus.WITHDRAWN

TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    DRAFT: frozenset({SUBMITTED, WITHDRAWN}),
    SUBMITTED: frozenset({IN_REVIEW, WITHDRAWN}),
    IN_REVIEW: frozenset({APPROVAL_PENDING, INFO_REQUESTED, REJECTED, WITHDRAWN}),
    INFO_REQUESTED: frozenset({SUBMITTED, WITHDRAWN}),
    APPROVAL_PENDING: frozenset({APPROVED, INFO_REQUESTED, REJECTED, WITHDRAWN}),
    APPROVED: frozenset({COMPLETED, WITHDRAWN}),
    COMPLETED: frozenset(),
    REJECTED: frozenset(),
    WITHDRAWN: frozenset(),
}
CLOSED = frozenset({COMPLETED, REJECTED, WITHDRAWN})
# Authorizations are issued only to an approved case: earlier statuses never hold one.
AFTER_APPROVAL = frozenset({APPROVED, *TRANSITIONS[APPROVED]})
EDITABLE = frozenset({DRAFT, INFO_REQUESTED})

# Actions that change nothing about the status but are allowed only in some statuses.
ACTIONS: dict[str, frozenset[CaseStatus]] = {
    "edit": EDITABLE,
    "submit": frozenset(s for s, nxt in TRANSITIONS.items() if SUBMITTED in nxt),
    "withdraw": frozenset(s for s, nxt in TRANSITIONS.items() if WITHDRAWN in nxt),
    "link": frozenset({IN_REVIEW}),
    "decide": frozenset({IN_REVIEW, APPROVAL_PENDING}),
    "complete": frozenset({APPROVED}),
    "authorize": frozenset({APPROVED}),
}


def can(case: Case, action: str) -> bool:
    return case.status in ACTIONS[action]


def require(case: Case, action: str) -> None:
    """409 invalid_state unless ``action`` is allowed in the case's current status."""
    if not can(case, action):
        raise InvalidState()


def record_initial(case: Case, at: datetime) -> None:
    """Every history begins with `draft`."""
    case.history.append(CaseStatusChange(case_id=case.id, seq=1, status=DRAFT, at=at))
    db().flush()


def transition(case: Case, to: CaseStatus) -> CaseStatusChange:
    """Move ``case`` to ``to``; 409 invalid_state if not allowed or if another transition won."""
    if to not in TRANSITIONS[case.status]:
        raise InvalidState()
    now = utcnow()
    values: dict = {"status": to, "version": Case.version + 1, "updated_at": now}
    if to == SUBMITTED and case.submitted_at is None:
        values["submitted_at"] = now
    if to in CLOSED:
        values["closed_at"] = now
    result = db().execute(
        update(Case)
        .where(Case.id == case.id, Case.status == case.status, Case.version == case.version)
        .values(**values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise InvalidState()
    db().refresh(case, ["status", "version", "updated_at", "submitted_at", "closed_at"])
    change = CaseStatusChange(case_id=case.id, seq=len(case.history) + 1, status=to, at=now)
    case.history.append(change)
    db().flush()
    return change
