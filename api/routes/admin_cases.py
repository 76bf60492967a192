"""Officers and supervisors: the case queue, the case file, linking and decisions."""
from __future__ import annotations

from uuid import UUID

from api.blueprint import Blueprint
from api.case_guards import staff_case_in_state
from api.idempotency import idempotent
from auth.roles import current_account, roles_required
from schemas.cases import DecisionIn, LinkIn, StaffCaseListArgs, StaffCaseOut, StaffCasePageOut
from services.cases.policy import case_for_staff
from services.workflow import review as case_review
from services.workflow.views import staff_view
from storage.models.cases import Case
from storage.paging import paginate
from storage.vocabulary import CASE_STAFF

blp = Blueprint("admin_cases", __name__, url_prefix="/v1/admin/cases",
                description="Officers and supervisors: cases")


@blp.route("", methods=["GET"])
@roles_required(*CASE_STAFF)
@blp.arguments(StaffCaseListArgs, location="query")
@blp.response(200, StaffCasePageOut)
def list_cases(args):
    items, cursor = paginate(case_review.queue_query(args["status"]),
                             [Case.submitted_at, Case.id], args["cursor"], args["limit"])
    return {"items": [staff_view(c, current_account()) for c in items], "next_cursor": cursor}


@blp.route("/<uuid:case_id>", methods=["GET"])
@roles_required(*CASE_STAFF)
@blp.response(200, StaffCaseOut)
def get_case(case_id: UUID):
    return staff_view(case_for_staff(case_id, current_account()), current_account())


@blp.route("/<uuid:case_id>/link", methods=["POST"])
@roles_required(*CASE_STAFF)
@staff_case_in_state("link")
@blp.arguments(LinkIn)
@blp.response(200, StaffCaseOut)
def link_case(body, case_id: UUID):
    return staff_view(case_review.link_case(case_id=case_id, actor=current_account(), **body),
                      current_account())


@blp.route("/<uuid:case_id>/decisions", methods=["POST"])
@roles_required(*CASE_STAFF)
@idempotent
@staff_case_in_state("decide")
@blp.arguments(DecisionIn)
@blp.response(201, StaffCaseOut)
def decide_case(body, case_id: UUID):
    return staff_view(case_review.decide_case(case_id=case_id, actor=current_account(), **body),
                      current_account())
