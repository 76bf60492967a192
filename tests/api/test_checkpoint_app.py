"""/checkpoint/: the checkpoint app in headless Chromium — installable, verifying in the
browser online and offline, redeeming a pickup once, never "Valid" on a stale list."""
from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import session as db
from storage.models import AuditEvent, Authorization
from tests.support.browser import CHROMIUM, live_server, need_chromium
from tests.support.checkpoint_app import (
    WORDS,
    controlled,
    guard,
    launch,
    open_app,
    paste,
    sign_in,
    until,
    y4m_of,
)
from tests.support.console import SESSION_COOKIE
from tests.support.world import World, hours

FILES = Path(__file__).resolve().parents[2] / "api" / "web" / "checkpoint" / "static"


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


@pytest.fixture(scope="module")
def playwright():
    need_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def base(app):
    with live_server(app) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script("""
        window.__violations = [];
        document.addEventListener('securitypolicyviolation',
            e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
    """)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == []


def _policy(response) -> dict[str, set[str]]:
    policies = response.headers.getlist("Content-Security-Policy")
    assert len(policies) == 1
    return {name: set(values) for name, *values in
            (part.split() for part in policies[0].split(";") if part.strip())}


def altered(token: str) -> str:
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["holder"]["document_number"] = "AA0000000"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join([head, forged, signature])


def redemptions(authorization_id: str) -> int:
    count = db().execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "checkpoint.redeem", AuditEvent.outcome == "success",
        AuditEvent.subject_id == authorization_id)).scalar_one()
    db.remove()
    return count


# --- served files ----------------------------------------------------------------------------

def test_the_app_is_served_here_under_a_strict_policy(client):
    page = client.get("/checkpoint/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html
    for source in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert source.startswith("/checkpoint/"), source
        assert client.get(source).status_code == 200, source
    for path in ("/checkpoint/", "/checkpoint/app.js", "/checkpoint/sw.js",
                 "/checkpoint/config.json"):
        csp = _policy(client.get(path))
        assert csp["default-src"] == {"'none'"} and csp["script-src"] == {"'self'"}
        assert csp["connect-src"] == {"'self'"} and csp["frame-ancestors"] == {"'none'"}
        assert not any("unsafe" in v for values in csp.values() for v in values)
    assert client.get("/checkpoint/index.html").status_code == 404
    assert client.get("/checkpoint/jsQR.LICENSE").status_code == 404


def test_the_manifest_and_settings(client, app):
    manifest = json.loads(client.get("/checkpoint/manifest.webmanifest").data)
    assert manifest["start_url"] == "/checkpoint/" and manifest["scope"] == "/checkpoint/"
    assert manifest["display"] == "standalone" and manifest["icons"]
    config = client.get("/checkpoint/config.json").get_json()
    settings = app.extensions["kinpass"].settings
    assert config == {"issuer": settings.issuer, "audience": "kinpass-checkpoint",
                      "revocation_max_age_minutes": settings.revocation_max_age_minutes}


def test_the_vendored_decoder_keeps_its_licence():
    assert "Apache License" in (FILES / "jsQR.LICENSE").read_text()
    assert "jsqr 1.4.0" in (FILES / "VERSION").read_text()
    assert "jsQR" in (FILES / "jsQR.js").read_text()[:2000]


# --- in Chromium -----------------------------------------------------------------------------

def test_installable_with_a_service_worker_and_no_policy_violation(page, base):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    open_app(page, base)
    assert page.is_visible("input[name=email]") and page.is_visible("text=Sign in")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == base + "/checkpoint/"
    assert page.evaluate("document.querySelector('link[rel=manifest]').href") == (
        base + "/checkpoint/manifest.webmanifest")
    until(page, "navigator.serviceWorker.controller !== null")
    assert page.evaluate("window.__violations") == []
    assert all(url.startswith(base) for url in requests), requests


def test_chromium_finds_the_app_installable(playwright, base, tmp_path):
    # A persistent profile: Chromium does not offer to install from an incognito one.
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=["--no-sandbox"])
    try:
        page = context.pages[0] if context.pages else context.new_page()
        open_app(page, base)
        controlled(page)
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors") == {"installabilityErrors": []}
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [] and manifest["url"].endswith("/manifest.webmanifest")
    finally:
        context.close()


def test_a_pasted_pickup_is_valid_then_redeemed_once(page, base, world):
    _, _, _, pickup = world.ready_pickup()
    sign_in(page, base, guard())
    cookie = {c["name"]: c for c in page.context.cookies()}[SESSION_COOKIE]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # nothing of the session for a script
    assert paste(page, pickup["token"]) == "Valid"
    assert page.inner_text("#holder-document") == "L898902C3"
    assert page.inner_text("#holder-latin") == "IVANOVA MARIIA PETROVNA"
    assert page.inner_text("#holder-name").startswith("Иванова")
    assert page.inner_text("#prisoner-name").startswith("Иванов")
    assert page.inner_text("#handover-location") == pickup["handover"]["location"]
    page.get_by_role("button", name="Redeem").click()
    until(page, "document.getElementById('verdict').textContent === 'Redeemed'")
    assert "just now" in page.inner_text("#verdict-note")
    assert db().get(Authorization, uuid.UUID(pickup["id"])).status == "redeemed"
    db.remove()
    assert paste(page, pickup["token"]) == "Redeemed"
    assert "before" in page.inner_text("#verdict-note")
    assert not page.is_visible("text=Redeem >> nth=0") or page.is_hidden("#redeem")
    assert page.evaluate("window.__violations") == []


def test_a_retry_after_a_lost_answer_is_not_a_second_redemption(page, base, world):
    _, _, _, pickup = world.ready_pickup()
    sign_in(page, base, guard())
    keys: list[str] = []

    def lose_the_first_answer(route):
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the server redeems ...
            route.abort("connectionreset")  # ... and the answer is lost on the way back
        else:
            route.continue_()

    page.route("**/checkpoint/redeem", lose_the_first_answer)
    assert paste(page, pickup["token"]) == "Valid"
    page.get_by_role("button", name="Redeem").click()
    until(page, "document.getElementById('redeem-note').textContent"
                           ".includes('No answer')")
    assert redemptions(pickup["id"]) == 1
    page.get_by_role("button", name="Redeem").click()
    until(page, "document.getElementById('verdict').textContent === 'Redeemed'")
    assert "just now" in page.inner_text("#verdict-note")  # the first answer, replayed
    assert len(keys) == 2 and keys[0] == keys[1]
    assert redemptions(pickup["id"]) == 1


def test_revoked_expired_early_altered_and_garbage(page, base, world, client):
    _, case_id, _ = world.approved_case()
    revoked = world.travel(case_id)
    client.post(f"/v1/admin/authorizations/{revoked['id']}/revoke", headers=world.officer,
                json={"reason": "lost phone"})
    _, other, _ = world.approved_case()
    expired = world.lapse(world.travel(other))
    _, third, _ = world.approved_case()
    early = world.travel(third, hours(2), hours(10))
    _, fourth, _ = world.approved_case()
    good = world.travel(fourth, entry_point="Sumy")
    sign_in(page, base, guard())
    assert paste(page, good["token"]) == "Valid"
    assert page.inner_text("#travel-entry") == "Sumy"
    assert paste(page, revoked["token"]) == "Revoked"
    assert paste(page, expired["token"]) == "Expired"
    assert paste(page, early["token"]) == "Not yet valid"
    assert paste(page, altered(good["token"])) == "Invalid"
    assert page.inner_text("#holder-document") == ""  # nothing of a forged token is shown
    for garbage in ("x", "a.b.c", "e30.e30.e30", "<img src=x onerror=alert(1)>", "ü.ü.ü"):
        assert paste(page, garbage) == "Invalid", garbage
    assert page.evaluate("window.__violations") == []


def test_offline_the_app_reloads_verifies_and_refuses_to_redeem(page, base, world):
    _, _, _, pickup = world.ready_pickup()
    sign_in(page, base, guard())
    controlled(page)
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    assert page.inner_text("#network") == "Offline"
    assert page.is_visible("input[name=token]")  # still signed in
    assert paste(page, pickup["token"]) == "Valid"
    assert page.inner_text("#holder-document") == "L898902C3"
    assert page.is_disabled("#redeem")
    assert "only online" in page.inner_text("#redeem-note")
    assert "IVANOVA MARIIA PETROVNA" in page.inner_text("#queue")
    saved = page.evaluate("""(async () => (await (await caches.open('kinpass-checkpoint-v1'))
        .keys()).map(r => new URL(r.url).pathname))()""")
    assert "/.well-known/jwks.json" in saved and "/v1/authorizations/revocations" in saved
    assert all(p.startswith("/checkpoint/") or p in (
        "/.well-known/jwks.json", "/v1/authorizations/revocations") for p in saved), saved
    assert "/checkpoint/verify" not in saved and "/checkpoint/session" not in saved
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("#sign-in:not([hidden])")
    kept = page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert "IVANOVA" not in kept and "queue" not in kept  # the queue is gone with the shift
    assert db().get(Authorization, uuid.UUID(pickup["id"])).status == "active"
    db.remove()


def test_a_stale_list_never_says_valid(page, base, world, app):
    _, _, _, pickup = world.ready_pickup()
    page.clock.install()
    sign_in(page, base, guard())
    controlled(page)
    assert paste(page, pickup["token"]) == "Valid"
    page.context.set_offline(True)
    until(page, "document.getElementById('network').textContent === 'Offline'")
    max_age = app.extensions["kinpass"].settings.revocation_max_age_minutes
    page.clock.fast_forward((max_age + 1) * 60 * 1000)
    assert paste(page, pickup["token"]) == "Not certain"
    assert "older than" in page.inner_text("#verdict-note")
    assert page.is_hidden("#redeem")
    assert "trusted for" in page.inner_text("#list-age")
    assert page.evaluate("document.getElementById('list-age').classList.contains('stale')")
    page.context.set_offline(False)  # online, this clock still finds every list too old
    assert paste(page, pickup["token"]) == "Not certain"


def test_the_shift_end_signs_out_and_wipes_the_queue(page, base, world):
    _, _, _, pickup = world.ready_pickup()
    page.clock.install()
    sign_in(page, base, guard())
    controlled(page)
    page.context.set_offline(True)
    page.wait_for_timeout(200)
    assert paste(page, pickup["token"]) == "Valid"
    assert "IVANOVA" in page.inner_text("#queue")
    page.clock.fast_forward(12 * 3600 * 1000 + 60_000)  # one tick after the shift's end
    until(page, "!document.getElementById('sign-in').hidden")
    assert "shift is over" in page.inner_text("#sign-in-error")
    kept = page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert kept == "{}"
    assert page.inner_text("#verdict") == "" and "IVANOVA" not in page.inner_text("body")


def test_a_qr_code_from_the_camera(playwright, base, world, tmp_path):
    _, _, _, pickup = world.ready_pickup()
    png = world.client.get(f"/v1/authorizations/{pickup['id']}/qr.png", headers=world.officer)
    assert png.status_code == 200 and png.mimetype == "image/png"
    clip = y4m_of(png.data, tmp_path / "qr.y4m")
    browser = launch(playwright, "--use-fake-device-for-media-stream",
                     "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={clip}")
    try:
        context = browser.new_context(permissions=["camera"])
        page = context.new_page()
        sign_in(page, base, guard())
        page.get_by_role("button", name="Scan with camera").click()

        until(page,
            f"{list(WORDS)!r}.includes(document.getElementById('verdict').textContent)"
            " && !document.body.dataset.checking", 30)
        assert page.inner_text("#verdict") == "Valid"
        assert page.inner_text("#holder-document") == "L898902C3"
        assert page.evaluate("document.body.dataset.decoder") in ("jsQR", "BarcodeDetector")
        assert page.is_hidden("#viewfinder")  # the camera stops once it has read a code
    finally:
        browser.close()
