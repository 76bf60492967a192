"""Officers and supervisors: the case queue, the case file, linking and decisions."""
from __future__ import annotations

from uuid import UUID

from api.blueprint import Blueprint, reads_and_logs, reads_only
from api.case_guards import staff_case_in_state
from api.idempotency import idempotent
from auth.roles import current_account, roles_required
from schemas.cases import DecisionIn, LinkIn, StaffCaseFilters, StaffCaseOut
from schemas.messages import MessageStateListOut
from services.cases.policy import case_for_staff
from services.messages.history import case_messages
from services.workflow import review as case_review
from services.workflow.views import list_queue, staff_view
from storage.vocabulary import CASE_STAFF

blp = Blueprint("admin_cases", __name__, url_prefix="/v1/admin/cases",
                description="Officers and supervisors: cases")


@blp.route("", methods=["GET"])
@reads_and_logs
@roles_required(*CASE_STAFF)
@blp.paginated(StaffCaseOut, filters=StaffCaseFilters)
def list_cases(status, cursor, limit):
    """The case queue, oldest submission first.

    Submitted cases only (a draft is its relative's alone); `status` filters.
    """
    return list_queue(status, cursor=cursor, limit=limit, viewer=current_account())


@blp.route("/<uuid:case_id>", methods=["GET"])
@reads_and_logs
@roles_required(*CASE_STAFF)
@blp.response(200, StaffCaseOut)
def get_case(case_id: UUID):
    """A case file as staff see it.

    The case plus the applicant's account, the automated checks, the registry
    candidates, the linked prisoner and the decisions. Audited as `case.view`.
    """
    return staff_view(case_for_staff(case_id, current_account()), current_account())


@blp.route("/<uuid:case_id>/link", methods=["POST"])
@roles_required(*CASE_STAFF)
@staff_case_in_state("link")
@blp.arguments(LinkIn)
@blp.response(200, StaffCaseOut)
def link_case(body, case_id: UUID):
    """Link a case to a registry prisoner.

    The checks run again. A `prisoner_id` that names nothing is 400 `validation_error`
    on that field.
    """
    return staff_view(case_review.link_case(case_id=case_id, actor=current_account(), **body),
                      current_account())


@blp.route("/<uuid:case_id>/decisions", methods=["POST"])
@roles_required(*CASE_STAFF)
@idempotent
@staff_case_in_state("decide")
@blp.arguments(DecisionIn)
@blp.response(201, StaffCaseOut)
def decide_case(body, case_id: UUID):
    """Approve, reject or ask for information.

    The first `approve` (a linked prisoner needed) makes the case `approval_pending`;
    the second must come from another account with role supervisor, else 409
    `four_eyes_required`. `request_info` may name the document kinds wanted.
    """
    return staff_view(case_review.decide_case(case_id=case_id, actor=current_account(), **body),
                      current_account())


@blp.route("/<uuid:case_id>/messages", methods=["GET"])
@reads_only
@roles_required(*CASE_STAFF)
@blp.response(200, MessageStateListOut)
def case_message_state(case_id: UUID):
    """Delivery state of the messages sent about the case: never their text or a code."""
    return {"items": case_messages(case_for_staff(case_id, current_account()).id)}
