"""A staff read of an authorization goes through the one policy and is in the audit log."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.db import session as db
from storage.models import AuditEvent
from tests.support.world import World


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


def test_a_staff_read_of_an_authorization_is_audited(world, client):
    _, case_id, _ = world.approved_case()
    travel = world.travel(case_id)
    r = client.get(f"/v1/admin/authorizations/{travel['id']}", headers=world.officer)
    assert r.status_code == 200 and r.get_json()["id"] == travel["id"]
    views = db().execute(select(AuditEvent).where(
        AuditEvent.action == "authorization.view")).scalars().all()
    db.remove()
    assert [v.subject_id for v in views] == [travel["id"]]
    assert views[0].actor_role == "officer"


def test_a_missing_authorization_is_404(world, client):
    r = client.get("/v1/admin/authorizations/7a1f2f5e-0000-4000-8000-000000000000",
                   headers=world.officer)
    assert r.status_code == 404
