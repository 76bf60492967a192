"""A relative's transitions: submitting a case (then its checks) and withdrawing it."""
from __future__ import annotations

import uuid

from services.audit.events import record_event
from services.authorizations.operations import revoke_case_authorizations
from services.authorizations.sealing import shred_case_authorizations
from services.cases import states as case_states
from services.cases.notifications import announce_status
from services.cases.policy import require_relative_action
from services.cases.requirements import missing_documents
from services.documents.shredding import shred_case_documents
from services.workflow.jobs import schedule_checks
from storage.domain_errors import DocumentsMissing
from storage.models.accounts import Account
from storage.models.cases import Case
from storage.vocabulary import CaseStatus


def submit_case(case_id: uuid.UUID, account: Account) -> Case:
    """`draft` or `info_requested` → `submitted`, then the checks (→ `in_review`)."""
    case = require_relative_action(case_id, account, "submit")
    missing = missing_documents(case)
    if missing:
        raise DocumentsMissing(extra={"missing": missing})
    case_states.transition(case, CaseStatus.SUBMITTED)
    announce_status(case)
    record_event("case.submit", account, subject_type="case", subject_id=case.id)
    schedule_checks(case)
    return case


def withdraw_case(case_id: uuid.UUID, account: Account) -> Case:
    """Any open status → `withdrawn`: documents shredded, authorizations revoked and shredded."""
    case = require_relative_action(case_id, account, "withdraw")
    case_states.transition(case, CaseStatus.WITHDRAWN)
    shred_case_documents(case, account)
    revoke_case_authorizations(case, account)
    shred_case_authorizations(case, account)
    announce_status(case)
    record_event("case.withdraw", account, subject_type="case", subject_id=case.id)
    return case
