"""Chromium for console tests: Debian's /usr/bin/chromium driven by Playwright, against the
test app served on a werkzeug thread server on loopback. Without Chromium the test skips,
unless KINPASS_CI=1 (then it fails)."""
from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support.http import free_port

CHROMIUM = "/usr/bin/chromium"


def need_chromium() -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("KINPASS_CI"):
            raise AssertionError("CI needs Chromium at /usr/bin/chromium (apt install chromium)")
        pytest.skip("needs Chromium at /usr/bin/chromium")


@contextlib.contextmanager
def live_server(app) -> Iterator[str]:
    """The app on http://localhost:<port> (a secure context, so __Host- cookies are kept),
    one thread per request, until the block ends."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@dataclass
class Watch:
    """What a page did that a console page must never do."""

    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def clean(self) -> bool:
        return not (self.violations or self.errors or self.outside)


WATCH_SCRIPT = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium (skips, or fails in CI, without one)."""
    need_chromium()
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, base: str, *, language: str = "en", watch: Watch | None = None):
    """A page in a fresh browser context (its own cookies) that asks for ``language``,
    1280×800; with ``watch``, its policy violations, script errors and requests to any other
    origin are collected."""
    context = browser.new_context(locale=language, viewport={"width": 1280, "height": 800},
                                  extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    if watch is not None:
        page.add_init_script(WATCH_SCRIPT)
        page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: watch.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(base) else
                watch.outside.append(r.url))
    return page


def violations(page) -> list[str]:
    return page.evaluate("window.__violations || []")


def sign_in(page, base: str, staff) -> None:
    """Fill in the console's sign-in form as a person would."""
    page.goto(base + "/console/login")
    page.fill("input[name=email]", staff.email)
    page.fill("input[name=password]", staff.password)
    page.fill("input[name=otp]", staff.code())
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot(page, name: str) -> None:
    """docs/screenshots/<name>.png when KINPASS_SCREENSHOTS is set."""
    if os.environ.get("KINPASS_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
