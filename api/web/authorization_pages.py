"""Handovers and authorizations issued from a case, and the printable sheet of their QR
codes, through the same services (and audit) as the API's."""
from __future__ import annotations

from uuid import UUID

from flask import Response, redirect, render_template, request, url_for

from api.web.blueprint import ConsoleBlueprint
from api.web.forms import load_form, local_time
from api.web.security import fresh_otp, web_role
from auth.roles import current_account
from schemas.authorizations import AuthorizationIn, RevokeIn
from schemas.handovers import HandoverIn
from services.authorizations import handovers, operations as authorizations, qr as qr_codes
from services.cases.policy import case_for_staff, require_staff_action
from services.workflow.views import staff_view
from storage.vocabulary import CASE_STAFF, AuthorizationStatus

blp = ConsoleBlueprint("authorizations", __name__)


def _back(case_id: UUID) -> Response:
    return redirect(url_for("console.cases.case_file", case_id=case_id) + "#authorizations",
                    303)


@blp.route("/cases/<uuid:case_id>/handovers", methods=["POST"])
@web_role(*CASE_STAFF)
def schedule_handover(case_id: UUID):
    """Schedule a handover appointment from the case page, as POST /v1/admin/handovers."""
    case_for_staff(case_id, current_account())
    form = request.form
    body = load_form(HandoverIn, {"location": form.get("location"),
                                  "starts_at": local_time(form.get("starts_at")),
                                  "ends_at": local_time(form.get("ends_at"))})
    handovers.create_handover(**body, actor=current_account())
    return _back(case_id)


@blp.route("/cases/<uuid:case_id>/authorizations", methods=["POST"])
@web_role(*CASE_STAFF)
@fresh_otp
def issue(case_id: UUID):
    """Issue a travel or pickup authorization, as POST /v1/admin/cases/{id}/authorizations;
    a fresh one-time code first."""
    require_staff_action(case_id, current_account(), "authorize")
    form = request.form
    fields = {"kind": form.get("kind"), "handover_id": form.get("handover_id"),
              "valid_from": local_time(form.get("valid_from")),
              "valid_until": local_time(form.get("valid_until")),
              "entry_point": form.get("entry_point")}
    body = load_form(AuthorizationIn, fields)
    authorizations.issue_authorization(case_id, authorizations.IssueRequest(**body),
                                       current_account())
    return _back(case_id)


@blp.route("/authorizations/<uuid:authorization_id>/revoke", methods=["POST"])
@web_role(*CASE_STAFF)
def revoke(authorization_id: UUID):
    """Revoke an authorization, as POST /v1/admin/authorizations/{id}/revoke."""
    body = load_form(RevokeIn, {"reason": request.form.get("reason")})
    auth = authorizations.revoke_authorization(authorization_id, body["reason"],
                                               current_account())
    return _back(auth.case_id)


@blp.route("/cases/<uuid:case_id>/sheet", methods=["GET"])
@web_role(*CASE_STAFF)
def sheet(case_id: UUID):
    """The case's active authorizations as a printable sheet of QR codes; each read is
    audited as `authorization.view`, like GET /v1/admin/authorizations/{id}."""
    account = current_account()
    case = staff_view(case_for_staff(case_id, account), account)
    active = [authorizations.view_authorization(auth.id, account)
              for auth in case["authorizations"]
              if auth.current_status == AuthorizationStatus.ACTIVE and auth.token]
    return render_template("console/sheet.html", case=case, active=active)


@blp.route("/authorizations/<uuid:authorization_id>/qr.svg", methods=["GET"])
@web_role(*CASE_STAFF)
def qr_svg(authorization_id: UUID):
    """An authorization's token as an SVG QR code, as GET /v1/authorizations/{id}/qr.svg."""
    token = authorizations.authorization_qr_token(authorization_id, current_account())
    return Response(qr_codes.svg(token), mimetype="image/svg+xml")
