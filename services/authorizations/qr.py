"""Authorization tokens as QR codes a checkpoint scanner reads from a phone screen or paper.

Error correction Q (25 % of the symbol may be damaged or glared), raised to H by segno when
the token still fits the same version; 8 pixels a module and the standard 4-module quiet zone.
"""
from __future__ import annotations

import io

import segno

ERROR = "q"
SCALE = 8
BORDER = 4


def _symbol(token: str) -> segno.QRCode:
    return segno.make_qr(token, error=ERROR, boost_error=True, encoding="ascii")


def png(token: str) -> bytes:
    out = io.BytesIO()
    _symbol(token).save(out, kind="png", scale=SCALE, border=BORDER)
    return out.getvalue()


def svg(token: str) -> bytes:
    out = io.BytesIO()
    _symbol(token).save(out, kind="svg", scale=SCALE, border=BORDER, xmldecl=True,
                        svgns=True, title="KinPass authorization")
    return out.getvalue()
