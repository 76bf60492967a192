"""The console end to end in Chromium: an officer works a case, a different supervisor gives
the second approval with a fresh code, authorizations are issued and printed; rejections,
requests for information, forged posts, the policy, the languages and sign-out."""
from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, update

from auth.tokens import issue_pair
from storage.db import session as db, utcnow
from storage.models.accounts import Account, AuthSession
from storage.models.cases import Case
from tests.support.browser import Watch, chromium, live_server, open_page, sign_in, violations
from tests.support.cases import add_prisoner, submitted_case
from tests.support.console import SESSION_COOKIE, new_staff

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _shot(page, name: str) -> None:
    """Screenshots for docs/ when KINPASS_SCREENSHOTS is set."""
    if os.environ.get("KINPASS_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _case(client, register_relative) -> str:
    _, _, tokens = register_relative()
    return submitted_case(client, tokens["access_token"])["id"]


def _status(case_id: str) -> str:
    """Read in a unit of its own, closed at once (an open one would hold SQLite's write
    lock against the server)."""
    db.remove()
    status = db().execute(select(Case.status).where(Case.id == uuid.UUID(case_id))).scalar_one()
    db.remove()
    return status


def _stale_code(staff) -> None:
    db().execute(update(AuthSession).where(AuthSession.account_id == uuid.UUID(staff.id))
                 .values(otp_at=utcnow() - timedelta(minutes=6)))
    db().commit()
    db.remove()


def _session_cookie(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE)


@pytest.fixture
def browser():
    with chromium() as running:
        yield running


def test_officer_then_supervisor_then_authorizations(app, client, register_relative, browser):
    add_prisoner()
    case_id = _case(client, register_relative)
    officer = new_staff("officer", "officer@kinpass.example")
    supervisor = new_staff("supervisor", "supervisor@kinpass.example")
    watch = Watch()
    with live_server(app) as base:
        page = open_page(browser, base, watch=watch)
        sign_in(page, base, officer)
        assert page.url.endswith("/console/cases")
        _shot(page, "queue")
        page.click(f"a[href='/console/cases/{case_id}']")
        page.get_by_role("button", name="Link", exact=True).first.click()
        page.wait_for_load_state("load")
        assert "Linked prisoner" in page.content() and page.locator(".panel dl").count() >= 3
        page.get_by_label("Reason", exact=True).fill("Passport and certificate agree with the registry.")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_load_state("load")
        assert page.locator(".status").get_attribute("data-status") == "approval_pending"
        assert "A different supervisor must give the second approval." in page.content()
        assert page.get_by_role("button", name="Approve").count() == 0  # four eyes
        _shot(page, "case")

        second = open_page(browser, base, watch=watch)
        sign_in(second, base, supervisor)
        _stale_code(supervisor)
        second.goto(f"{base}/console/cases/{case_id}")
        assert "First approval by" in second.content()
        second.get_by_label("Reason", exact=True).fill("Second look: consistent.")
        second.fill("input[name=otp]", supervisor.code())
        second.get_by_role("button", name="Approve").click()
        second.wait_for_load_state("load")
        assert second.locator(".status").get_attribute("data-status") == "approved"
        assert _status(case_id) == "approved"

        now = utcnow() + timedelta(hours=2)  # Kyiv time is ahead of UTC, never behind
        second.fill("#location", "Київ, пункт передачі №3")
        second.fill("#starts_at", now.strftime("%Y-%m-%dT%H:%M"))
        second.fill("#ends_at", (now + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"))
        second.get_by_role("button", name="Schedule handover").click()
        second.wait_for_load_state("load")
        second.fill("#valid_from", now.strftime("%Y-%m-%dT%H:%M"))
        second.fill("#valid_until", (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
        second.fill("#entry_point", "Суми")
        second.get_by_role("button", name="Issue travel authorization").click()
        second.wait_for_load_state("load")
        second.get_by_role("button", name="Issue pickup authorization").click()
        second.wait_for_load_state("load")
        assert second.locator("tr.authorization[data-status=active]").count() == 2
        second.get_by_role("link", name="Printable sheet of QR codes").click()
        second.wait_for_load_state("load")
        images = second.locator(".qr img")
        assert images.count() == 2
        second.wait_for_function("[...document.images].every(i => i.complete)")
        assert all(w > 0 for w in second.eval_on_selector_all(
            ".qr img", "imgs => imgs.map(i => i.naturalWidth)"))
        _shot(second, "sheet")
        assert violations(page) == [] and violations(second) == [] and watch.clean(), watch


def test_reject_and_request_information_in_the_browser(app, client, register_relative,
                                                       browser):
    rejected, asked = _case(client, register_relative), _case(client, register_relative)
    officer = new_staff("officer", "officer@kinpass.example")
    with live_server(app) as base:
        page = open_page(browser, base)
        sign_in(page, base, officer)
        page.goto(f"{base}/console/cases/{rejected}")
        page.get_by_label("Reason", exact=True).fill("The certificate names another mother.")
        page.get_by_role("button", name="Reject").click()
        page.wait_for_load_state("load")
        page.goto(f"{base}/console/cases/{asked}")
        page.get_by_label("Reason", exact=True).fill("Please upload a clearer birth certificate.")
        page.check("input[name=requested_documents][value=birth_certificate]")
        page.get_by_role("button", name="Request information").click()
        page.wait_for_load_state("load")
    assert _status(rejected) == "rejected" and _status(asked) == "info_requested"


def test_a_forged_post_is_refused(app, client, register_relative, browser):
    case_id = _case(client, register_relative)
    officer = new_staff("officer", "officer@kinpass.example")
    with live_server(app) as base:
        page = open_page(browser, base)
        sign_in(page, base, officer)
        cookie = {"Cookie": f"{SESSION_COOKIE}={_session_cookie(page)}"}
        url = f"{base}/console/cases/{case_id}/decisions"
        form = {"decision": "reject", "reason": "Forged from another site."}
        r = requests.post(url, data=form, headers=cookie, timeout=30, allow_redirects=False)
        assert r.status_code == 403
        r = requests.post(url, data={**form, "csrf_token": "f" * 64}, headers=cookie,
                          timeout=30, allow_redirects=False)
        assert r.status_code == 403
        page.goto(f"{base}/console/cases/{case_id}")
        assert _status(case_id) == "in_review"
        r = requests.get(f"{base}/console/cases", headers=cookie, timeout=30)
        csp = r.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["Cache-Control"] == "no-store"


def test_ukrainian_by_default_english_on_request(app, browser):
    with live_server(app) as base:
        uk = open_page(browser, base, language="uk")
        uk.goto(base + "/console/login")
        assert uk.get_by_role("button", name="Увійти").count() == 1
        assert uk.locator("html").get_attribute("lang") == "uk"
        assert uk.get_by_label("Пароль").count() == 1
        _shot(uk, "login-uk")
        ru = open_page(browser, base, language="ru")
        ru.goto(base + "/console/login")
        assert ru.get_by_role("button", name="Увійти").count() == 1  # not English: Ukrainian
        en = open_page(browser, base, language="en-GB")
        en.goto(base + "/console/login")
        assert en.get_by_role("button", name="Sign in").count() == 1
        assert en.get_by_label("Password").count() == 1


def test_sign_out_ends_the_session_for_api_bearers_too(app, browser):
    officer = new_staff("officer", "officer@kinpass.example")
    with live_server(app) as base:
        page = open_page(browser, base)
        sign_in(page, base, officer)
        with app.test_request_context():
            auth_session = db().execute(select(AuthSession)).scalar_one()
            account = db().get(Account, auth_session.account_id)
            access = issue_pair(account, auth_session)["access_token"]
        db.remove()
        bearer = {"Authorization": f"Bearer {access}"}
        assert requests.get(f"{base}/v1/me", headers=bearer, timeout=30).status_code == 200
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/console/login")
        r = requests.get(f"{base}/v1/me", headers=bearer, timeout=30)
        assert r.status_code == 401 and r.json()["code"] == "token_revoked"
        page.goto(base + "/console/cases")
        assert page.url.endswith("/console/login")
