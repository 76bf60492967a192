"""Running a case's checks: inline in the embedded default, on an RQ worker when
KINPASS_REDIS_URL is set (`kinpass worker`), so a submission never waits on them."""
from __future__ import annotations

import logging

from redis import Redis
from rq import Queue, Retry

from services.cases import states as case_states
from services.cases.notifications import announce_status
from services.core import runtime, unit_of_work
from services.workflow.checks import run_checks
from storage.models.cases import Case
from storage.vocabulary import CaseStatus

QUEUE = "kinpass-checks"
JOB = "api.jobs.run_case_checks"  # the worker's entry, which owns the unit of work
JOB_TIMEOUT = 300

log = logging.getLogger("kinpass.checks")


def check_case(case: Case) -> None:
    """Run the checks; a freshly submitted case then moves on to `in_review`."""
    run_checks(case)
    if case.status == CaseStatus.SUBMITTED:
        case_states.transition(case, CaseStatus.IN_REVIEW)
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
            queue.enqueue(JOB, case_id, job_timeout=JOB_TIMEOUT,
                          retry=Retry(max=3, interval=[10, 60, 300]))
        except Exception:  # the case stays `submitted`; `kinpass checks run` picks it up
            log.exception("could not queue the checks", extra={"case_id": case_id})

    unit_of_work.after_commit(enqueue)
