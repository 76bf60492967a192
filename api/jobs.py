"""The worker's jobs: each one unit of work, committed or rolled back here, like a request."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from services.core import unit_of_work
from services.workflow.jobs import check_case
from storage.db import session as db
from storage.domain_errors import InvalidState
from storage.models.cases import Case
from storage.vocabulary import CaseStatus


def run_case_checks(case_id: str) -> str:
    """The worker's job: one case's checks in a unit of work of their own."""
    try:
        case = db().get(Case, uuid.UUID(str(case_id)))
        if case is None or case.status not in (CaseStatus.SUBMITTED, CaseStatus.IN_REVIEW):
            unit_of_work.rollback()
            return "skipped"
        check_case(case)
        unit_of_work.commit()
        return case.status
    except InvalidState:  # withdrawn, or checked by another worker, meanwhile
        unit_of_work.rollback()
        return "skipped"
    finally:
        db.remove()


def run_pending_checks() -> list[str]:
    """Check every case still waiting in `submitted` (after a worker or Redis outage)."""
    ids = [str(i) for i in db().execute(
        select(Case.id).where(Case.status == CaseStatus.SUBMITTED)
        .order_by(Case.submitted_at)).scalars()]
    db.remove()
    return [run_case_checks(case_id) for case_id in ids]
