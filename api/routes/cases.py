"""Relatives: their cases."""
from __future__ import annotations

from uuid import UUID

from api.blueprint import Blueprint, reads_only
from api.case_guards import relative_case_in_state
from api.idempotency import idempotent
from auth.roles import current_account, current_caller, roles_required
from schemas.cases import CaseIn, CaseListArgs, CaseOut, CasePageOut, CasePatchIn
from services.cases import operations as cases
from services.workflow import lifecycle as case_lifecycle
from services.workflow.views import read_relative_case, relative_view, relative_views
from storage.models.cases import Case
from storage.paging import paginate
from storage.vocabulary import Role

blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="Relatives: cases")


@blp.route("", methods=["POST"])
@roles_required(Role.RELATIVE)
@idempotent
@blp.arguments(CaseIn)
@blp.response(201, CaseOut)
def create_case(body):
    return relative_view(cases.open_case(account=current_account(), **body))


@blp.route("", methods=["GET"])
@reads_only
@roles_required(Role.RELATIVE)
@blp.arguments(CaseListArgs, location="query")
@blp.response(200, CasePageOut)
def list_cases(args):
    items, cursor = paginate(cases.list_cases_query(current_caller().account_id),
                             [Case.created_at, Case.id], args["cursor"], args["limit"])
    return {"items": relative_views([c.id for c in items]), "next_cursor": cursor}


@blp.route("/<uuid:case_id>", methods=["GET"])
@reads_only
@roles_required(Role.RELATIVE)
@blp.response(200, CaseOut)
def get_case(case_id: UUID):
    return read_relative_case(case_id, current_caller().account_id)


@blp.route("/<uuid:case_id>", methods=["PATCH"])
@roles_required(Role.RELATIVE)
@relative_case_in_state("edit")
@blp.arguments(CasePatchIn)
@blp.response(200, CaseOut)
def patch_case(body, case_id: UUID):
    return relative_view(
        cases.patch_case(case_id=case_id, account=current_account(), changes=body))


@blp.route("/<uuid:case_id>/submit", methods=["POST"])
@roles_required(Role.RELATIVE)
@relative_case_in_state("submit")
@blp.response(202, CaseOut)
def submit_case(case_id: UUID):
    return relative_view(case_lifecycle.submit_case(case_id, current_account()))


@blp.route("/<uuid:case_id>/withdraw", methods=["POST"])
@roles_required(Role.RELATIVE)
@relative_case_in_state("withdraw")
@blp.response(200, CaseOut)
def withdraw_case(case_id: UUID):
    return relative_view(case_lifecycle.withdraw_case(case_id, current_account()))
