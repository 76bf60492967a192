"""Relatives: resumable uploads of a document's content, tus 1.0.0 (creation, termination,
checksum with sha256, expiration)."""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime
from uuid import UUID

from flask import Response, request
from werkzeug.exceptions import ClientDisconnected

from api.blueprint import Blueprint, reads_only
from api.http import body_content_types, public_url
from api.openapi import PROBLEM
from auth.roles import current_account, roles_required
from services.documents import resumable
from storage.domain_errors import UnsupportedVersion, ValidationFailed
from storage.vocabulary import Role

blp = Blueprint("uploads", __name__, url_prefix="/v1",
                description="Relatives: resumable uploads (tus 1.0.0)")

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,checksum,expiration"
CHUNK_TYPE = "application/offset+octet-stream"
READ_CHUNK = 64 * 1024
_NUMBER = re.compile(r"[0-9]{1,15}")
TUS_HEADERS = {"name": "Tus-Resumable", "in": "header", "required": True,
               "schema": {"type": "string", "enum": [TUS_VERSION]},
               "description": "On every request but OPTIONS; missing or another is 412."}
TUS_ERRORS = {"410": PROBLEM, "412": PROBLEM}
CHUNK_BODY = {"required": True, "content": {
    CHUNK_TYPE: {"schema": {"type": "string", "format": "binary"}}}}


@blp.after_request
def _tus_resumable(response: Response) -> Response:
    response.headers["Tus-Resumable"] = TUS_VERSION
    return response


def _require_version() -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise UnsupportedVersion(headers={"Tus-Version": TUS_VERSION})


def _number(name: str, *, required: bool = True) -> int | None:
    value = request.headers.get(name)
    if value is None and not required:
        return None
    if value is None or not _NUMBER.fullmatch(value):
        raise ValidationFailed(errors={name: ["A whole number of bytes is required."]})
    return int(value)


def _checksum() -> bytes | None:
    value = request.headers.get("Upload-Checksum")
    if value is None:
        return None
    algorithm, _, encoded = value.partition(" ")
    if algorithm != "sha256":
        raise ValidationFailed(errors={"Upload-Checksum": ["Only sha256 is supported."]})
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != 32:
        raise ValidationFailed(errors={"Upload-Checksum": ["Not a base64 SHA-256 digest."]})
    return digest


def _expires(at: datetime) -> str:
    return format_datetime(at, usegmt=True)


def _discovery() -> Response:
    return Response(status=204, headers={
        "Tus-Version": TUS_VERSION, "Tus-Extension": TUS_EXTENSIONS,
        "Tus-Checksum-Algorithm": "sha256", "Tus-Max-Size": str(resumable.max_upload_length())})


class _Body:
    """The PATCH body a piece at a time; a client that goes away ends it early."""

    def __init__(self) -> None:
        self.cut = False

    def __iter__(self) -> Iterator[bytes]:
        stream = request.stream
        try:
            while data := stream.read(READ_CHUNK):
                yield data
        except ClientDisconnected:
            self.cut = True


@blp.route("/documents/<uuid:document_id>/uploads", methods=["OPTIONS"],
           provide_automatic_options=False)
@reads_only
@blp.doc(responses={"204": {"description": "tus capabilities (Tus-Version, "
                                           "Tus-Extension, Tus-Max-Size)"}})
def upload_options(document_id: UUID):
    """tus discovery for a document's upload.

    Versions, extensions and the largest length (Tus-Version, Tus-Extension, Tus-Max-Size).
    """
    return _discovery()


@blp.route("/documents/<uuid:document_id>/uploads", methods=["POST"],
           provide_automatic_options=False)
@roles_required(Role.RELATIVE)
@blp.doc(parameters=[TUS_HEADERS, {"name": "Upload-Length", "in": "header",
                                   "required": True, "schema": {"type": "integer"}}],
         responses={"201": {"description": "Created; Location is the upload URL"},
                    **TUS_ERRORS})
def create_upload(document_id: UUID):
    """Create a tus upload of the document's content (Upload-Length: exact bytes to send)."""
    _require_version()
    if request.headers.get("Upload-Defer-Length") is not None:
        raise ValidationFailed(errors={"Upload-Defer-Length": ["Declare Upload-Length."]})
    length = _number("Upload-Length")
    assert length is not None
    upload = resumable.create_upload(document_id, current_account(), length)
    return Response(status=201, headers={
        "Location": public_url("uploads.upload_options_of", upload_id=upload.id),
        "Upload-Expires": _expires(upload.expires_at), "Upload-Offset": "0"})


@blp.route("/uploads/<uuid:upload_id>", methods=["OPTIONS"], provide_automatic_options=False)
@reads_only
@blp.doc(responses={"204": {"description": "tus capabilities"}})
def upload_options_of(upload_id: UUID):
    """tus discovery on an upload URL.

    Versions, extensions and the largest length, as on the creation URL.
    """
    return _discovery()


@blp.route("/uploads/<uuid:upload_id>", methods=["HEAD"], provide_automatic_options=False)
@reads_only
@roles_required(Role.RELATIVE)
@blp.doc(parameters=[TUS_HEADERS],
         responses={"200": {"description": "Upload-Offset: what is durably kept"},
                    **TUS_ERRORS})
def upload_offset(upload_id: UUID):
    """The upload's durable offset: resume from here."""
    _require_version()
    upload = resumable.upload_for(upload_id, current_account())
    return Response(status=200, headers={
        "Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length),
        "Upload-Expires": _expires(upload.expires_at)})


@blp.route("/uploads/<uuid:upload_id>", methods=["PATCH"], provide_automatic_options=False)
@roles_required(Role.RELATIVE)
@body_content_types(CHUNK_TYPE)
@blp.doc(parameters=[TUS_HEADERS, {"name": "Upload-Offset", "in": "header", "required": True,
                                   "schema": {"type": "integer"}}],
         requestBody=CHUNK_BODY,
         responses={"204": {"description": "Kept; Upload-Offset is the new offset"},
                    "460": PROBLEM, **TUS_ERRORS})
def upload_chunk(upload_id: UUID):
    """Append a chunk at Upload-Offset; the last byte runs the PUT's checks."""
    _require_version()
    offset = _number("Upload-Offset")
    assert offset is not None
    body = _Body()
    progress = resumable.receive_chunk(upload_id, current_account(), resumable.Chunk(
        offset=offset, content_length=request.content_length, checksum=_checksum(),
        body=body, cut=lambda: body.cut))
    return Response(status=204, headers={"Upload-Offset": str(progress.offset),
                                         "Upload-Expires": _expires(progress.expires_at)})


@blp.route("/uploads/<uuid:upload_id>", methods=["DELETE"], provide_automatic_options=False)
@roles_required(Role.RELATIVE)
@blp.doc(parameters=[TUS_HEADERS], responses={"204": {"description": "Ended"},
                                              **TUS_ERRORS})
def end_upload(upload_id: UUID):
    """End the upload (tus termination); what it kept is discarded."""
    _require_version()
    resumable.end_upload(upload_id, current_account())
    return Response(status=204)
