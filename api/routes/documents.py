"""Relatives: their documents — adding one, uploading its content, reading, shredding."""
from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from flask import request
from werkzeug.exceptions import ClientDisconnected

from api.blueprint import Blueprint, reads_only
from api.case_guards import relative_case_in_state
from api.http import body_content_types, public_url
from api.idempotency import idempotent
from auth.roles import current_account, roles_required
from schemas.documents import DocumentCreatedOut, DocumentIn, DocumentOut
from services.documents import operations as documents, policy, shredding
from storage.domain_errors import SizeMismatch
from storage.sealed import MEDIA_TYPE as SEALED
from storage.vocabulary import ContentType, Role

blp = Blueprint("documents", __name__, url_prefix="/v1", description="Relatives: documents")

READ_CHUNK = 64 * 1024
UPLOAD_BODY = {"required": True, "content": {
    **{t: {"schema": {"type": "string", "format": "binary"}} for t in ContentType},
    SEALED: {"schema": {"type": "string", "format": "binary"}}}}


def _request_chunks() -> Iterator[bytes]:
    """The request body a chunk at a time, never whole; a body cut short is a size mismatch."""
    stream = request.stream
    try:
        while chunk := stream.read(READ_CHUNK):
            yield chunk
    except ClientDisconnected:
        raise SizeMismatch() from None


def _with_upload(document):
    return {**{name: getattr(document, name) for name in DocumentOut().fields}, "upload": {
        "method": "PUT",
        "url": public_url("documents.put_content", document_id=document.id),
        "headers": {"Content-Type": documents.upload_media_type(document)},
        "expires_at": document.upload_expires_at,
        "tus_url": public_url("uploads.create_upload", document_id=document.id)}}


@blp.route("/cases/<uuid:case_id>/documents", methods=["POST"])
@roles_required(Role.RELATIVE)
@idempotent
@relative_case_in_state("edit")
@blp.arguments(DocumentIn)
@blp.response(201, DocumentCreatedOut)
def add_document(body, case_id: UUID):
    """Declare a document of a case.

    Its kind, type, size and SHA-256; the answer says where to PUT the content. Only
    while the case is `draft` or `info_requested`; a size above the maximum is 413
    `payload_too_large`.
    """
    return _with_upload(documents.add_document(case_id=case_id, account=current_account(),
                                               **body))


@blp.route("/documents/<uuid:document_id>/content", methods=["PUT"])
@roles_required(Role.RELATIVE)
@body_content_types(*ContentType, SEALED)
@blp.doc(requestBody=UPLOAD_BODY)
@blp.response(200, DocumentOut)
def put_content(document_id: UUID):
    """Upload a document's content.

    The raw file (server encryption) or the sealed container (client encryption).
    Nothing is stored on 413 `payload_too_large`, 422 `size_mismatch` or
    `checksum_mismatch`, 415 `unsupported_media_type` or 422 `invalid_ciphertext`.
    """
    upload = documents.Upload(content_type=request.mimetype,
                              content_length=request.content_length,
                              chunks=_request_chunks())
    return documents.receive_content(document_id, current_account(), upload)


@blp.route("/documents/<uuid:document_id>", methods=["GET"])
@reads_only
@roles_required(Role.RELATIVE)
@blp.response(200, DocumentOut)
def get_document(document_id: UUID):
    """One of your documents.

    Its metadata and status; never its content.
    """
    return policy.document_for_relative(document_id, current_account())


@blp.route("/documents/<uuid:document_id>", methods=["DELETE"])
@roles_required(Role.RELATIVE)
@blp.response(204)
def delete_document(document_id: UUID):
    """Shred a document.

    Its data key is destroyed and it reads `status: shredded`. Only while the case is
    `draft` or `info_requested`.
    """
    shredding.delete_document(document_id, current_account())
