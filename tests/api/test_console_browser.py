"""The console in a real Chromium: sign-in with a one-time code, the cookie the browser
keeps, a page without a policy violation, sign-out that ends the API's session too."""
from __future__ import annotations

from tests.support.browser import Watch, chromium, live_server, open_page, sign_in, violations
from tests.support.console import SESSION_COOKIE, new_staff


def test_sign_in_and_out_in_chromium(app):
    officer = new_staff("officer", "officer@kinpass.example")
    watch = Watch()
    with live_server(app) as base, chromium() as browser:
        page = open_page(browser, base, watch=watch)
        sign_in(page, base, officer)
        assert page.url.endswith("/console/cases")
        cookies = {c["name"]: c for c in page.context.cookies()}
        cookie = cookies[SESSION_COOKIE]
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/" and page.evaluate("document.cookie") == ""
        assert violations(page) == [] and watch.clean(), watch
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/console/login")
        page.goto(base + "/console/cases")
        assert page.url.endswith("/console/login")
