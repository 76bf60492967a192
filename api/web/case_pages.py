"""The officers' and supervisors' pages: the queue, the case file, linking a prisoner and
the decisions, each through the same services (and audit) as /v1/admin/cases."""
from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from flask import redirect, render_template, request, url_for

from api.web.blueprint import ConsoleBlueprint
from api.web.forms import load_form
from api.web.security import require_fresh_otp, web_role
from api.web.vocabulary import CHECKS, DOCUMENT_KINDS
from auth.roles import current_account
from schemas.cases import DecisionIn, LinkIn
from services.accounts.staff import staff_names
from services.authorizations.handovers import list_handovers
from services.cases import states as case_states
from services.cases.policy import case_for_staff, require_staff_action
from services.registry.prisoners import list_prisoners
from services.workflow import review as case_review
from services.workflow.queue import ANY_CHECK, ORDERS, QueueFilters, status_counts
from services.workflow.views import list_queue, staff_view
from storage.domain_errors import ValidationFailed
from storage.vocabulary import CASE_STAFF, STAFF_CASE_STATUSES, CaseStatus, Decision

if TYPE_CHECKING:
    from api.web.document_pages import Shown

blp = ConsoleBlueprint("cases", __name__)
PAGE = 100
AGES = (1, 3, 7, 14, 30)


def _choice(name: str, allowed: tuple | dict) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise ValidationFailed(errors={name: ["Not one of the choices."]})
    return value


def _queue_filters() -> tuple[str | None, QueueFilters]:
    older = _choice("older", tuple(str(days) for days in AGES))
    return _choice("status", STAFF_CASE_STATUSES), QueueFilters(
        failing=_choice("failing", (ANY_CHECK, *CHECKS)),
        older_than_days=int(older) if older else None,
        search=(request.args.get("q") or "").strip()[:100] or None,
        order=_choice("order", ORDERS) or "oldest")


@blp.route("/cases", methods=["GET"])
@web_role(*CASE_STAFF)
def queue():
    """The queue: the same list, and the same audit, as GET /v1/admin/cases."""
    status, filters = _queue_filters()
    page = list_queue(status, cursor=request.args.get("cursor") or None, limit=PAGE,
                      viewer=current_account(), filters=filters)
    args = {name: value for name, value in request.args.items() if name != "cursor" and value}
    return render_template("console/queue.html", page=page, status=status, filters=filters,
                           counts=status_counts(), statuses=STAFF_CASE_STATUSES,
                           checks=CHECKS, ages=AGES, orders=ORDERS, args=args)


@blp.route("/cases/<uuid:case_id>", methods=["GET"])
@web_role(*CASE_STAFF)
def case_file(case_id: UUID):
    """A case file side by side, audited as `case.view` like GET /v1/admin/cases/{id}."""
    return case_page(case_id)


def case_page(case_id: UUID, shown: Shown | None = None) -> str:
    """The case file, with a document ``shown`` beside the data."""
    account = current_account()
    case = case_for_staff(case_id, account)
    first_by = case_review.first_approver(case)
    view = staff_view(case, account)
    names = staff_names({decision.by for decision in view["decisions"]})
    handovers = (list_handovers(cursor=None, limit=100).items
                 if case.status == CaseStatus.APPROVED else [])
    return render_template(
        "console/case.html", case=view, names=names, first_by=first_by,
        may_approve=(case.status == CaseStatus.IN_REVIEW
                     or case_review.may_approve_second(first_by, account)),
        handovers=handovers, document_kinds=DOCUMENT_KINDS, shown=shown,
        allowed={action: case.status in statuses
                 for action, statuses in case_states.ACTIONS.items()})


def _prisoner_to_link(case_id: UUID) -> str:
    """The prisoner chosen among the candidates, or found by its registry number."""
    chosen = request.form.get("prisoner_id")
    number = (request.form.get("registry_number") or "").strip()
    if chosen or not number:
        return chosen or ""
    found = [p for p in list_prisoners(q=number, cursor=None, limit=5, actor=current_account(),
                                       reason=f"link to case {case_id}").items
             if p.registry_number == number]
    if not found:
        raise ValidationFailed(errors={"registry_number": ["No prisoner has this number."]})
    return str(found[0].id)


@blp.route("/cases/<uuid:case_id>/link", methods=["POST"])
@web_role(*CASE_STAFF)
def link(case_id: UUID):
    """Link a registry prisoner, as POST /v1/admin/cases/{id}/link (the checks run again)."""
    require_staff_action(case_id, current_account(), "link")
    body = load_form(LinkIn, {"prisoner_id": _prisoner_to_link(case_id)})
    case_review.link_case(case_id=case_id, actor=current_account(), **body)
    return redirect(url_for(".case_file", case_id=case_id), 303)


@blp.route("/cases/<uuid:case_id>/decisions", methods=["POST"])
@web_role(*CASE_STAFF)
def decide(case_id: UUID):
    """Approve, reject or request information, as POST /v1/admin/cases/{id}/decisions; a
    second approval needs a fresh one-time code."""
    case = require_staff_action(case_id, current_account(), "decide")
    form = request.form
    body = load_form(DecisionIn, {
        "decision": form.get("decision"), "reason": form.get("reason"),
        "requested_documents": form.getlist("requested_documents")})
    if body["decision"] == Decision.APPROVE and case.status == CaseStatus.APPROVAL_PENDING:
        require_fresh_otp()
    case_review.decide_case(case_id=case_id, actor=current_account(), **body)
    return redirect(url_for(".case_file", case_id=case_id), 303)
