from __future__ import annotations

from uuid import UUID

from flask import request

from api.blueprint import Blueprint
from api.http import body_content_types
from api.idempotency import idempotent
from auth.roles import current_account, roles_required
from schemas.prisoners import (
    AccessReasonHeaders,
    ImportArgs,
    ImportOut,
    MatchIn,
    MatchOut,
    PrisonerFilters,
    PrisonerIn,
    PrisonerOut,
    PrisonerPatchIn,
)
from services.registry import prisoner_import, prisoners
from storage.domain_errors import PayloadTooLarge, UnsupportedMediaType
from storage.vocabulary import CASE_STAFF

blp = Blueprint("prisoners", __name__, url_prefix="/v1/admin/prisoners",
                description="Prisoner registry")

CSV_BODY = {"required": True, "content": {"text/csv": {"schema": {
    "type": "string", "description": "UTF-8 CSV, header row of Prisoner field names"}}}}


@blp.route("", methods=["POST"])
@roles_required(*CASE_STAFF)
@idempotent
@blp.arguments(PrisonerIn)
@blp.response(201, PrisonerOut)
def create_prisoner(body):
    """Add a prisoner to the registry.

    The `*_latin` names are computed. A `registry_number` already taken is 409
    `conflict`.
    """
    return prisoners.create_prisoner(**body, actor=current_account())


@blp.route("", methods=["GET"])
@roles_required(*CASE_STAFF)
@blp.paginated(PrisonerOut, filters=PrisonerFilters)
@blp.arguments(AccessReasonHeaders, location="headers")
def list_prisoners(headers, **query):
    """Search the prisoner registry.

    `q` is a registry number, exactly, or a name in either script. The read is audited,
    with `X-Access-Reason` if given.
    """
    return prisoners.list_prisoners(**query, **headers, actor=current_account())


@blp.route("/<uuid:prisoner_id>", methods=["GET"])
@roles_required(*CASE_STAFF)
@blp.arguments(AccessReasonHeaders, location="headers")
@blp.response(200, PrisonerOut)
def get_prisoner(headers, prisoner_id: UUID):
    """A registry entry.

    Audited, with `X-Access-Reason` if given.
    """
    return prisoners.view_prisoner(prisoner_id, **headers, actor=current_account())


@blp.route("/<uuid:prisoner_id>", methods=["PATCH"])
@roles_required(*CASE_STAFF)
@blp.arguments(PrisonerPatchIn)
@blp.response(200, PrisonerOut)
def update_prisoner(body, prisoner_id: UUID):
    """Change a registry entry.

    Only the fields given change; `null` clears an optional one.
    """
    return prisoners.update_prisoner(prisoner_id=prisoner_id, actor=current_account(),
                                     changes=body)


@blp.route("/match", methods=["POST"])
@roles_required(*CASE_STAFF)
@blp.arguments(MatchIn)
@blp.response(200, MatchOut)
def match_prisoners(body):
    """Find registry candidates for a person.

    Best first; a score of 1.0 means every field given agrees. Spellings in either
    script, transliteration variants and small typos match.
    """
    return {"candidates": prisoners.match_prisoners(**body, actor=current_account())}


@blp.route("/import", methods=["POST"])
@body_content_types("text/csv")
@roles_required(*CASE_STAFF)
@blp.arguments(ImportArgs, location="query")
@blp.doc(requestBody=CSV_BODY)
@blp.response(200, ImportOut)
def import_prisoners(args):
    """Import the registry from CSV.

    A header row of Prisoner field names; keyed on `registry_number`, so a second import
    of the same file changes nothing. `dry_run=true` validates and counts only.
    """
    if request.mimetype_params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        raise UnsupportedMediaType()
    if (request.content_length or 0) > prisoner_import.IMPORT_MAX_BYTES:
        raise PayloadTooLarge()
    return prisoner_import.import_prisoners(request.stream, dry_run=args["dry_run"],
                                            actor=current_account(),
                                            max_bytes=prisoner_import.IMPORT_MAX_BYTES)
