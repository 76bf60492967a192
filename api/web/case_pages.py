"""The officers' and supervisors' pages: the case queue and the case file."""
from __future__ import annotations

from flask import render_template, request

from api.web.blueprint import ConsoleBlueprint
from api.web.security import web_role
from auth.roles import current_account
from services.workflow.views import list_queue
from storage.vocabulary import CASE_STAFF, STAFF_CASE_STATUSES

blp = ConsoleBlueprint("cases", __name__)
PAGE = 100


@blp.route("/cases", methods=["GET"])
@web_role(*CASE_STAFF)
def queue():
    """The queue, oldest submission first; the same list as GET /v1/admin/cases."""
    status = request.args.get("status") or None
    if status not in (None, *STAFF_CASE_STATUSES):
        status = None
    page = list_queue(status, cursor=request.args.get("cursor") or None, limit=PAGE,
                      viewer=current_account())
    return render_template("console/queue.html", page=page, status=status,
                           statuses=STAFF_CASE_STATUSES)
