"""One prisoner is handed over once: redemption and the custody change are one step."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from services.core import unit_of_work
from storage.db import session as db
from storage.models import Authorization, Prisoner
from storage.models.cases import Case
from tests.support.world import World


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


def _redeem(world, token):
    return world.client.post("/v1/checkpoint/redeem", headers=world.checkpoint,
                             json={"token": token})


@pytest.mark.parametrize("status", ["released", "transferred", "deceased"])
def test_a_pickup_for_a_prisoner_no_longer_held_is_refused(world, status):
    _, case_id, prisoner_id, pickup = world.ready_pickup()
    db().execute(update(Prisoner).where(Prisoner.id == prisoner_id).values(status=status))
    unit_of_work.commit()
    db.remove()
    r = _redeem(world, pickup["token"])
    assert r.status_code == 409 and r.get_json()["code"] == "not_in_custody"
    assert db().get(Authorization, uuid.UUID(pickup["id"])).status == "active"
    assert db().get(Case, case_id).status == "approved"
    assert db().get(Prisoner, prisoner_id).status == status
    db.remove()


def test_two_approved_claims_hand_the_prisoner_over_once(world):
    _, _, prisoner_id, first = world.ready_pickup()
    _, second_case, _ = world.approved_case()
    db().execute(update(Case).where(Case.id == second_case).values(prisoner_id=prisoner_id))
    unit_of_work.commit()
    db.remove()
    world.travel(second_case)
    second = world.pickup(second_case)
    assert _redeem(world, first["token"]).status_code == 200
    r = _redeem(world, second["token"])
    assert r.status_code == 409 and r.get_json()["code"] == "not_in_custody"
    assert db().get(Case, second_case).status == "approved"
    db.remove()
