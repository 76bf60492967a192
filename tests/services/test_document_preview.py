"""What the console shows of a document: pixels decoded and encoded afresh, with nothing of
the file's metadata; PDF pages rendered, up to a cap; bombs and garbage refused by code."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from services.documents import preview
from services.documents.preview import MAX_PAGES, MAX_SIDE, render_preview
from storage.domain_errors import PayloadTooLarge, UnsupportedMediaType
from tests.support import document_files as files


def _opened(page: preview.Page) -> Image.Image:
    image = Image.open(io.BytesIO(page.data))
    image.load()
    return image


def test_a_phone_photo_loses_its_exif_gps_profile_xmp_and_comment():
    original = files.phone_jpeg()
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get_ifd(files.GPS_IFD) and source.info["icc_profile"]
    assert {"xmp", "comment"} <= set(source.info)

    [page] = render_preview(original, "image/jpeg").pages
    assert page.media_type == "image/jpeg" and files.SECRET.encode() not in page.data
    assert b"Exif" not in page.data and b"ICC_PROFILE" not in page.data
    shown = _opened(page)
    assert shown.format == "JPEG" and not shown.getexif()
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(shown.info)


def test_the_photo_is_shown_upright():
    [page] = render_preview(files.phone_jpeg(120, 80), "image/jpeg").pages
    shown = _opened(page).convert("RGB")
    assert (page.width, page.height) == shown.size == (80, 120)  # turned as EXIF said
    top, bottom = shown.getpixel((40, 5)), shown.getpixel((40, 114))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]  # red half, then blue


def test_a_png_loses_its_text_chunks_exif_and_profile():
    original = files.png_with_text()
    assert set(Image.open(io.BytesIO(original)).info) >= {"Comment", "Author", "Description"}
    [page] = render_preview(original, "image/png").pages
    assert page.media_type == "image/png" and files.SECRET.encode() not in page.data
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"):
        assert chunk not in page.data, chunk
    shown = _opened(page)
    assert shown.info == {} and shown.mode == "RGBA" and shown.size == (64, 48)


def test_a_large_photo_is_shown_within_the_size_cap():
    [page] = render_preview(files.big_jpeg(4000, 3000), "image/jpeg").pages
    assert max(page.width, page.height) == MAX_SIDE == max(_opened(page).size)


def test_a_pdf_is_rendered_page_by_page():
    shown = render_preview(files.pdf_pages(3), "application/pdf")
    assert shown.total_pages == len(shown.pages) == 3 and not shown.truncated
    for page in shown.pages:
        image = _opened(page)
        assert page.media_type == "image/png" and image.format == "PNG"
        assert max(image.size) == MAX_SIDE and image.height > image.width  # A4, upright
        # the black box drawn at the top left, the rest white
        assert image.convert("L").getpixel((int(image.width * 0.15), int(image.height * 0.1))) < 40
        assert image.convert("L").getpixel((image.width // 2, image.height // 2)) > 215


def test_a_long_pdf_stops_at_the_page_cap():
    shown = render_preview(files.pdf_pages(MAX_PAGES + 2), "application/pdf")
    assert len(shown.pages) == MAX_PAGES and shown.total_pages == MAX_PAGES + 2
    assert shown.truncated


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    bomb = files.png_bomb()
    assert len(bomb) < 100_000  # 60 megapixels in a few kilobytes
    with pytest.raises(PayloadTooLarge) as refused:
        render_preview(bomb, "image/png")
    assert refused.value.code == "payload_too_large" and refused.value.status == 413


@pytest.mark.parametrize("size", [(40, 40), (100, 50)])  # Pillow's warning, then its error
def test_pillows_own_bomb_limit_is_refused_too(monkeypatch, size):
    monkeypatch.setattr(preview, "MAX_PIXELS", 10**12)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)
    with pytest.raises(PayloadTooLarge):
        render_preview(files.big_jpeg(*size), "image/jpeg")


@pytest.mark.parametrize(("data", "content_type"), [
    (files.garbage(b"\xff\xd8\xff"), "image/jpeg"),
    (files.garbage(b"\x89PNG\r\n\x1a\n"), "image/png"),
    (files.garbage(b"%PDF-1.7\n"), "application/pdf"),
    (files.truncated(files.big_jpeg(800, 600)), "image/jpeg"),
    (files.png_with_text(), "image/jpeg"),  # only the declared type's decoder is tried
    (files.phone_jpeg(), "application/pdf"),
    (files.phone_jpeg(), "image/gif"),
])
def test_a_file_that_does_not_decode_is_refused(data, content_type):
    with pytest.raises(UnsupportedMediaType) as refused:
        render_preview(data, content_type)
    assert refused.value.code == "unsupported_media_type" and refused.value.status == 415
