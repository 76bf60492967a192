"""The auditors' pages: the events with every filter of GET /v1/audit/events, the chain and
tree verification, the signed heads and the export, through the same services (each read
itself in the log) as /v1/audit."""
from __future__ import annotations

import json

from flask import Response, redirect, render_template, request, url_for

from api.web.blueprint import ConsoleBlueprint
from api.web.forms import load_form, local_time
from api.web.security import web_role
from auth.roles import current_account
from schemas.audit import AuditEventFilters, AuditWindowArgs
from services.accounts.staff import staff_names
from services.audit import proofs, reading as audit_reading, tree_check
from storage.domain_errors import NotFound
from storage.vocabulary import Role

blp = ConsoleBlueprint("audit", __name__)
PAGE = 100
FILTERS = ("actor_id", "action", "subject_type", "subject_id", "document_number_hmac")
WINDOW = ("since", "until")


def _typed(names: tuple[str, ...]) -> dict[str, str | None]:
    """The query's filters as typed: text trimmed, the window's times on Kyiv's clock."""
    given = {name: (request.args.get(name) or "").strip() for name in names}
    return {name: local_time(value) if name in WINDOW else value
            for name, value in given.items()}


@blp.route("/audit", methods=["GET"])
@web_role(Role.AUDITOR)
def events():
    """The log, oldest first, with the API's filters (actor, action, subject, the document
    number's HMAC, a window: since inclusive, until exclusive), a page at a time; the
    search is audited as `audit.read` like GET /v1/audit/events."""
    filters = load_form(AuditEventFilters, _typed(FILTERS + WINDOW))
    page = audit_reading.list_audit_events(current_account(),
                                           audit_reading.EventFilter(**filters),
                                           cursor=request.args.get("cursor") or None,
                                           limit=PAGE)
    names = staff_names({event.actor_id for event in page.items if event.actor_id})
    args = {name: value for name, value in request.args.items() if name != "cursor" and value}
    return render_template("console/audit.html", page=page, names=names, args=args,
                           given={name: request.args.get(name, "") for name in
                                  FILTERS + WINDOW})


@blp.route("/audit/verify", methods=["GET"])
@web_role(Role.AUDITOR)
def verify():
    """The hash chain, the Merkle tree and every signed head, by the verification
    GET /v1/audit/verify and `kinpass audit verify` run."""
    report = tree_check.verify_audit_log(current_account())
    return render_template("console/audit_verify.html", report=report)


@blp.route("/audit/heads", methods=["GET"])
@web_role(Role.AUDITOR)
def heads():
    """The latest signed tree head (as GET /v1/audit/tree-heads/latest; none before the
    first is signed) and the signed checkpoints (as GET /v1/audit/checkpoints)."""
    account = current_account()
    try:
        latest = proofs.latest_tree_head(account)
    except NotFound:
        latest = None  # the read is still audited; the page says none is signed yet
    checkpoints = audit_reading.list_audit_checkpoints(
        account, cursor=request.args.get("cursor") or None, limit=PAGE)
    return render_template("console/audit_heads.html", latest=latest,
                           checkpoints=checkpoints)


@blp.route("/audit/heads", methods=["POST"])
@web_role(Role.AUDITOR)
def sign_head():
    """Sign a tree head now over the whole log, as POST /v1/audit/tree-heads."""
    proofs.new_tree_head(current_account())
    return redirect(url_for(".heads"), 303)


@blp.route("/audit/export", methods=["GET"])
@web_role(Role.AUDITOR)
def export():
    """The log as NDJSON, one event a line, oldest first, in the window given: the export
    of GET /v1/audit/export, as a download."""
    window = load_form(AuditWindowArgs, _typed(WINDOW))
    events = audit_reading.export_events(current_account(),
                                         audit_reading.EventFilter(**window))
    lines = (json.dumps(event, ensure_ascii=False) + "\n" for event in events)
    return Response(lines, mimetype="application/x-ndjson", headers={
        "Content-Disposition": 'attachment; filename="kinpass-audit.ndjson"'})
