"""An authorization or handover whose window has already ended is refused (400) and changes
nothing — the valid one stays; the travel authorization of a completed case expires."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from services.core import unit_of_work
from storage.db import session as db
from storage.models import AuditEvent, Authorization, Handover
from tests.support.world import World, hours, iso


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


def authorizations_of(case_id) -> list[tuple[str, str]]:
    rows = db().execute(select(Authorization.kind, Authorization.status)
                        .where(Authorization.case_id == case_id)
                        .order_by(Authorization.issued_at)).all()
    db.remove()
    return [tuple(row) for row in rows]


def issued_events() -> int:
    count = db().execute(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == "authorization.issue")).scalar_one()
    db.remove()
    return count


def test_a_travel_window_that_has_ended_is_refused(world, outbox):
    relative, case_id, _ = world.approved_case()
    valid = world.travel(case_id)
    messages, issued = len(outbox(relative.email)), issued_events()
    for start, end in ((hours(-5), hours(-1)), (hours(-48), hours(-47))):
        r = world.issue(case_id, {"kind": "travel", "valid_from": iso(start),
                                  "valid_until": iso(end)}, expect=400)
        assert r["code"] == "validation_error" and "valid_until" in r["errors"]
    assert authorizations_of(case_id) == [("travel", "active")]
    assert world.verify(valid["token"])["result"] == "valid"
    assert issued_events() == issued and len(outbox(relative.email)) == messages
    # A window that has begun but not ended is still issued, and replaces the valid one.
    again = world.travel(case_id, hours(-2), hours(1))
    assert again["status"] == "active"
    assert authorizations_of(case_id) == [("travel", "revoked"), ("travel", "active")]


def test_a_pickup_for_a_handover_that_has_ended_is_refused(world):
    _, case_id, _, pickup = world.ready_pickup()
    past = Handover(location="Sumy", starts_at=hours(-5), ends_at=hours(-1))
    db().add(past)
    unit_of_work.commit()
    past_id = str(past.id)
    db.remove()
    r = world.issue(case_id, {"kind": "pickup", "handover_id": past_id}, expect=400)
    assert r["code"] == "validation_error" and "handover_id" in r["errors"]
    assert authorizations_of(case_id) == [("travel", "active"), ("pickup", "active")]
    assert world.verify(pickup["token"])["result"] == "valid"


def test_a_handover_that_has_ended_cannot_be_made(world, client):
    r = client.post("/v1/admin/handovers", headers=world.officer, json={
        "location": "Sumy", "starts_at": iso(hours(-5)), "ends_at": iso(hours(-1))})
    assert r.status_code == 400 and r.get_json()["code"] == "validation_error"
    assert "ends_at" in r.get_json()["errors"]
    begun = world.handover(hours(-1), hours(1))  # begun, not ended: fine
    assert begun["location"]


def test_the_travel_of_a_completed_case_expires(world, client):
    _, case_id, _ = world.approved_case()
    travel = world.travel(case_id)
    pickup = world.pickup(case_id)
    assert world.verify(travel["token"])["result"] == "valid"
    r = client.post("/v1/checkpoint/redeem", headers=world.checkpoint,
                    json={"token": pickup["token"]})
    assert r.status_code == 200, r.get_json()
    redeemed_at = r.get_json()["redeemed_at"]
    assert world.verify(travel["token"])["result"] == "expired"
    view = client.get(f"/v1/admin/authorizations/{travel['id']}", headers=world.officer)
    assert view.get_json()["status"] == "expired"
    assert view.get_json()["valid_until"] == redeemed_at.split(".")[0].rstrip("Z") + "Z"
    r = client.post(f"/v1/admin/authorizations/{travel['id']}/revoke", headers=world.officer,
                    json={"reason": "no longer needed"})
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"
    assert db().get(Authorization, uuid.UUID(travel["id"])).status == "active"  # stored


def test_a_travel_not_yet_begun_ends_with_its_case_too(world, client):
    _, case_id, _ = world.approved_case()
    travel = world.travel(case_id, hours(2), hours(10))
    pickup = world.pickup(case_id)
    r = client.post("/v1/checkpoint/redeem", headers=world.checkpoint,
                    json={"token": pickup["token"]})
    assert r.status_code == 200, r.get_json()
    assert world.verify(travel["token"])["result"] == "expired"
    view = client.get(f"/v1/admin/authorizations/{travel['id']}",
                      headers=world.officer).get_json()
    assert view["status"] == "expired" and view["valid_from"] <= view["valid_until"]
