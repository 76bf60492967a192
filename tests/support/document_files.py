"""Real files for the preview tests, made with Pillow and PDFium: a phone photo with its
EXIF (GPS, orientation), profile, XMP and comment; a PNG with text chunks; PDFs of N pages;
a decompression bomb; bytes that only look like a file; a case with such files uploaded."""
from __future__ import annotations

import io
import os

import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from tests.support.cases import BIRTH_CERTIFICATE, CASE_BODY, open_case, td3
from tests.support.documents import upload
from tests.support.http import bearer

SECRET = "KINPASS-METADATA-SECRET"
GPS_IFD = 0x8825
ORIENTATION = 0x0112
ROTATED_90 = 6  # EXIF: the camera was turned; shown, the image is taller than it is stored


def _exif(orientation: int = ROTATED_90) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010E] = SECRET  # ImageDescription
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (50.0, 27.0, 1.5), 3: "E", 4: (30.0, 31.0, 2.5)})
    return exif


def _photo(width: int, height: int) -> Image.Image:
    """Left half red, right half blue: which way up it is shown can be read off."""
    image = Image.new("RGB", (width, height), (200, 20, 20))
    image.paste((20, 20, 200), (width // 2, 0, width, height))
    return image


def phone_jpeg(width: int = 120, height: int = 80) -> bytes:
    """A JPEG as a phone writes it: EXIF with GPS and a turned orientation, an ICC profile,
    XMP and a comment, each carrying SECRET."""
    out = io.BytesIO()
    _photo(width, height).save(out, "JPEG", exif=_exif().tobytes(), quality=90,
                               icc_profile=b"ICC-" + SECRET.encode(), comment=SECRET.encode(),
                               xmp=f"<x:xmpmeta>{SECRET}</x:xmpmeta>".encode())
    return out.getvalue()


def specimen_passport(width: int = 900, height: int = 640) -> bytes:
    """A passport data page as a phone photographs it: stored on its side, with EXIF
    saying to turn it (and GPS), like phone_jpeg; upright it is ``width`` × ``height``."""
    page = Image.new("RGB", (width, height), (236, 232, 218))
    draw = ImageDraw.Draw(page)
    title, text = ImageFont.load_default(size=34), ImageFont.load_default(size=22)
    draw.rectangle((0, 0, width, 70), fill=(120, 30, 40))
    draw.text((24, 16), "PASSPORT · SPECIMEN", font=title, fill=(255, 255, 255))
    draw.rectangle((30, 100, 270, 400), fill=(190, 196, 205), outline=(90, 90, 90), width=2)
    draw.ellipse((100, 150, 200, 260), fill=(150, 120, 100))
    draw.rectangle((80, 270, 220, 400), fill=(150, 120, 100))
    for row, (label, value) in enumerate((("Surname", "IVANOVA"), ("Given names", "MARIIA"),
                                          ("Date of birth", "02.04.1971"),
                                          ("Nationality", "RUS"), ("Expires", "20.05.2031"))):
        draw.text((310, 100 + row * 58), label, font=text, fill=(110, 110, 110))
        draw.text((310, 124 + row * 58), value, font=text, fill=(20, 20, 20))
    mono = ImageFont.load_default(size=24)
    for row, line in enumerate(td3().splitlines()):
        draw.text((24, height - 110 + row * 40), line, font=mono, fill=(20, 20, 20))
    out = io.BytesIO()
    page.rotate(90, expand=True).save(out, "JPEG", exif=_exif().tobytes(), quality=88,
                                      comment=SECRET.encode())
    return out.getvalue()


def png_with_text(width: int = 64, height: int = 48) -> bytes:
    """A PNG with tEXt, zTXt and iTXt chunks, EXIF and a profile, each carrying SECRET."""
    info = PngInfo()
    info.add_text("Comment", SECRET)
    info.add_text("Author", SECRET, zip=True)
    info.add_itxt("Description", SECRET, lang="uk", tkey="Опис")
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 120, 10, 200)).save(
        out, "PNG", pnginfo=info, exif=_exif(1).tobytes(), icc_profile=b"ICC-" + SECRET.encode())
    return out.getvalue()


def big_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    out = io.BytesIO()
    _photo(width, height).save(out, "JPEG", quality=70)
    return out.getvalue()


def pdf_pages(count: int, *, width: float = 595, height: float = 842) -> bytes:
    """A PDF of ``count`` A4 pages, each with a black box in its top-left corner."""
    document = pdfium.PdfDocument.new()
    try:
        for _ in range(count):
            page = document.new_page(width, height)
            box = pdfium.PdfImage.new(document)
            box.set_bitmap(pdfium.PdfBitmap.from_pil(Image.new("RGB", (10, 10))))
            box.set_matrix(pdfium.PdfMatrix().scale(100, 100).translate(50, height - 150))
            page.insert_obj(box)
            page.gen_content()
            page.close()
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()
    finally:
        document.close()


def png_bomb(width: int = 10_000, height: int = 6_000) -> bytes:
    """60 megapixels of nothing in a few kilobytes: a decompression bomb."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG", optimize=True)
    return out.getvalue()


def garbage(magic: bytes, size: int = 4_000) -> bytes:
    """The leading bytes of a file type (so the upload's type check passes), then noise."""
    return magic + os.urandom(size - len(magic))


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def case_with_files(client, token: str, passport: bytes, certificate: bytes,
                    certificate_type: str = "application/pdf") -> tuple[str, str, str]:
    """A submitted case whose passport and birth certificate were uploaded through the API
    as these files; returns the case's and the two documents' ids."""
    case_id = open_case(client, token, CASE_BODY)["id"]
    first = upload(client, token, case_id, passport, kind="passport",
                   content_type="image/jpeg", mrz=td3())
    second = upload(client, token, case_id, certificate, kind="birth_certificate",
                    content_type=certificate_type, fields=BIRTH_CERTIFICATE)
    r = client.post(f"/v1/cases/{case_id}/submit", headers=bearer(token))
    assert r.status_code == 202, r.get_json()
    return case_id, first["id"], second["id"]
