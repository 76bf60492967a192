"""Authorizations: issue and revoke (staff), read and show as a QR code (relative, staff)."""
from __future__ import annotations

from uuid import UUID

from flask import Response

from api.blueprint import Blueprint, reads_only
from api.case_guards import staff_case_in_state
from api.idempotency import idempotent
from api.openapi import PROBLEM
from auth.roles import current_account, roles_required
from schemas.authorizations import (
    AuthorizationIn,
    AuthorizationOut,
    RevocationListOut,
    RevokeIn,
)
from services.authorizations import (
    checkpoint as checkpoint_tokens,
    operations as authorizations,
    qr as qr_codes,
)
from storage.vocabulary import CASE_STAFF, Role

blp = Blueprint("authorizations", __name__, url_prefix="/v1",
                description="Travel and pickup authorizations")

QR_VIEWERS = (Role.RELATIVE, *CASE_STAFF)


def _image(content_type: str) -> dict:
    return {"responses": {"200": {"description": "The token as a QR code",
                                  "content": {content_type: {"schema": {
                                      "type": "string", "format": "binary"}}}},
                          "410": PROBLEM}}


@blp.route("/admin/cases/<uuid:case_id>/authorizations", methods=["POST"])
@roles_required(*CASE_STAFF)
@idempotent(secret_fields=("token",))
@staff_case_in_state("authorize")
@blp.arguments(AuthorizationIn)
@blp.response(201, AuthorizationOut)
def issue_authorization(body, case_id: UUID):
    """Issue a travel or pickup authorization.

    Only for an `approved` case (else 409 `invalid_state`); a pickup needs an active
    travel authorization and a linked prisoner who is `held`. A window, or handover, that
    has already ended is 400 `validation_error` and changes nothing. A new authorization of
    a kind revokes the case's earlier active one of that kind. A replay (the same
    `Idempotency-Key`) reads `token: null`: the token, holder data and all, is not kept
    outside its sealed row; `GET /v1/admin/authorizations/{id}` reads it.
    """
    return authorizations.issue_authorization(
        case_id, authorizations.IssueRequest(**body), current_account())


@blp.route("/admin/authorizations/<uuid:authorization_id>", methods=["GET"])
@roles_required(*CASE_STAFF)
@blp.response(200, AuthorizationOut)
def get_authorization(authorization_id: UUID):
    """An authorization, token included.

    Audited as `authorization.view`. A shredded one reads `token: null`.
    """
    return authorizations.view_authorization(authorization_id, current_account())


@blp.route("/admin/authorizations/<uuid:authorization_id>/revoke", methods=["POST"])
@roles_required(*CASE_STAFF)
@blp.arguments(RevokeIn)
@blp.response(200, AuthorizationOut)
def revoke_authorization(body, authorization_id: UUID):
    """Revoke an authorization.

    The revocation is in the signed revocation list at once.
    """
    return authorizations.revoke_authorization(authorization_id, body["reason"],
                                               current_account())


@blp.route("/cases/<uuid:case_id>/authorizations", methods=["GET"])
@reads_only
@roles_required(Role.RELATIVE)
@blp.paginated(AuthorizationOut)
def list_case_authorizations(case_id: UUID, cursor, limit):
    """The authorizations of one of your cases.

    Newest last; a shredded one reads `token: null`.
    """
    return authorizations.list_case_authorizations(case_id, current_account(), cursor=cursor,
                                                   limit=limit)


@blp.route("/authorizations/<uuid:authorization_id>/qr.png", methods=["GET"])
@roles_required(*QR_VIEWERS)
@blp.doc(**_image("image/png"))
def authorization_qr_png(authorization_id: UUID):
    """An authorization's token as a PNG QR code.

    For the owning relative, officers and supervisors; a shredded authorization is 410
    `gone`.
    """
    token = authorizations.authorization_qr_token(authorization_id, current_account())
    return Response(qr_codes.png(token), mimetype="image/png")


@blp.route("/authorizations/<uuid:authorization_id>/qr.svg", methods=["GET"])
@roles_required(*QR_VIEWERS)
@blp.doc(**_image("image/svg+xml"))
def authorization_qr_svg(authorization_id: UUID):
    """An authorization's token as an SVG QR code.

    For the owning relative, officers and supervisors; a shredded authorization is 410
    `gone`.
    """
    token = authorizations.authorization_qr_token(authorization_id, current_account())
    return Response(qr_codes.svg(token), mimetype="image/svg+xml")


@blp.route("/authorizations/revocations", methods=["GET"])
@blp.response(200, RevocationListOut)
def revocation_list():
    """The signed list of revoked authorizations.

    For checkpoints that work offline: `jws` is signed with a key of `/.well-
    known/jwks.json`.
    """
    return checkpoint_tokens.revocation_list()
