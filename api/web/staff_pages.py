"""The admins' pages: the staff list, creating a staff account (its password and TOTP
secret shown once, on the answer to the form and nowhere else) and disabling one, with a
fresh one-time code, through the same services (and audit) as /v1/admin/staff."""
from __future__ import annotations

from uuid import UUID

import segno
from flask import redirect, render_template, request, url_for
from markupsafe import Markup

from api.web.blueprint import ConsoleBlueprint
from api.web.forms import load_form
from api.web.security import fresh_otp, web_role
from auth.roles import current_account
from schemas.accounts import StaffIn
from services.accounts import staff as accounts
from storage.vocabulary import STAFF_ROLES, Role

blp = ConsoleBlueprint("staff", __name__)
PAGE = 100
ROLES = tuple(role.value for role in STAFF_ROLES)


def _staff_page(**extra):
    page = accounts.list_staff(cursor=request.args.get("cursor") or None, limit=PAGE)
    return render_template("console/staff.html", page=page, roles=ROLES,
                           me=current_account().id, **extra)


@blp.route("/staff", methods=["GET"])
@web_role(Role.ADMIN)
def staff_list():
    """Every staff account, oldest first, as GET /v1/admin/staff."""
    return _staff_page()


def _provisioning_qr(uri: str) -> Markup:
    """The authenticator's provisioning URI as an inline SVG QR code (drawn with
    attributes only, so the page's policy needs no inline style). segno writes only the
    modules' path, never the URI's text, so the markup holds nothing a person typed."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4)
    return Markup(svg)  # noqa: S704  # nosec B704


@blp.route("/staff", methods=["POST"])
@web_role(Role.ADMIN)
def create():
    """Create a staff account, as POST /v1/admin/staff. The answer is the only place the
    password and the TOTP secret appear: not stored for a replay, never cached
    (Cache-Control: no-store, as on every console page), gone on the next page."""
    form = request.form
    body = load_form(StaffIn, {"email": form.get("email", "").strip(),
                               "full_name": form.get("full_name", "").strip(),
                               "role": form.get("role")})
    created = accounts.create_staff(**body, actor=current_account())
    return render_template("console/staff_created.html", created=created,
                           qr=_provisioning_qr(created["totp_uri"]))


@blp.route("/staff/<uuid:account_id>/disable", methods=["POST"])
@web_role(Role.ADMIN)
@fresh_otp
def disable(account_id: UUID):
    """Disable a staff account, as POST /v1/admin/staff/{id}/disable, after a fresh
    one-time code: its sessions end at once, in the console and through the API."""
    accounts.disable_staff(account_id=account_id, actor=current_account())
    return redirect(url_for(".staff_list"), 303)
