"""The prisoner registry in the console: search, a record and its edit, and the CSV import
with its dry run first, through the same services (and audit) as /v1/admin/prisoners.

The import keeps nothing on the server between its two steps. The dry run's page carries
the checked file back to the browser (base64, in the confirm form) with a seal, a MAC bound
to this session over the file's digest; the confirm step imports those bytes only if the
seal holds, so what is imported is exactly what was checked, by whoever checked it. That
round trip bounds the console's file size below the API's; larger files go through the API
or `kinpass prisoners import`.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import io
from uuid import UUID

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from api.web.blueprint import ConsoleBlueprint
from api.web.forms import load_form
from api.web.security import web_role
from api.web.session_cookie import session_seal
from auth.roles import current_account
from schemas.base import REASON_MAX
from schemas.prisoners import PrisonerFilters, PrisonerPatchIn
from services.registry import prisoner_import, prisoners
from storage.domain_errors import PayloadTooLarge, ValidationFailed
from storage.vocabulary import CASE_STAFF, PrisonerStatus

blp = ConsoleBlueprint("registry", __name__)
PAGE = 50
IMPORT_MAX_BYTES = 8 * 1024 * 1024
# The confirm form: the file in base64 (4 characters for 3 bytes) and its few other fields.
CONFIRM_MAX_BYTES = IMPORT_MAX_BYTES * 4 // 3 + 64 * 1024
SEAL = "prisoner-import"
# Every field a registry record's edit form shows: (name, label, input type, required).
FIELDS = (
    ("registry_number", _l("Registry number"), "text", True),
    ("surname", _l("Surname"), "text", True),
    ("given_name", _l("Given name"), "text", True),
    ("patronymic", _l("Patronymic"), "text", False),
    ("birth_date", _l("Date of birth"), "date", True),
    ("birth_place", _l("Place of birth"), "text", False),
    ("unit", _l("Unit"), "text", False),
    ("rank", _l("Rank"), "text", False),
    ("service_number", _l("Service number"), "text", False),
    ("captured_on", _l("Captured on"), "date", False),
    ("mother_name", _l("Mother"), "text", False),
    ("father_name", _l("Father"), "text", False),
)
STATUSES = tuple(status.value for status in PrisonerStatus)


def _search() -> tuple[dict, str | None]:
    args = request.args
    filters = load_form(PrisonerFilters, {"q": (args.get("q") or "").strip(),
                                          "birth_date": args.get("birth_date"),
                                          "status": args.get("status")})
    reason = (args.get("reason") or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        raise ValidationFailed(errors={"reason": [f"Longer than {REASON_MAX} characters."]})
    return filters, reason


@blp.route("/prisoners", methods=["GET"])
@web_role(*CASE_STAFF)
def search():
    """Search by registry number or a name in either script, as GET /v1/admin/prisoners
    (and audited as it is, with the access reason given); nothing is listed before a
    search."""
    filters, reason = _search()
    page = None
    if any(value is not None for value in filters.values()):
        page = prisoners.list_prisoners(**filters, cursor=request.args.get("cursor") or None,
                                        limit=PAGE, actor=current_account(), reason=reason)
    args = {name: value for name, value in request.args.items() if name != "cursor" and value}
    return render_template("console/registry.html", page=page, filters=filters,
                           reason=reason, statuses=STATUSES, args=args)


@blp.route("/prisoners/<uuid:prisoner_id>", methods=["GET"])
@web_role(*CASE_STAFF)
def record(prisoner_id: UUID):
    """A registry record and its edit form, audited as `prisoner.view` like
    GET /v1/admin/prisoners/{id}."""
    prisoner = prisoners.view_prisoner(prisoner_id, actor=current_account())
    return render_template("console/registry_record.html", prisoner=prisoner, fields=FIELDS,
                           statuses=STATUSES)


def _changes() -> dict:
    """The fields the person changed on the form (each input beside the value it showed),
    so that a field someone else changed meanwhile is left as they made it."""
    form = request.form
    names = [name for name, *_ in FIELDS] + ["status"]
    return {name: form.get(name, "").strip() for name in names
            if name in form and form.get(name, "").strip() != form.get(f"was_{name}", "")}


@blp.route("/prisoners/<uuid:prisoner_id>", methods=["POST"])
@web_role(*CASE_STAFF)
def edit(prisoner_id: UUID):
    """Change the fields edited, as PATCH /v1/admin/prisoners/{id}: an emptied optional
    field is cleared; audited as `prisoner.update` with the fields changed."""
    changes = _changes()
    if changes:
        body = load_form(PrisonerPatchIn, changes, blank_is_null=True)
        prisoners.update_prisoner(prisoner_id=prisoner_id, actor=current_account(),
                                  changes=body)
    return redirect(url_for(".record", prisoner_id=prisoner_id), 303)


@blp.route("/prisoners/import", methods=["GET"])
@web_role(*CASE_STAFF)
def import_form():
    """The CSV upload form."""
    return render_template("console/registry_import.html", report=None,
                           max_bytes=IMPORT_MAX_BYTES)


def _import(data: bytes, *, dry_run: bool) -> prisoner_import.ImportReport:
    return prisoner_import.import_prisoners(io.BytesIO(data), dry_run=dry_run,
                                            actor=current_account(),
                                            max_bytes=IMPORT_MAX_BYTES)


@blp.route("/prisoners/import", methods=["POST"], content_types=("multipart/form-data",),
           max_bytes=IMPORT_MAX_BYTES + 64 * 1024)
@web_role(*CASE_STAFF)
def dry_run():
    """Check an uploaded CSV as POST /v1/admin/prisoners/import?dry_run=true does (its
    counts and row errors; nothing changes), and offer to import exactly that file."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(errors={"file": [_l("Choose a CSV file.")]})
    data = upload.stream.read(IMPORT_MAX_BYTES + 1)
    if len(data) > IMPORT_MAX_BYTES:
        raise PayloadTooLarge()
    report = _import(data, dry_run=True)
    return render_template("console/registry_import.html", report=report,
                           max_bytes=IMPORT_MAX_BYTES,
                           content=base64.b64encode(data).decode(),
                           seal=session_seal(SEAL, data))


@blp.route("/prisoners/import/confirm", methods=["POST"], max_bytes=CONFIRM_MAX_BYTES)
@web_role(*CASE_STAFF)
def confirm_import():
    """Import the file the dry run checked, as POST /v1/admin/prisoners/import: refused
    unless it is that file, sent back by the session that checked it."""
    try:
        data = base64.b64decode(request.form.get("content", ""), validate=True)
    except (binascii.Error, ValueError):
        data = None
    if data is None or not hmac.compare_digest(request.form.get("seal", ""),
                                               session_seal(SEAL, data)):
        raise ValidationFailed(errors={"file": [
            _l("This is not the file the dry run checked; upload it again.")]})
    report = _import(data, dry_run=False)
    return render_template("console/registry_import.html", report=report,
                           max_bytes=IMPORT_MAX_BYTES)
