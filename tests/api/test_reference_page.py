"""GET /docs: the rendered API reference, from this server's own files, under a strict CSP."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.support.serving import serve_kinpass

CHROMIUM = "/usr/bin/chromium"


def _csp(response) -> dict[str, set[str]]:
    policies = response.headers.getlist("Content-Security-Policy")
    assert len(policies) == 1, policies
    return {name: set(values) for name, *values in
            (part.split() for part in policies[0].split(";") if part.strip())}


def test_the_page_and_its_assets_are_served_here(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    sources = [s for s in sources if s != "data:,"]  # no favicon to fetch
    assert "/docs/swagger-ui-bundle.js" in sources and "/docs/swagger-ui.css" in sources
    for source in sources:
        assert source.startswith("/docs/"), source  # nothing from another host
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert asset.mimetype in ("text/javascript", "text/css"), (source, asset.mimetype)
        assert len(asset.data) > 0
    assert "<script>" not in html and "style=" not in html  # no inline script or style
    assert "SwaggerUIBundle" in client.get("/docs/swagger-ui-bundle.js").get_data(as_text=True)
    assert '"/openapi.json"' in client.get("/docs/reference.js").get_data(as_text=True)


def test_the_policy_allows_only_this_origin(client):
    for path in ("/docs", "/docs/reference.js"):
        csp = _csp(client.get(path))
        assert csp["default-src"] == {"'none'"}
        for directive in ("script-src", "style-src", "connect-src"):
            assert csp[directive] == {"'self'"}, directive
        assert not any("unsafe" in value for values in csp.values() for value in values)
        assert csp["frame-ancestors"] == {"'none'"}


def test_another_name_is_a_problem(client):
    for name in ("nope.js", "index.html", "..%2Fapp.py", "LICENSE"):
        r = client.get(f"/docs/{name}")
        assert r.status_code == 404 and r.mimetype == "application/problem+json", name


def test_the_vendored_files_keep_their_licence():
    files = Path(__file__).resolve().parents[2] / "api" / "static" / "reference"
    assert "Apache License" in (files / "LICENSE").read_text()
    assert "swagger-ui-dist" in (files / "VERSION").read_text()


def test_chromium_renders_the_reference_without_a_policy_violation(tmp_path):
    if not shutil.which(CHROMIUM):
        if os.environ.get("KINPASS_CI"):
            raise AssertionError("CI needs Chromium at /usr/bin/chromium (apt install chromium)")
        pytest.skip("needs Chromium at /usr/bin/chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    with serve_kinpass(tmp_path) as (base, *_), playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            failed: list[str] = []
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            outside: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(base) or r.url.startswith(
                "data:") else outside.append(r.url))
            page.add_init_script("""
                window.__violations = [];
                document.addEventListener('securitypolicyviolation',
                    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
            """)
            page.goto(base + "/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert any("/v1/cases" in text for text in paths), paths[:5]
            assert page.locator(".info .title").inner_text().startswith("KinPass")
            page.locator(".opblock-summary").first.click()
            page.wait_for_selector(".opblock-body", timeout=10_000)
            assert page.evaluate("window.__violations") == []
            assert failed == [] and outside == []
            assert problems == []
        finally:
            browser.close()
