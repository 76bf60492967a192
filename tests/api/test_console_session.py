"""The console's sign-in: the API's own sessions behind a __Host- cookie, CSRF on every
form, its timeouts, and the headers of every page."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from storage.db import session as db, utcnow
from storage.models.accounts import AuthSession
from storage.models.audit import AuditEvent
from tests.support.console import SESSION_COOKIE, console_login, csrf_of, new_staff


def _cookie_header(response, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


def test_sign_in_sets_a_host_cookie_on_a_server_side_session(client):
    officer = new_staff("officer", "officer@kinpass.example")
    r = console_login(client, officer)
    assert r.status_code == 303 and r.headers["Location"].endswith("/console/")
    cookie = _cookie_header(r, SESSION_COOKIE)
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path"} <= flags and "domain" not in flags
    assert "SameSite=Strict" in cookie and "Path=/" in cookie
    sessions = db().execute(select(AuthSession)).scalars().all()
    assert len(sessions) == 1 and sessions[0].otp_at is not None
    assert client.get("/console/cases").status_code == 200


def test_a_page_without_a_session_sends_to_sign_in(client):
    r = client.get("/console/cases")
    assert r.status_code == 303 and r.headers["Location"].endswith("/console/login")


def test_wrong_credentials_and_codes_are_refused_on_the_form(client):
    officer = new_staff("officer", "officer@kinpass.example")
    r = console_login(client, officer, otp="000000")
    assert r.status_code == 401 and "one-time code is wrong" in r.get_data(as_text=True)
    officer.password = "Wrong-password-123"
    r = console_login(client, officer, otp="000000")
    assert r.status_code == 401 and "email or password is wrong" in r.get_data(as_text=True)
    assert client.get_cookie(SESSION_COOKIE) is None


def test_failed_console_logins_count_against_the_api_limit(client):
    officer = new_staff("officer", "officer@kinpass.example")
    right = officer.password
    officer.password = "Wrong-password-123"
    for _ in range(10):
        assert console_login(client, officer, otp="000000").status_code == 401
    r = client.post("/v1/auth/login", json={"login": officer.email, "password": right,
                                            "otp": officer.code()})
    assert r.status_code == 429


def test_a_post_without_the_session_token_is_refused(client):
    officer = new_staff("officer", "officer@kinpass.example")
    console_login(client, officer)
    r = client.post("/console/logout", data={"next": "/"})
    assert r.status_code == 403
    r = client.post("/console/logout", data={"csrf_token": "0" * 64})
    assert r.status_code == 403
    assert db().execute(select(AuthSession.revoked_at)).scalar_one() is None
    denied = db().execute(select(AuditEvent.reason).where(
        AuditEvent.action == "access.denied")).scalars().all()
    assert denied.count("403 forbidden POST") == 2


def test_a_login_post_needs_its_form_token(client):
    officer = new_staff("officer", "officer@kinpass.example")
    r = client.post("/console/login", data={"email": officer.email,
                                            "password": officer.password,
                                            "otp": officer.code()})
    assert r.status_code == 403 and db().execute(select(AuthSession)).first() is None


def test_sign_out_ends_the_session_on_the_server(client):
    officer = new_staff("officer", "officer@kinpass.example")
    console_login(client, officer)
    token = csrf_of(client.get("/console/cases").get_data(as_text=True))
    r = client.post("/console/logout", data={"csrf_token": token})
    assert r.status_code == 303
    assert db().execute(select(AuthSession.revoked_at)).scalar_one() is not None
    assert client.get("/console/cases").status_code == 303


def test_an_idle_session_ends(client):
    officer = new_staff("officer", "officer@kinpass.example")
    console_login(client, officer)
    db().execute(update(AuthSession).values(last_used_at=utcnow() - timedelta(minutes=16)))
    db().commit()
    assert client.get("/console/cases").status_code == 303
    assert db().execute(select(AuthSession.revoked_at)).scalar_one() is not None


def test_a_session_past_its_absolute_end_is_over(client):
    officer = new_staff("officer", "officer@kinpass.example")
    console_login(client, officer)
    db().execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db().commit()
    assert client.get("/console/cases").status_code == 303


def test_relatives_and_checkpoints_cannot_sign_in(client):
    checkpoint = new_staff("checkpoint", "gate@kinpass.example")
    r = console_login(client, checkpoint)
    assert r.status_code == 403 and db().execute(select(AuthSession)).first() is None


def test_pages_carry_a_strict_policy(client):
    officer = new_staff("officer", "officer@kinpass.example")
    for response in (client.get("/console/login"), console_login(client, officer),
                     client.get("/console/cases")):
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_ukrainian_by_default_english_on_request(client):
    assert "Увійти" in client.get("/console/login").get_data(as_text=True)
    english = client.get("/console/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Sign in" in english.get_data(as_text=True)
    assert "Увійти" not in english.get_data(as_text=True)


def test_disabling_the_account_ends_its_console_session_at_once(client, make_staff):
    officer = new_staff("officer", "officer@kinpass.example")
    console_login(client, officer)
    assert client.get("/console/cases").status_code == 200
    admin = make_staff("admin")
    r = client.post(f"/v1/admin/staff/{officer.id}/disable",
                    headers={"Authorization": f"Bearer {admin['access_token']}"})
    assert r.status_code == 200
    assert client.get("/console/cases").status_code == 303


def test_sign_out_everywhere_ends_the_api_sessions_too(app, client):
    officer = new_staff("officer", "officer@kinpass.example")
    api = app.test_client().post("/v1/auth/login", json={
        "login": officer.email, "password": officer.password, "otp": officer.code()})
    bearer = {"Authorization": f"Bearer {api.get_json()['access_token']}"}
    console_login(client, officer)
    token = csrf_of(client.get("/console/", follow_redirects=True).get_data(as_text=True))
    assert client.post("/console/sessions/end", data={"csrf_token": token}).status_code == 303
    r = app.test_client().get("/v1/me", headers=bearer)
    assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"
    assert client.get("/console/cases").status_code == 303


def test_every_console_route_declares_one_role_or_is_the_sign_in(app):
    open_routes = {"console.static", "console.auth.login_form", "console.auth.login"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and rule.endpoint not in open_routes:
            roles = getattr(app.view_functions[rule.endpoint], "_kinpass_roles", None)
            assert roles and not roles & {"relative", "checkpoint"}, rule.rule


def test_every_post_form_carries_the_csrf_token():
    templates = Path(__file__).resolve().parents[2] / "api" / "web" / "templates"
    forms = 0
    for path in templates.rglob("*.html"):
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", path.read_text(),
                               re.S):
            assert "csrf_field()" in form, path.name
            forms += 1
    assert forms >= 10


def test_a_post_past_the_form_limit_is_refused_unread(app, client):
    huge = {"email": "a@kinpass.example", "x": "A" * 300_000}
    r = client.post("/console/login", data=huge, headers={"Accept-Language": "en"})
    assert r.status_code == 413 and "The form is too large." in r.get_data(as_text=True)
    officer = new_staff("officer", "officer@kinpass.example")
    console_login(client, officer)
    token = csrf_of(client.get("/console/cases").get_data(as_text=True))
    r = client.post("/console/logout", data={"csrf_token": token, "x": "A" * 300_000})
    assert r.status_code == 413
    assert db().execute(select(AuthSession.revoked_at)).scalar_one() is None
