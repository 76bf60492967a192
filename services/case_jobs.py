"""Running a case's checks: inline in the embedded default, on an RQ worker when
KINPASS_REDIS_URL is set (`kinpass worker`), so a submission never waits on them."""
from __future__ import annotations

import logging
import uuid

from redis import Redis
from rq import Queue, Retry
from sqlalchemy import select

from services import case_states, runtime, unit_of_work
from services.case_checks import run_checks
from services.case_notifications import announce_status
from storage.db import session as db
from storage.errors import InvalidState
from storage.models.cases import Case

QUEUE = "kinpass-checks"
JOB_TIMEOUT = 300

log = logging.getLogger("kinpass.checks")


def check_case(case: Case) -> None:
    """Run the checks; a freshly submitted case then moves on to `in_review`."""
    run_checks(case)
    if case.status == "submitted":
        case_states.transition(case, "in_review")
        announce_status(case)


def checks_queue() -> Queue | None:
    url = runtime.get().settings.redis_url
    return Queue(QUEUE, connection=Redis.from_url(url)) if url else None


def schedule_checks(case: Case) -> None:
    """Inline without Redis; else queued once the submission has committed."""
    queue = checks_queue()
    if queue is None:
        check_case(case)
        return
    case_id = str(case.id)

    def enqueue() -> None:
        try:
            queue.enqueue(run_case_checks, case_id, job_timeout=JOB_TIMEOUT,
                          retry=Retry(max=3, interval=[10, 60, 300]))
        except Exception:  # the case stays `submitted`; `kinpass checks run` picks it up
            log.exception("could not queue the checks", extra={"case_id": case_id})

    unit_of_work.after_commit(enqueue)


def run_case_checks(case_id: str) -> str:
    """The worker's job: one case's checks in a unit of work of their own."""
    try:
        case = db().get(Case, uuid.UUID(str(case_id)))
        if case is None or case.status not in ("submitted", "in_review"):
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
        select(Case.id).where(Case.status == "submitted").order_by(Case.submitted_at)).scalars()]
    db.remove()
    return [run_case_checks(case_id) for case_id in ids]
