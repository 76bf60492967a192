"""Recovery and sessions: reset by code, password change, one's sessions with revoke and
"sign out everywhere", and erasure of a relative's account."""
from __future__ import annotations

import time

import pyotp
from sqlalchemy import select

from storage.db import session as db
from storage.models import Account, AuditEvent, Document, Registration
from tests.support.cases import submitted_case
from tests.support.http import bearer

NEW_PASSWORD = "Another-Long-Pass-7"


def _login(client, login, password, **extra):
    return client.post("/v1/auth/login", json={"login": login, "password": password, **extra})


def _actions() -> list[str]:
    rows = [r.action for r in db().execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
    db.remove()
    return rows


def test_forgot_and_reset_by_code_revokes_every_session(client, outbox, register_relative):
    email, password, tokens = register_relative(language="uk")
    r = client.post("/v1/auth/password/forgot", json={"login": email})
    assert r.status_code == 202 and r.get_json() == {"status": "reset_sent"}
    message = outbox(email)[-1]
    assert message["template"] == "password_reset_code" and message["language"] == "uk"
    code = message["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    r = client.post("/v1/auth/password/reset", json={"login": email, "code": wrong,
                                                     "password": NEW_PASSWORD})
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_code"
    r = client.post("/v1/auth/password/reset", json={"login": email, "code": code,
                                                     "password": "short"})
    assert r.status_code == 400 and r.get_json()["code"] == "validation_error"
    r = client.post("/v1/auth/password/reset", json={"login": email, "code": code,
                                                     "password": NEW_PASSWORD})
    assert r.status_code == 200 and r.get_json() == {"status": "password_reset"}
    r = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"
    assert _login(client, email, password).status_code == 401
    assert _login(client, email, NEW_PASSWORD).status_code == 200
    assert outbox(email)[-1]["template"] == "password_changed"
    again = client.post("/v1/auth/password/reset", json={"login": email, "code": code,
                                                         "password": "Third-Long-Pass-8"})
    assert again.status_code == 400
    assert {"account.password_forgot", "account.password_reset"} <= set(_actions())


def test_forgot_answers_the_same_for_any_login(client, outbox):
    r = client.post("/v1/auth/password/forgot", json={"login": "nobody@example.org"})
    assert r.status_code == 202 and r.get_json() == {"status": "reset_sent"}
    assert outbox("nobody@example.org") == []


def test_a_new_reset_code_kills_the_old_one(client, outbox, register_relative):
    email, _, _ = register_relative()
    client.post("/v1/auth/password/forgot", json={"login": email})
    first = outbox(email)[-1]["code"]
    client.post("/v1/auth/password/forgot", json={"login": email})
    second = outbox(email)[-1]["code"]
    if first != second:
        r = client.post("/v1/auth/password/reset", json={"login": email, "code": first,
                                                         "password": NEW_PASSWORD})
        assert r.status_code == 400
    r = client.post("/v1/auth/password/reset", json={"login": email, "code": second,
                                                     "password": NEW_PASSWORD})
    assert r.status_code == 200


def test_staff_reset_needs_the_otp(client, outbox, make_staff):
    staff = make_staff("officer")
    client.post("/v1/auth/password/forgot", json={"login": staff["email"]})
    code = outbox(staff["email"])[-1]["code"]
    body = {"login": staff["email"], "code": code, "password": NEW_PASSWORD}
    r = client.post("/v1/auth/password/reset", json=body)
    assert r.status_code == 401 and r.get_json()["code"] == "otp_required"
    otp = pyotp.TOTP(staff["totp_secret"]).at(time.time() + 30)
    r = client.post("/v1/auth/password/reset", json={**body, "otp": otp})
    assert r.status_code == 200, r.get_json()


def test_password_change_keeps_only_the_current_session(client, outbox, register_relative):
    email, password, first = register_relative()
    second = _login(client, email, password).get_json()
    r = client.post("/v1/me/password", json={"current_password": "wrong-one-123",
                                             "new_password": NEW_PASSWORD},
                    headers=bearer(second["access_token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "invalid_credentials"
    r = client.post("/v1/me/password", json={"current_password": password,
                                             "new_password": NEW_PASSWORD},
                    headers=bearer(second["access_token"]))
    assert r.status_code == 204
    assert client.get("/v1/me", headers=bearer(second["access_token"])).status_code == 200
    r = client.get("/v1/me", headers=bearer(first["access_token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"
    assert _login(client, email, NEW_PASSWORD).status_code == 200
    assert outbox(email)[-1]["template"] == "password_changed"
    assert "account.password_change" in _actions()


def test_sessions_list_revoke_and_sign_out_everywhere(client, register_relative, make_staff):
    email, password, first = register_relative()
    second = _login(client, email, password).get_json()
    r = client.get("/v1/me/sessions", headers=bearer(second["access_token"]))
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert len(items) == 2 and set(items[0]) == {"id", "created_at", "last_used_at", "current"}
    assert sorted(item["current"] for item in items) == [False, True]
    other = next(item for item in items if not item["current"])
    stranger = make_staff("officer")
    r = client.delete(f"/v1/me/sessions/{other['id']}",
                      headers=bearer(stranger["access_token"]))
    assert r.status_code == 404
    r = client.delete(f"/v1/me/sessions/{other['id']}", headers=bearer(second["access_token"]))
    assert r.status_code == 204
    assert client.get("/v1/me", headers=bearer(first["access_token"])).status_code == 401
    assert client.get("/v1/me", headers=bearer(second["access_token"])).status_code == 200
    third = _login(client, email, password).get_json()
    r = client.delete("/v1/me/sessions", headers=bearer(second["access_token"]))
    assert r.status_code == 204
    for tokens in (second, third):
        r = client.get("/v1/me", headers=bearer(tokens["access_token"]))
        assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"
        r = client.post("/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
        assert r.status_code == 401
    assert client.get("/v1/me", headers=bearer(stranger["access_token"])).status_code == 200
    assert {"auth.session_revoke", "auth.sign_out_everywhere"} <= set(_actions())


def test_erasing_an_account(client, outbox, register_relative, make_staff):
    email, password, tokens = register_relative()
    case = submitted_case(client, tokens["access_token"])
    r = client.delete("/v1/me", json={"password": "not-my-password"},
                       headers=bearer(tokens["access_token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "invalid_credentials"
    r = client.delete("/v1/me", json={"password": password},
                       headers=bearer(tokens["access_token"]))
    assert r.status_code == 204
    r = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"
    assert _login(client, email, password).status_code == 401
    officer = make_staff("officer")
    r = client.get(f"/v1/admin/cases/{case['id']}", headers=bearer(officer["access_token"]))
    assert r.status_code == 200 and r.get_json()["status"] == "withdrawn"
    account = db().execute(select(Account)).scalars().all()
    relative = [a for a in account if a.role == "relative"]
    assert len(relative) == 1
    assert relative[0].email is None and relative[0].phone is None
    assert "Мария" not in relative[0].full_name
    assert db().execute(select(Registration)).scalars().all() == []
    statuses = {d.status for d in db().execute(select(Document)).scalars()}
    assert statuses == {"shredded"}
    db.remove()
    assert "account.erase" in _actions()
    r = client.post("/v1/auth/register", json={"email": email, "password": password,
                                               "full_name": "New"})
    assert r.status_code == 202 and outbox(email)[-1]["template"] == "verification_code"


def test_staff_cannot_erase_themselves_here(client, make_staff):
    staff = make_staff("admin")
    r = client.delete("/v1/me", json={"password": staff["password"]},
                       headers=bearer(staff["access_token"]))
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
