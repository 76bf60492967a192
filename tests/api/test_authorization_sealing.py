"""Authorizations sealed at rest and shredded with their case: the token (which carries the
holder's name, birth date and document number) is never in the database in clear, and once
the case is withdrawn, erased or past retention it reads `token: null` in every view."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.authorizations.sealing import seal_clear_tokens
from services.core import idempotency, runtime, unit_of_work
from services.maintenance.gc import collect_garbage
from storage.db import session as db, utcnow
from storage.models import AuditEvent, Authorization, IdempotencyRecord
from tests.support.accounts import PASSWORD
from tests.support.http import bearer
from tests.support.world import Relative, World, hours, iso

DOCUMENT_NUMBER = "L898902C3"  # the specimen MRZ's, in every token the world issues


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


def stored(auth_id: str) -> tuple:
    """What the database row keeps of an authorization's token: (token, sealed, shredded_at)."""
    row = db().execute(select(Authorization.token_clear, Authorization.token_sealed,
                              Authorization.shredded_at)
                       .where(Authorization.id == uuid.UUID(auth_id))).one()
    db.remove()
    return tuple(row)


def every_view(world: World, relative: Relative, case_id, auth_id: str) -> list:
    """The token as each API view of the authorization shows it."""
    client, officer = world.client, world.officer
    mine = client.get(f"/v1/cases/{case_id}", headers=relative.headers).get_json()
    listed = client.get(f"/v1/cases/{case_id}/authorizations",
                        headers=relative.headers).get_json()["items"]
    staff_case = client.get(f"/v1/admin/cases/{case_id}", headers=officer).get_json()
    single = client.get(f"/v1/admin/authorizations/{auth_id}", headers=officer)
    assert single.status_code == 200
    return [next(a["token"] for a in view if a["id"] == auth_id)
            for view in (mine["authorizations"], listed, staff_case["authorizations"])
            ] + [single.get_json()["token"]]


def test_the_token_is_sealed_at_rest(world):
    relative, case_id, _ = world.approved_case()
    travel = world.travel(case_id)
    clear, sealed, shredded_at = stored(travel["id"])
    assert clear is None and shredded_at is None
    assert sealed and travel["token"].encode() not in sealed
    for part in travel["token"].split("."):
        assert part.encode() not in sealed
    assert DOCUMENT_NUMBER.encode() not in sealed
    assert every_view(world, relative, case_id, travel["id"]) == [travel["token"]] * 4
    assert world.verify(travel["token"])["result"] == "valid"


def test_withdrawal_shreds_the_authorizations(world, client):
    relative, case_id, _ = world.approved_case()
    travel = world.travel(case_id)
    pickup = world.pickup(case_id)
    r = client.post(f"/v1/cases/{case_id}/withdraw", headers=relative.headers)
    assert r.status_code == 200, r.get_json()
    for auth in (travel, pickup):
        clear, sealed, shredded_at = stored(auth["id"])
        assert clear is None and sealed is None and shredded_at is not None
        assert every_view(world, relative, case_id, auth["id"]) == [None] * 4
        for image in ("png", "svg"):
            r = client.get(f"/v1/authorizations/{auth['id']}/qr.{image}",
                           headers=relative.headers)
            assert r.status_code == 410 and r.get_json()["code"] == "gone"
        # What the relative still holds is refused at the checkpoint, never valid.
        assert world.verify(auth["token"])["result"] == "revoked"
    r = client.post("/v1/checkpoint/redeem", headers=world.checkpoint,
                    json={"token": pickup["token"]})
    assert r.status_code == 409 and r.get_json()["code"] == "revoked"
    shreds = db().execute(select(AuditEvent.subject_id).where(
        AuditEvent.action == "authorization.shred")).scalars().all()
    assert sorted(shreds) == sorted([travel["id"], pickup["id"]])


def test_account_erasure_shreds_the_authorizations(client, register_relative, make_staff):
    world = World(client, register_relative, make_staff)
    email, password, tokens = register_relative()
    me = client.get("/v1/me", headers=bearer(tokens["access_token"])).get_json()
    relative = Relative(email, tokens["access_token"], uuid.UUID(me["id"]))
    _, case_id, _ = world.approved_case(relative)
    travel = world.travel(case_id)
    r = client.delete("/v1/me", json={"password": password}, headers=relative.headers)
    assert r.status_code == 204
    clear, sealed, shredded_at = stored(travel["id"])
    assert clear is None and sealed is None and shredded_at is not None
    single = client.get(f"/v1/admin/authorizations/{travel['id']}", headers=world.officer)
    assert single.status_code == 200 and single.get_json()["token"] is None
    assert single.get_json()["status"] == "revoked"


def test_retention_shreds_the_authorizations_of_a_completed_case(world, client):
    relative, case_id, _, pickup = world.ready_pickup()
    r = client.post("/v1/checkpoint/redeem", headers=world.checkpoint,
                    json={"token": pickup["token"]})
    assert r.status_code == 200, r.get_json()
    collect_garbage()
    unit_of_work.commit()
    assert stored(pickup["id"])[1] is not None  # completed today: within retention
    later = utcnow() + timedelta(days=runtime.get().settings.retention_days, hours=1)
    report = collect_garbage(now=later)
    unit_of_work.commit()
    db.remove()
    assert report["authorizations_shredded"] == 2  # the travel and the pickup
    # That gc also ended every session, long dead by then: sign in again.
    world._staff.clear()
    r = client.post("/v1/auth/login", json={"login": relative.email, "password": PASSWORD})
    relative = Relative(relative.email, r.get_json()["access_token"], relative.account_id)
    tokens = every_view(world, relative, case_id, pickup["id"])
    assert tokens == [None] * 4
    assert stored(pickup["id"])[:2] == (None, None)
    assert world.verify(pickup["token"])["result"] == "redeemed"
    again = collect_garbage(now=later)
    unit_of_work.commit()
    assert again["authorizations_shredded"] == 0


def test_tokens_issued_before_sealing_are_sealed(world):
    """A row as revision 0006 left it (the token in clear) reads the same before and after
    the start-up step seals it."""
    relative, case_id, _ = world.approved_case()
    travel = world.travel(case_id)
    auth = db().get(Authorization, uuid.UUID(travel["id"]))
    auth.token_clear, auth.token_sealed = travel["token"], None
    unit_of_work.commit()
    db.remove()
    assert stored(travel["id"])[0] == travel["token"]
    assert every_view(world, relative, case_id, travel["id"]) == [travel["token"]] * 4
    assert seal_clear_tokens() == 1
    unit_of_work.commit()
    clear, sealed, _ = stored(travel["id"])
    assert clear is None and sealed and DOCUMENT_NUMBER.encode() not in sealed
    assert every_view(world, relative, case_id, travel["id"]) == [travel["token"]] * 4
    assert world.verify(travel["token"])["result"] == "valid"
    assert seal_clear_tokens() == 0
    unit_of_work.commit()


def test_a_sealed_token_is_bound_to_its_authorization(world):
    _, case_id, _ = world.approved_case()
    first = world.travel(case_id, entry_point="Sumy")
    _, other_case, _ = world.approved_case()
    second = world.travel(other_case)
    a = db().get(Authorization, uuid.UUID(first["id"]))
    b = db().get(Authorization, uuid.UUID(second["id"]))
    a.token_sealed, b.token_sealed = b.token_sealed, a.token_sealed
    unit_of_work.commit()
    db.remove()
    r = world.client.get(f"/v1/admin/authorizations/{first['id']}", headers=world.officer)
    assert r.status_code == 422 and r.get_json()["code"] == "invalid_ciphertext"


def test_a_replayed_issuance_keeps_no_token(world, client):
    """An idempotent reply is kept outside the authorization's row, past any shredding of
    it: it never holds the token."""
    relative, case_id, _ = world.approved_case()
    body = {"kind": "travel", "valid_from": iso(hours(-1)), "valid_until": iso(hours(48))}
    headers = {**world.officer, "Idempotency-Key": "issue-travel-1"}
    first = client.post(f"/v1/admin/cases/{case_id}/authorizations", headers=headers,
                        json=body)
    assert first.status_code == 201 and first.get_json()["token"]
    replay = client.post(f"/v1/admin/cases/{case_id}/authorizations", headers=headers,
                         json=body)
    assert replay.status_code == 201
    assert replay.get_json() == {**first.get_json(), "token": None}
    kept = [idempotency._open(record)
            for record in db().execute(select(IdempotencyRecord)).scalars()]
    db.remove()
    assert kept and all(first.get_json()["token"].encode() not in body for body in kept)
    r = client.get(f"/v1/admin/authorizations/{first.get_json()['id']}", headers=world.officer)
    assert r.get_json()["token"] == first.get_json()["token"]
    client.post(f"/v1/cases/{case_id}/withdraw", headers=relative.headers)
    again = client.post(f"/v1/admin/cases/{case_id}/authorizations", headers=headers,
                        json=body)
    assert again.status_code == 201 and again.get_json()["token"] is None
