"""Relatives: their cases."""
from __future__ import annotations

from uuid import UUID

from api.blueprint import Blueprint, reads_only
from api.case_guards import relative_case_in_state
from api.idempotency import idempotent
from auth.roles import current_account, current_caller, roles_required
from schemas.cases import CaseIn, CaseOut, CasePatchIn
from services.cases import operations as cases
from services.workflow import lifecycle as case_lifecycle, views as case_views
from storage.vocabulary import Role

SUBMITTED = {**CaseOut.EXAMPLE, "status": "submitted", "missing_documents": [],
             "status_history": [{"status": "draft", "at": "2026-03-02T10:15:00Z"},
                                {"status": "submitted", "at": "2026-03-02T10:20:00Z"}]}

blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="Relatives: cases")


@blp.route("", methods=["POST"])
@roles_required(Role.RELATIVE)
@idempotent
@blp.arguments(CaseIn)
@blp.response(201, CaseOut)
def create_case(body):
    """Open a case.

    One relative's request to collect one captured soldier; it starts as a `draft`.
    """
    return case_views.relative_view(cases.open_case(account=current_account(), **body))


@blp.route("", methods=["GET"])
@reads_only
@roles_required(Role.RELATIVE)
@blp.paginated(CaseOut)
def list_cases(cursor, limit):
    """Your cases.

    Every case of the calling relative, drafts included.
    """
    return case_views.list_cases(current_caller().account_id, cursor=cursor, limit=limit)


@blp.route("/<uuid:case_id>", methods=["GET"])
@reads_only
@roles_required(Role.RELATIVE)
@blp.response(200, CaseOut)
def get_case(case_id: UUID):
    """One of your cases.

    With its documents, the documents still missing, its status history and
    authorizations.
    """
    return case_views.read_relative_case(case_id, current_caller().account_id)


@blp.route("/<uuid:case_id>", methods=["PATCH"])
@roles_required(Role.RELATIVE)
@relative_case_in_state("edit")
@blp.arguments(CasePatchIn)
@blp.response(200, CaseOut)
def patch_case(body, case_id: UUID):
    """Change a case (JSON Merge Patch).

    Nested objects merge field by field and `null` clears an optional field. Only in
    `draft` or `info_requested`, else 409 `invalid_state`.
    """
    return case_views.relative_view(
        cases.patch_case(case_id=case_id, account=current_account(), changes=body))


@blp.route("/<uuid:case_id>/submit", methods=["POST"])
@roles_required(Role.RELATIVE)
@relative_case_in_state("submit")
@blp.response(202, CaseOut, example=SUBMITTED)
def submit_case(case_id: UUID):
    """Submit a case for review.

    Missing required documents are 409 `documents_missing` with `missing`. The automated
    checks then run; the case is `in_review` when they finish.
    """
    return case_views.relative_view(case_lifecycle.submit_case(case_id, current_account()))


@blp.route("/<uuid:case_id>/withdraw", methods=["POST"])
@roles_required(Role.RELATIVE)
@relative_case_in_state("withdraw")
@blp.response(200, CaseOut)
def withdraw_case(case_id: UUID):
    """Withdraw a case.

    From any status but `completed`, `rejected` and `withdrawn`; its documents are
    shredded and its active authorizations revoked.
    """
    return case_views.relative_view(case_lifecycle.withdraw_case(case_id, current_account()))
