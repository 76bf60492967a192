"""The checkpoint app's calls on the console's session cookie: sign-in for checkpoints only,
CSRF on every post, verify and redeem as the API does them, sign-out, shift-long sessions."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage.db import session as db
from storage.models import AuditEvent, Authorization
from tests.support.console import SESSION_COOKIE, Staff, csrf_of, new_staff
from tests.support.world import World


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


def state(client) -> dict:
    r = client.get("/checkpoint/session")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    return r.get_json()


def login(client, staff: Staff, otp: str | None = None):
    csrf = state(client)["csrf_token"]
    return client.post("/checkpoint/login", json={
        "email": staff.email, "password": staff.password,
        "otp": otp if otp is not None else staff.code()}, headers={"X-CSRF-Token": csrf})


def signed_in(client, role: str = "checkpoint") -> str:
    """Sign a new account of ``role`` in; returns the session's CSRF token."""
    staff = new_staff(role, f"{role}-{uuid.uuid4().hex[:6]}@kinpass.example")
    r = login(client, staff)
    assert r.status_code == 200, r.get_json()
    return state(client)["csrf_token"]


def post(client, path: str, csrf: str | None, body: dict, **headers: str):
    return client.post(path, json=body, headers={"X-CSRF-Token": csrf or "", **headers})


def test_sign_in_sets_the_console_cookie_for_a_shift(client):
    before = state(client)
    assert before["signed_in"] is False and len(before["csrf_token"]) == 64
    staff = new_staff("checkpoint", "guard@kinpass.example")
    r = login(client, staff)
    assert r.status_code == 200 and r.get_json()["signed_in"] is True
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie and "Max-Age" not in cookie
    after = state(client)
    assert after["signed_in"] is True and after["csrf_token"] != before["csrf_token"]
    ends = datetime.strptime(after["shift_ends_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(hours=11, minutes=58) < ends - datetime.now(UTC) <= timedelta(hours=12)
    assert "access_token" not in r.get_data(as_text=True)


def test_only_checkpoints_sign_in_here(client):
    officer = new_staff("officer", "officer@kinpass.example")
    r = login(client, officer)
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    assert not any(h.startswith(SESSION_COOKIE) for h in r.headers.getlist("Set-Cookie"))
    guard = new_staff("checkpoint", "guard@kinpass.example")
    r = login(client, guard, otp="000000")
    assert r.status_code == 401 and r.get_json()["code"] == "invalid_otp"
    r = client.post("/checkpoint/login", json={"email": guard.email, "password": "x",
                                               "otp": guard.code()},
                    headers={"X-CSRF-Token": state(client)["csrf_token"]})
    assert r.status_code == 401 and r.get_json()["code"] == "invalid_credentials"
    assert state(client)["signed_in"] is False


def test_a_post_without_the_csrf_token_is_refused(client, world):
    _, _, _, pickup = world.ready_pickup()
    staff = new_staff("checkpoint", "guard@kinpass.example")
    r = client.post("/checkpoint/login", json={"email": staff.email, "password": staff.password,
                                               "otp": staff.code()})
    assert r.status_code == 403
    csrf = signed_in(client)
    for token in (None, "0" * 64):
        r = post(client, "/checkpoint/verify", token, {"token": pickup["token"]})
        assert r.status_code == 403 and r.mimetype == "application/problem+json"
    assert post(client, "/checkpoint/verify", csrf, {"token": pickup["token"]}
                ).get_json()["result"] == "valid"


def test_verify_and_redeem_once_on_the_session(client, world):
    _, _, _, pickup = world.ready_pickup()
    csrf = signed_in(client)
    answer = post(client, "/checkpoint/verify", csrf, {"token": pickup["token"]}).get_json()
    assert answer["result"] == "valid" and answer["authorization"]["id"] == pickup["id"]
    assert post(client, "/checkpoint/verify", csrf, {"token": "x"}).get_json() == {
        "result": "invalid", "authorization": None}
    first = post(client, "/checkpoint/redeem", csrf, {"token": pickup["token"]},
                 **{"Idempotency-Key": "scan-1"})
    assert first.status_code == 200 and first.get_json()["result"] == "redeemed"
    again = post(client, "/checkpoint/redeem", csrf, {"token": pickup["token"]},
                 **{"Idempotency-Key": "scan-1"})
    assert (again.status_code, again.get_json()) == (200, first.get_json())
    other = post(client, "/checkpoint/redeem", csrf, {"token": pickup["token"]},
                 **{"Idempotency-Key": "scan-2"})
    assert other.status_code == 409 and other.get_json()["code"] == "already_redeemed"
    reused = post(client, "/checkpoint/redeem", csrf, {"token": "x"},
                  **{"Idempotency-Key": "scan-1"})
    assert reused.status_code == 422 and reused.get_json()["code"] == "idempotency_key_reused"
    assert db().get(Authorization, uuid.UUID(pickup["id"])).status == "redeemed"
    redeemed = db().execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "checkpoint.redeem", AuditEvent.outcome == "success")).scalar_one()
    assert redeemed == 1


@pytest.mark.parametrize("body", [{}, {"token": 5}, {"token": "a", "extra": 1}])
def test_bad_bodies_are_problems(client, body):
    csrf = signed_in(client)
    r = post(client, "/checkpoint/verify", csrf, body)
    assert r.status_code == 400 and r.get_json()["code"] == "validation_error"
    r = client.post("/checkpoint/verify", data=b'{"token": ', headers={
        "X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["code"] == "malformed_json"
    r = client.post("/checkpoint/verify", data=b"token=x", headers={
        "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.get_json()["code"] == "unsupported_media_type"
    r = post(client, "/checkpoint/verify", csrf, {"token": "a" * 300_000})
    assert r.status_code == 413 and r.get_json()["code"] == "payload_too_large"


def test_other_roles_and_bearer_tokens_are_refused(client, world, app):
    _, _, _, pickup = world.ready_pickup()
    r = client.post("/checkpoint/verify", json={"token": pickup["token"]},
                    headers={**world.checkpoint, "X-CSRF-Token": state(client)["csrf_token"]})
    assert r.status_code == 401  # the API's bearer token is not this surface's session
    console = app.test_client()
    officer = new_staff("officer", "desk@kinpass.example")
    page = console.get("/console/login").get_data(as_text=True)
    console.post("/console/login", data={"csrf_token": csrf_of(page), "email": officer.email,
                                         "password": officer.password, "otp": officer.code()})
    r = post(console, "/checkpoint/verify", state(console)["csrf_token"],
             {"token": pickup["token"]})
    assert r.status_code == 403 and state(console)["signed_in"] is False


def test_sign_out_ends_the_session(client, world):
    _, _, _, pickup = world.ready_pickup()
    csrf = signed_in(client)
    r = post(client, "/checkpoint/logout", csrf, {})
    assert r.status_code == 204
    assert state(client)["signed_in"] is False
    r = post(client, "/checkpoint/verify", state(client)["csrf_token"], {"token": pickup["token"]})
    assert r.status_code == 401
