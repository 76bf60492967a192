"""Handovers and authorizations issued from the console's case page (a fresh one-time code
first), revoked there, and the printable sheet of QR codes; audited as through the API."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from storage.db import session as db, utcnow
from storage.models.accounts import AuthSession
from storage.models.audit import AuditEvent
from storage.models.authorizations import Authorization, Handover
from tests.support.console import console_login, new_staff, post_form
from tests.support.world import World

KYIV = ZoneInfo("Europe/Kyiv")


def _local(moment: datetime) -> str:
    return moment.astimezone(KYIV).strftime("%Y-%m-%dT%H:%M")


def _actions(action: str) -> list:
    return db().execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def _officer(app):
    client = app.test_client()
    staff = new_staff("officer", f"officer-{uuid.uuid4().hex[:6]}@kinpass.example")
    assert console_login(client, staff).status_code == 303
    return client, staff


def _stale(staff) -> None:
    db().execute(update(AuthSession).where(AuthSession.account_id == uuid.UUID(staff.id))
                 .values(otp_at=utcnow() - timedelta(minutes=5, seconds=1)))
    db().commit()


def test_travel_and_pickup_from_the_case_page(app, client, register_relative, make_staff):
    world = World(client, register_relative, make_staff)
    _, case_id, _ = world.approved_case()
    officer, staff = _officer(app)
    page = f"/console/cases/{case_id}"
    html = officer.get(page).get_data(as_text=True)
    assert 'name="valid_from"' in html and 'name="otp"' not in html  # the code is fresh

    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=5)
    r = post_form(officer, f"{page}/handovers", {
        "location": "Київ, пункт №3", "starts_at": _local(start),
        "ends_at": _local(start + timedelta(hours=6))}, token_from=page)
    assert r.status_code == 303
    handover = db().execute(select(Handover)).scalar_one()
    assert handover.starts_at == start.astimezone(UTC)  # typed on Kyiv's clock

    r = post_form(officer, f"{page}/authorizations", {
        "kind": "travel", "valid_from": _local(start),
        "valid_until": _local(start + timedelta(days=3)), "entry_point": "Суми"})
    assert r.status_code == 303, r.get_data(as_text=True)
    _stale(staff)
    html = officer.get(page).get_data(as_text=True)
    assert 'name="otp"' in html  # older than five minutes: the forms ask again
    r = post_form(officer, f"{page}/authorizations", {"kind": "pickup",
                                                      "handover_id": str(handover.id)})
    assert r.status_code == 401 and 'name="otp"' in r.get_data(as_text=True)
    r = post_form(officer, f"{page}/authorizations", {
        "kind": "pickup", "handover_id": str(handover.id), "otp": staff.code()})
    assert r.status_code == 303
    db.remove()
    kinds = sorted(a.kind for a in db().execute(select(Authorization)).scalars())
    assert kinds == ["pickup", "travel"] and len(_actions("authorization.issue")) == 2

    sheet = officer.get(f"{page}/sheet")
    html = sheet.get_data(as_text=True)
    ids = [str(a.id) for a in db().execute(select(Authorization)).scalars()]
    for authorization_id in ids:
        assert f"/console/authorizations/{authorization_id}/qr.svg" in html
        image = officer.get(f"/console/authorizations/{authorization_id}/qr.svg")
        assert image.status_code == 200 and image.mimetype == "image/svg+xml"
        assert b"<svg" in image.data
    assert len(_actions("authorization.view")) == 2 and len(_actions("authorization.qr")) == 2


def test_issuing_needs_an_approved_case_and_a_valid_window(app, client, register_relative,
                                                           make_staff):
    world = World(client, register_relative, make_staff)
    _, case_id, _ = world.approved_case()
    _, pending, _ = world.approved_case(status="approval_pending")
    officer, _ = _officer(app)
    now = utcnow()
    r = post_form(officer, f"/console/cases/{case_id}/authorizations", {
        "kind": "travel", "valid_from": _local(now + timedelta(days=2)),
        "valid_until": _local(now + timedelta(days=1))})
    assert r.status_code == 400
    r = post_form(officer, f"/console/cases/{pending}/authorizations", {
        "kind": "travel", "valid_from": _local(now), "valid_until": _local(now + timedelta(1))})
    assert r.status_code == 409
    assert db().execute(select(Authorization)).first() is None


def test_revoke_from_the_case_page(app, client, register_relative, make_staff):
    world = World(client, register_relative, make_staff)
    _, case_id, _ = world.approved_case()
    travel = world.travel(case_id)
    officer, _ = _officer(app)
    r = post_form(officer, f"/console/authorizations/{travel['id']}/revoke",
                  {"reason": "Lost phone, reissue."})
    assert r.status_code == 303
    db.remove()
    assert db().get(Authorization, uuid.UUID(travel["id"])).status == "revoked"
    assert len(_actions("authorization.revoke")) == 1
