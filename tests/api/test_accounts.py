from __future__ import annotations

import time

import pyotp
import pytest

from tests.support.http import bearer

PASSWORD = "Kyiv-Reunion-2026"


def test_register_verify_login_me(client, outbox):
    r = client.post("/v1/auth/register", json={"email": "Maria@Example.org", "password": PASSWORD,
                                               "full_name": "Мария Иванова", "language": "ru"})
    assert r.status_code == 202 and r.get_json()["status"] == "verification_sent"
    assert set(r.get_json()) == {"status", "registration"}
    msg = outbox("maria@example.org")[-1]
    assert msg["language"] == "ru" and len(msg["code"]) == 6 and msg["code"] in msg["text"]
    r = client.post("/v1/auth/login", json={"login": "maria@example.org", "password": PASSWORD})
    assert r.status_code == 401 and r.get_json()["code"] == "invalid_credentials"
    r = client.post("/v1/auth/verify", json={"login": "maria@example.org", "code": msg["code"]})
    assert r.status_code == 200 and r.get_json() == {"status": "active"}
    r = client.post("/v1/auth/login", json={"login": "MARIA@example.org", "password": PASSWORD})
    assert r.status_code == 200
    tokens = r.get_json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    me = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    body = me.get_json()
    assert body["email"] == "maria@example.org" and body["roles"] == ["relative"]
    assert body["status"] == "active" and body["created_at"].endswith("Z")
    assert set(body) == {"id", "email", "phone", "full_name", "roles", "language", "status",
                         "created_at"}


def test_register_by_phone(client, outbox):
    r = client.post("/v1/auth/register", json={"phone": "+380441234567", "password": PASSWORD,
                                               "full_name": "Олена"})
    assert r.status_code == 202
    assert outbox("+380441234567")[-1]["language"] == "en"


def test_register_same_answer_for_existing_contact(client, outbox, register_relative):
    email, _, _ = register_relative()
    r = client.post("/v1/auth/register", json={"email": email, "password": PASSWORD + "x",
                                               "full_name": "Someone"})
    assert r.status_code == 202 and r.get_json()["status"] == "verification_sent"
    last = outbox(email)[-1]
    assert last["template"] == "already_registered" and "code" not in last


def test_new_code_kills_old_one(client, outbox):
    body = {"email": "a@example.org", "password": PASSWORD, "full_name": "A"}
    client.post("/v1/auth/register", json=body)
    first = outbox("a@example.org")[-1]["code"]
    assert client.post("/v1/auth/resend", json={"login": "a@example.org"}).status_code == 202
    second = outbox("a@example.org")[-1]["code"]
    if first != second:
        r = client.post("/v1/auth/verify", json={"login": "a@example.org", "code": first})
        assert r.status_code == 400 and r.get_json()["code"] == "invalid_code"
    r = client.post("/v1/auth/verify", json={"login": "a@example.org", "code": second})
    assert r.status_code == 200


def test_code_dies_after_five_wrong_tries(client, outbox):
    client.post("/v1/auth/register", json={"email": "b@example.org", "password": PASSWORD,
                                           "full_name": "B"})
    code = outbox("b@example.org")[-1]["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        r = client.post("/v1/auth/verify", json={"login": "b@example.org", "code": wrong})
        assert r.status_code == 400 and r.get_json()["code"] == "invalid_code"
    r = client.post("/v1/auth/verify", json={"login": "b@example.org", "code": code})
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_code"


def test_unknown_login_and_wrong_password_are_identical(client, register_relative):
    email, _, _ = register_relative()
    a = client.post("/v1/auth/login", json={"login": email, "password": "wrong-password-1"})
    b = client.post("/v1/auth/login", json={"login": "nobody@example.org",
                                            "password": "wrong-password-1"})
    assert a.status_code == b.status_code == 401
    ja, jb = a.get_json(), b.get_json()
    assert ja == jb and ja["code"] == "invalid_credentials"


@pytest.mark.parametrize("password,ok", [("short", False), ("password1", False),
                                          ("x" * 129, False), ("Ж" * 8, True),
                                          ("correct horse battery", True)])
def test_password_policy(client, password, ok):
    r = client.post("/v1/auth/register", json={"email": "p@example.org", "password": password,
                                               "full_name": "P"})
    assert (r.status_code == 202) is ok
    if not ok:
        assert r.get_json()["code"] == "validation_error" and "password" in r.get_json()["errors"]


def test_refresh_rotation_and_reuse_detection(client, register_relative):
    _, _, tokens = register_relative()
    first_refresh = tokens["refresh_token"]
    r = client.post("/v1/auth/refresh", headers=bearer(first_refresh))
    assert r.status_code == 200
    new = r.get_json()
    assert client.get("/v1/me", headers=bearer(new["access_token"])).status_code == 200
    replay = client.post("/v1/auth/refresh", headers=bearer(first_refresh))
    assert replay.status_code == 401 and replay.get_json()["code"] == "token_revoked"
    for token in (new["access_token"], tokens["access_token"]):
        r = client.get("/v1/me", headers=bearer(token))
        assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"
    r = client.post("/v1/auth/refresh", headers=bearer(new["refresh_token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"


def test_refresh_token_is_not_an_access_token(client, register_relative):
    _, _, tokens = register_relative()
    r = client.get("/v1/me", headers=bearer(tokens["refresh_token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"
    r = client.post("/v1/auth/refresh", headers=bearer(tokens["access_token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"


def test_logout_kills_session(client, register_relative):
    _, _, tokens = register_relative()
    assert client.post("/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204
    r = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert r.get_json()["code"] == "token_revoked"
    r = client.post("/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert r.get_json()["code"] == "token_revoked"


def test_staff_login_requires_totp_once(client, app):
    from services.accounts import staff as accounts
    from services.audit.events import SYSTEM
    from services.core import unit_of_work

    created = accounts.create_staff(email="officer@kinpass.example", full_name="O",
                                    role="officer", actor=SYSTEM)
    unit_of_work.commit()
    login = {"login": "officer@kinpass.example", "password": created["password"]}
    r = client.post("/v1/auth/login", json=login)
    assert r.status_code == 401 and r.get_json()["code"] == "otp_required"
    r = client.post("/v1/auth/login", json={**login, "otp": "000000"})
    assert r.status_code == 401 and r.get_json()["code"] == "invalid_otp"
    code = pyotp.TOTP(created["totp_secret"]).now()
    r = client.post("/v1/auth/login", json={**login, "otp": code})
    assert r.status_code == 200
    r = client.post("/v1/auth/login", json={**login, "otp": code})
    assert r.status_code == 401 and r.get_json()["code"] == "invalid_otp"
    drift = pyotp.TOTP(created["totp_secret"]).at(time.time() + 30)
    r = client.post("/v1/auth/login", json={**login, "otp": drift})
    assert r.status_code == 200


def test_login_lockout_after_ten_failures(client, register_relative):
    email, password, _ = register_relative()
    for _ in range(10):
        r = client.post("/v1/auth/login", json={"login": email, "password": "not-the-password"})
        assert r.status_code == 401
    r = client.post("/v1/auth/login", json={"login": email, "password": password})
    assert r.status_code == 429 and r.get_json()["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0


def test_registration_limited_per_contact(client):
    body = {"email": "c@example.org", "password": PASSWORD, "full_name": "C"}
    statuses = [client.post("/v1/auth/register", json=body).status_code for _ in range(6)]
    assert statuses == [202] * 5 + [429]


def test_staff_admin_endpoints(client, make_staff):
    admin = make_staff("admin")
    h = bearer(admin["access_token"])
    r = client.post("/v1/admin/staff", json={"email": "sup@kinpass.example",
                                             "full_name": "Sup", "role": "supervisor"}, headers=h)
    assert r.status_code == 201
    created = r.get_json()
    assert set(created) == {"id", "email", "role", "password", "totp_secret", "totp_uri"}
    assert len(created["totp_secret"]) >= 32 and created["totp_uri"].startswith("otpauth://")
    listed = client.get("/v1/admin/staff?limit=1", headers=h).get_json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]
    second = client.get(f"/v1/admin/staff?limit=1&cursor={listed['next_cursor']}", headers=h)
    assert second.get_json()["items"][0]["id"] != listed["items"][0]["id"]
    assert client.get("/v1/admin/staff?cursor=garbage!", headers=h).status_code == 400
    otp = pyotp.TOTP(created["totp_secret"]).now()
    sup = client.post("/v1/auth/login", json={"login": "sup@kinpass.example",
                                              "password": created["password"], "otp": otp})
    sup_token = sup.get_json()["access_token"]
    r = client.post(f"/v1/admin/staff/{created['id']}/disable", headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "disabled"
    r = client.get("/v1/me", headers=bearer(sup_token))
    assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"
    r = client.post("/v1/auth/login", json={"login": "sup@kinpass.example",
                                            "password": created["password"], "otp": otp})
    assert r.status_code == 403 and r.get_json()["code"] == "account_disabled"
