"""Officers and supervisors: reading a document's content, with a reason, audited."""
from __future__ import annotations

from uuid import UUID

from flask import Response, request
from marshmallow import ValidationError

from api.blueprint import Blueprint
from auth.roles import current_account, roles_required
from schemas.prisoners import AccessReasonHeaders
from services.documents import operations as documents
from storage.domain_errors import ValidationFailed
from storage.vocabulary import CASE_STAFF, ContentType

blp = Blueprint("admin_documents", __name__, url_prefix="/v1/admin/documents",
                description="Officers: document content")

EXTENSIONS = {ContentType.JPEG: "jpg", ContentType.PNG: "png", ContentType.PDF: "pdf"}
REASON_HEADER = {"name": "X-Access-Reason", "in": "header", "required": True,
                 "schema": {"type": "string", "minLength": 10, "maxLength": 2000},
                 "description": "Why the content is read (at least 10 characters); audited."}
CONTENT = {"description": "The decrypted document, with its original Content-Type",
           "content": {t: {"schema": {"type": "string", "format": "binary"}}
                       for t in EXTENSIONS}}


def _access_reason() -> str | None:
    """The header's text as meant (the same reading as the registry's reads)."""
    try:
        return AccessReasonHeaders().load(
            {k: v for k, v in request.headers.items() if k == "X-Access-Reason"})["reason"]
    except ValidationError as exc:
        raise ValidationFailed(errors=exc.normalized_messages()) from None


@blp.route("/<uuid:document_id>/content", methods=["GET"])
@roles_required(*CASE_STAFF)
@blp.doc(parameters=[REASON_HEADER], responses={"200": CONTENT})
def get_content(document_id: UUID):
    """Read a document's decrypted content.

    Give the reason in `X-Access-Reason` (at least 10 characters, else 400
    `access_reason_required`); every read is audited with it. A shredded document is 410
    `gone`.
    """
    content = documents.read_content(document_id, current_account(), _access_reason())
    document = content.document
    name = f"document-{document.id}.{EXTENSIONS.get(document.content_type, 'bin')}"
    return Response(content.chunks, status=200, mimetype=document.content_type,
                    headers={"Content-Length": str(document.size),
                             "Content-Disposition": f'attachment; filename="{name}"'})
