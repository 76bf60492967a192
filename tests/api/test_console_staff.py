"""The admins' pages: the staff list, creating an account (password and TOTP secret shown
once, never again), disabling one with a fresh code, which ends its sessions at once."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from api.web import staff_pages
from storage.db import session as db, utcnow
from storage.models.accounts import Account, AuthSession
from storage.models.audit import AuditEvent
from tests.support.console import (
    console_login,
    csrf_of,
    new_staff,
    page_token,
    refuse_outsiders,
    signed_in,
)
from tests.support.statements import page_statements


def _account(email: str) -> Account | None:
    db.remove()
    return db().execute(select(Account).where(Account.email == email)).scalar_one_or_none()


def _stale_code(staff) -> None:
    db().execute(update(AuthSession).where(AuthSession.account_id == uuid.UUID(staff.id))
                 .values(otp_at=utcnow() - timedelta(minutes=6)))
    db().commit()
    db.remove()


@pytest.mark.parametrize("role", ["officer", "supervisor", "auditor"])
def test_other_staff_roles_are_refused_every_page(app, role):
    target = new_staff("officer", "target@kinpass.example")
    client, _ = signed_in(app, role, f"{role}@kinpass.example")
    assert client.get("/console/staff").status_code == 403
    token = csrf_of(client.get("/console/", follow_redirects=True).get_data(as_text=True))
    r = client.post("/console/staff", data={"csrf_token": token, "role": "admin",
                                            "email": "new@kinpass.example"})
    assert r.status_code == 403 and _account("new@kinpass.example") is None
    r = client.post(f"/console/staff/{target.id}/disable", data={"csrf_token": token})
    assert r.status_code == 403 and _account(target.email).status == "active"


def test_relatives_and_checkpoints_are_refused(app, register_relative, make_staff):
    refuse_outsiders(app, register_relative, make_staff, ("/console/staff",))


def test_the_list_shows_every_staff_account(app, register_relative):
    register_relative()
    new_staff("officer", "olena@kinpass.example")
    admin, _ = signed_in(app, "admin", "admin@kinpass.example")
    html = admin.get("/console/staff").get_data(as_text=True)
    assert html.count('class="staff-row"') == 2  # relatives are not staff
    assert 'data-email="olena@kinpass.example" data-status="active"' in html


def test_create_shows_the_secrets_once(app):
    admin, _ = signed_in(app, "admin", "admin@kinpass.example")
    token = page_token(admin, "/console/staff")
    r = admin.post("/console/staff", data={"email": "new@kinpass.example"})
    assert r.status_code == 403 and _account("new@kinpass.example") is None  # no token
    r = admin.post("/console/staff", data={
        "csrf_token": token, "email": "New@Kinpass.example", "full_name": "<i>Nova</i>",
        "role": "supervisor"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    password = re.search(r'<code class="password">([^<]+)</code>', html)[1]
    secret = re.search(r'<code class="totp-secret">([^<]+)</code>', html)[1]
    assert '<svg width="' in html and 'class="segno"' in html
    created = _account("new@kinpass.example")
    assert created.role == "supervisor" and created.full_name == "<i>Nova</i>"
    # the secrets shown are the account's own: they sign in
    login = app.test_client().post("/v1/auth/login", json={
        "login": "new@kinpass.example", "password": password,
        "otp": pyotp.TOTP(secret).now()})
    assert login.status_code == 200
    again = admin.get("/console/staff").get_data(as_text=True)
    assert password not in again and secret not in again
    assert "&lt;i&gt;Nova&lt;/i&gt;" in again and "<i>Nova</i>" not in again
    reasons = db().execute(select(AuditEvent.reason)).scalars().all()
    assert not [r for r in reasons if r and (password in r or secret in r)]
    assert db().execute(select(AuditEvent.actor_role).where(
        AuditEvent.action == "staff.create",
        AuditEvent.subject_id == str(created.id))).scalar_one() == "admin"
    r = admin.post("/console/staff", data={"csrf_token": token,
                                           "email": "new@kinpass.example", "role": "officer"})
    assert r.status_code == 409
    r = admin.post("/console/staff", data={"csrf_token": token,
                                           "email": "x@kinpass.example", "role": "relative"})
    assert r.status_code == 400 and _account("x@kinpass.example") is None


def test_disable_needs_a_fresh_code_and_ends_the_sessions_at_once(app):
    target = new_staff("officer", "target@kinpass.example")
    api = app.test_client().post("/v1/auth/login", json={
        "login": target.email, "password": target.password, "otp": target.code()})
    bearer = {"Authorization": f"Bearer {api.get_json()['access_token']}"}
    console = app.test_client()
    assert console_login(console, target).status_code == 303
    admin, staff = signed_in(app, "admin", "admin@kinpass.example")
    _stale_code(staff)
    path = f"/console/staff/{target.id}/disable"
    html = admin.get("/console/staff").get_data(as_text=True)
    assert f'id="otp-{target.id}"' in html  # the form asks for the code up front
    r = admin.post(path, data={"csrf_token": csrf_of(html)})
    asked = r.get_data(as_text=True)
    assert r.status_code == 401 and 'name="otp"' in asked
    assert _account(target.email).status == "active"
    assert app.test_client().get("/v1/me", headers=bearer).status_code == 200
    r = admin.post(path, data={"csrf_token": csrf_of(asked), "otp": "000000"})
    assert r.status_code == 401 and _account(target.email).status == "active"
    r = admin.post(path, data={"csrf_token": csrf_of(asked), "otp": staff.code()})
    assert r.status_code == 303 and _account(target.email).status == "disabled"
    me = app.test_client().get("/v1/me", headers=bearer)
    assert me.status_code == 401 and me.get_json()["code"] == "token_revoked"
    assert console.get("/console/cases").status_code == 303  # sent to sign in
    assert db().execute(select(AuditEvent).where(
        AuditEvent.action == "staff.disable")).scalar_one().subject_id == target.id
    html = admin.get("/console/staff").get_data(as_text=True)
    assert 'data-email="target@kinpass.example" data-status="disabled"' in html


def test_the_staff_list_statements_do_not_grow_with_the_page(app):
    admin, _ = signed_in(app, "admin", "admin@kinpass.example")
    emails = (f"officer{i}@kinpass.example" for i in range(6))
    counts = page_statements(app, admin, "/console/staff",
                             lambda: [new_staff("officer", next(emails)) for _ in range(3)],
                             "staff-row", rows_before=1)
    assert counts[0] == counts[1], counts


def test_the_list_pages_by_keyset(app, monkeypatch):
    for i in range(4):
        new_staff("officer", f"o{i}@kinpass.example")
    admin, _ = signed_in(app, "admin", "admin@kinpass.example")
    monkeypatch.setattr(staff_pages, "PAGE", 2)
    html = admin.get("/console/staff").get_data(as_text=True)
    pages = [re.findall(r'data-email="([^"]+)"', html)]
    while 'rel="next"' in html:
        html = admin.get(re.search(r'rel="next" href="([^"]+)"', html)[1]
                         .replace("&amp;", "&")).get_data(as_text=True)
        pages.append(re.findall(r'data-email="([^"]+)"', html))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert len({e for p in pages for e in p}) == 5
