"""The case access policy: who may see a case, and what its state lets her do."""
from __future__ import annotations

import uuid
from typing import Any

from services.cases import states as case_states
from storage.db import session as db
from storage.domain_errors import NotFound
from storage.models.accounts import Account
from storage.models.cases import Case
from storage.vocabulary import CaseStatus


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
    if case is None or case.status == CaseStatus.DRAFT or case.submitted_at is None:
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
