"""Documents as a staff browser may see them: never the uploaded file itself, only pixels the
server decoded and encoded afresh.

An image is decoded with the one decoder its declared type names, turned upright, shrunk to
fit ``MAX_SIDE`` and written into a new image that carries nothing but pixels (no EXIF or
GPS, no ICC profile, XMP, text chunks, thumbnails or later frames). A PDF's first
``MAX_PAGES`` pages are rasterised by PDFium to PNG, without its forms or scripts. A file
with more than ``MAX_PIXELS`` pixels is 413 ``payload_too_large`` before it is decoded, and
one that does not decode is 415 ``unsupported_media_type``.
"""
from __future__ import annotations

import io
import math
import struct
import threading
import uuid
import warnings
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image, ImageOps

from services.core import unit_of_work
from services.documents.operations import read_content
from storage.domain_errors import KinPassError, PayloadTooLarge, UnsupportedMediaType
from storage.models.accounts import Account
from storage.models.cases import Document
from storage.vocabulary import ContentType

MAX_SIDE = 1600  # pixels on the longer side of what is shown
MAX_PIXELS = 50_000_000  # of an image as uploaded (a 50-megapixel camera), before decoding
MAX_PAGES = 10
MAX_PDF_SCALE = 2.0  # 144 dpi for a page that is small already
JPEG_QUALITY = 85
# What Pillow's decoders raise on bytes they cannot read (beyond its own OSError family).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, EOFError, IndexError, KeyError,
                 struct.error, ZeroDivisionError)
DECODERS = {ContentType.JPEG: ("JPEG",), ContentType.PNG: ("PNG",)}
_PDFIUM = threading.Lock()  # PDFium may not be entered by two threads at once


@dataclass(frozen=True)
class Page:
    """One image as it is shown: freshly encoded bytes of ``media_type``."""

    media_type: str
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Preview:
    pages: tuple[Page, ...]
    total_pages: int  # a PDF's pages beyond MAX_PAGES are counted, not rendered

    @property
    def truncated(self) -> bool:
        return self.total_pages > len(self.pages)


def render_preview(data: bytes, content_type: str) -> Preview:
    """The images to show for a document's plaintext of the declared ``content_type``."""
    if content_type == ContentType.PDF:
        return _render_pdf(data)
    decoders = DECODERS.get(content_type)
    if decoders is None:
        raise UnsupportedMediaType()
    return Preview((_reencode(data, decoders, content_type),), 1)


def show_document(document_id: uuid.UUID, account: Account,
                  reason: str | None) -> tuple[Document, Preview]:
    """A document rendered for staff through the content read of
    GET /v1/admin/documents/{id}/content: the same reason rule, shredding and audit
    (`document.view` with the reason). A file that cannot be shown is refused after the
    read, which stays in the log: its plaintext was opened for that reason."""
    content = read_content(document_id, account, reason)
    document = content.document
    data = b"".join(content.chunks)
    try:
        return document, render_preview(data, document.content_type)
    except KinPassError:
        unit_of_work.keep_on_refusal()
        raise


# --- images --------------------------------------------------------------------------------

def _reencode(data: bytes, decoders: tuple[str, ...], content_type: str) -> Page:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=decoders) as image:
                _refuse_a_bomb(*image.size)
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a smaller scale
                image.load()
                upright = ImageOps.exif_transpose(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PayloadTooLarge() from None
        except DECODE_ERRORS:
            raise UnsupportedMediaType() from None
    pixels = _plain_mode(upright)
    pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # A new image from the pixels alone: no info, no profile, no frames come along. The ICC
    # profile is dropped rather than applied, so no colour-management parser reads it.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    if content_type == ContentType.JPEG:
        return _encoded(clean if clean.mode in ("L", "RGB") else clean.convert("RGB"), "JPEG")
    return _encoded(clean, "PNG")


def _refuse_a_bomb(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise UnsupportedMediaType()
    if width * height > MAX_PIXELS:
        raise PayloadTooLarge()


def _plain_mode(image: Image.Image) -> Image.Image:
    """Grey or colour, with alpha where the image has some: the modes both encoders take."""
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if image.mode.startswith("I") or image.mode == "F":  # 16-bit grey: its top byte
        return image.convert("I").point(lambda value: value / 256).convert("L")
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if image.mode == "1" and not has_alpha:
        return image.convert("L")
    return image.convert("RGBA" if has_alpha else "RGB")


def _encoded(image: Image.Image, encoder: str) -> Page:
    out = io.BytesIO()
    if encoder == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        media_type = ContentType.JPEG
    else:
        image.save(out, "PNG", optimize=False, compress_level=6)
        media_type = ContentType.PNG
    return Page(str(media_type), out.getvalue(), image.width, image.height)


# --- PDF -----------------------------------------------------------------------------------

def _render_pdf(data: bytes) -> Preview:
    """The first MAX_PAGES pages, each fitted into MAX_SIDE (so a page's pixels are bounded
    whatever size it claims). Forms are never initialised, so no form script runs."""
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            raise UnsupportedMediaType() from None
        try:
            total = len(document)
            if total < 1:
                raise UnsupportedMediaType()
            pages = tuple(_render_page(document, index) for index in range(min(total, MAX_PAGES)))
        finally:
            document.close()
    return Preview(pages, total)


def _render_page(document: pdfium.PdfDocument, index: int) -> Page:
    try:
        page = document[index]
        try:
            width, height = page.get_size()
            if not (math.isfinite(width) and math.isfinite(height)) or min(width, height) <= 0:
                raise UnsupportedMediaType()
            scale = min(MAX_PDF_SCALE, MAX_SIDE / max(width, height))
            bitmap = page.render(scale=scale, may_draw_forms=False)
            try:
                image = bitmap.to_pil().convert("RGB")  # a copy: the bitmap's memory is freed
            finally:
                bitmap.close()
        finally:
            page.close()
    except pdfium.PdfiumError:
        raise UnsupportedMediaType() from None
    return _encoded(image, "PNG")
