"""Driving the checkpoint app in Debian's Chromium (served by tests.support.browser's
live_server): a signed-in checkpoint guard, pasted tokens and their verdicts, the service
worker's saved copies, and a camera that shows a QR code (Chromium's fake capture device)."""
from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

from PIL import Image

from tests.support.browser import CHROMIUM
from tests.support.console import Staff, new_staff

WORDS = ("Valid", "Revoked", "Expired", "Not yet valid", "Redeemed", "Invalid", "Not certain")


def launch(playwright, *extra_args: str):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", *extra_args])


def guard() -> Staff:
    """A fresh checkpoint account."""
    return new_staff("checkpoint", f"guard-{uuid.uuid4().hex[:8]}@kinpass.example")


def until(page, expression: str, timeout: float = 20) -> None:
    """Poll ``expression`` in the page until it is truthy. (Playwright's wait_for_function
    evaluates its predicate with eval, which the app's policy rightly refuses.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.1)


def open_app(page, base: str) -> None:
    page.goto(base + "/checkpoint/")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)


def sign_in(page, base: str, staff: Staff) -> None:
    open_app(page, base)
    page.fill("input[name=email]", staff.email)
    page.fill("input[name=password]", staff.password)
    page.fill("input[name=otp]", staff.code())
    page.get_by_role("button", name="Sign in").click()
    until(page, "!document.getElementById('work').hidden"
                " || document.getElementById('sign-in-error').textContent !== ''", 30)
    assert page.is_visible("#work"), page.inner_text("#sign-in-error")


def controlled(page) -> None:
    """Wait until the service worker controls the page and the page has saved its documents
    through it (so they are there offline)."""
    until(page, "navigator.serviceWorker.controller !== null")
    until(page, """(async () => {
        const cache = await caches.open('kinpass-checkpoint-v1');
        return Boolean(await cache.match('/v1/authorizations/revocations'))
            && Boolean(await cache.match('/.well-known/jwks.json'))
            && Boolean(await cache.match('/checkpoint/jsQR.js'));
    })()""")


def paste(page, token: str) -> str:
    """Paste a token, press Verify, and return the verdict once it has settled."""
    page.evaluate("document.getElementById('verdict').textContent = ''")
    page.fill("input[name=token]", token)
    page.get_by_role("button", name="Verify").click()
    until(page, "document.getElementById('verdict').textContent !== ''"
                " && !document.body.dataset.checking", 10)
    return page.inner_text("#verdict")


def y4m_of(png: bytes, path: Path, size: tuple[int, int] = (1600, 1280)) -> Path:
    """A one-frame YUV4MPEG2 clip of a PNG (grey, centred on white, not rescaled: a token's
    QR code is dense), for Chromium's --use-file-for-fake-video-capture, which loops it."""
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.width <= size[0] and image.height <= size[1], image.size
    frame = Image.new("L", size, 255)
    frame.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
    chroma = bytes([128]) * (size[0] * size[1] // 4)
    path.write_bytes(f"YUV4MPEG2 W{size[0]} H{size[1]} F10:1 Ip A1:1 C420jpeg\n".encode()
                     + b"FRAME\n" + frame.tobytes() + chroma + chroma)
    return path
