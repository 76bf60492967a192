"""A case's documents shown in the console, each only after an access reason, through the
content read of GET /v1/admin/documents/{id}/content (its reason rule, shredding and audit).

What the browser gets is never the uploaded file as a page: the server re-encodes an image,
or rasterises a PDF's pages (services.documents.preview), and sends the pixels inside the
answer itself as data: URLs, allowed in img-src for that answer only. Nothing decrypted
outlives the answer on the server (a URL to fetch the images from later would need them
kept, in one instance's memory or in plaintext at rest, or read and audited a second
time), there is nothing to replay, and the answer is no-store. The original is downloaded
as an attachment in a sandbox, with the same reason and audit.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from uuid import UUID

from flask import Response, request

from api.routes.admin_documents import EXTENSIONS
from api.web.blueprint import ConsoleBlueprint
from api.web.case_pages import case_page
from api.web.forms import load_form
from api.web.security import DOCUMENT_CSP, ORIGINAL_CSP, answer_policy, web_role
from auth.roles import current_account
from schemas.prisoners import AccessReasonForm
from services.documents.operations import read_content
from services.documents.preview import Preview, show_document
from storage.vocabulary import CASE_STAFF

blp = ConsoleBlueprint("documents", __name__)


@dataclass(frozen=True)
class Shown:
    """A document open on its case page: its images as data: URLs, and the reason given."""

    document_id: UUID
    reason: str
    images: tuple[str, ...]
    total_pages: int

    @property
    def truncated(self) -> bool:
        return self.total_pages > len(self.images)


def _reason() -> str | None:
    """The "Access reason" field, read by X-Access-Reason's rules."""
    return load_form(AccessReasonForm, {"reason": request.form.get("reason")}).get("reason")


def _data_urls(preview: Preview) -> tuple[str, ...]:
    return tuple(f"data:{page.media_type};base64,{base64.b64encode(page.data).decode()}"
                 for page in preview.pages)


@blp.route("/documents/<uuid:document_id>/show", methods=["POST"])
@web_role(*CASE_STAFF)
def show(document_id: UUID):
    """The case page with the document shown beside the data, audited as `document.view`
    with the reason (as the API's content read)."""
    reason = _reason()
    document, preview = show_document(document_id, current_account(), reason)
    shown = Shown(document.id, (reason or "").strip(), _data_urls(preview), preview.total_pages)
    answer_policy(DOCUMENT_CSP)
    return case_page(document.case_id, shown=shown)


@blp.route("/documents/<uuid:document_id>/original", methods=["POST"])
@web_role(*CASE_STAFF)
def original(document_id: UUID):
    """The uploaded file as an attachment, never as a page: its declared type (JPEG, PNG or
    PDF, never HTML), nosniff, and a sandbox policy should a browser open it anyway."""
    content = read_content(document_id, current_account(), _reason())
    document = content.document
    answer_policy(ORIGINAL_CSP)
    name = f"document-{document.id}.{EXTENSIONS[document.content_type]}"
    return Response(content.chunks, status=200, mimetype=document.content_type,
                    headers={"Content-Length": str(document.size),
                             "Content-Disposition": f'attachment; filename="{name}"'})
