"""A replay is audited like any read of what it returns, a reply never keeps a secret, and
`kinpass gc` purges what has outlived its use."""
from __future__ import annotations

import time
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from services.core import idempotency, unit_of_work
from services.maintenance.gc import collect_garbage
from storage.db import session as db, utcnow
from storage.models import (
    AuditEvent,
    AuthSession,
    ContactCode,
    IdempotencyRecord,
    RateCounter,
    Registration,
)
from tests.support.http import bearer


def _create_staff(client, admin, key):
    return client.post("/v1/admin/staff", json={"email": "new-officer@kinpass.example",
                                                "role": "officer"},
                       headers={**bearer(admin["access_token"]), "Idempotency-Key": key})


def test_a_replayed_staff_creation_shows_no_secret_again(client, make_staff):
    admin = make_staff("admin")
    first = _create_staff(client, admin, "staff-1")
    assert first.status_code == 201 and first.get_json()["password"]
    secret = first.get_json()["totp_secret"]
    replay = _create_staff(client, admin, "staff-1")
    assert replay.status_code == 201
    body = replay.get_json()
    assert body["id"] == first.get_json()["id"]
    assert body["password"] is None and body["totp_secret"] is None and body["totp_uri"] is None
    record = db().execute(select(IdempotencyRecord)).scalar_one()
    stored = idempotency._open(record)
    db.remove()
    assert first.get_json()["password"].encode() not in stored and secret.encode() not in stored


def test_a_replay_is_audited(client, make_staff):
    admin = make_staff("admin")
    _create_staff(client, admin, "staff-2")
    _create_staff(client, admin, "staff-2")
    replays = db().execute(select(AuditEvent).where(
        AuditEvent.action == "idempotency.replay")).scalars().all()
    db.remove()
    assert len(replays) == 1 and replays[0].actor_role == "admin"
    assert "/v1/admin/staff" in replays[0].reason and "201" in replays[0].reason


def test_gc_purges_what_has_outlived_its_use(client, outbox, register_relative, make_staff):
    email, password, tokens = register_relative()
    client.post("/v1/auth/register", json={"email": "left@example.org", "password": password,
                                           "full_name": "Left"})
    client.post("/v1/auth/login", json={"login": email, "password": "wrong-password-1"})
    admin = make_staff("admin")
    _create_staff(client, admin, "staff-3")
    client.post("/v1/auth/logout", headers=bearer(tokens["access_token"]))
    long_ago = utcnow() - timedelta(days=40)
    db().execute(update(IdempotencyRecord).values(created_at=long_ago))
    db().execute(update(RateCounter).values(window=int(time.time()) - 7200))
    db().execute(update(ContactCode).values(created_at=long_ago, expires_at=long_ago))
    db().execute(update(Registration).values(created_at=long_ago))
    db().execute(update(AuthSession).where(AuthSession.revoked_at.is_not(None))
                 .values(revoked_at=long_ago, expires_at=long_ago))
    unit_of_work.commit()
    report = collect_garbage()
    unit_of_work.commit()
    assert report["idempotency_records"] == 1, report
    assert report["rate_counters"] >= 2, report
    assert report["codes"] >= 2, report
    assert report["registrations"] >= 1
    assert report["sessions"] == 1
    assert db().execute(select(IdempotencyRecord)).first() is None
    assert db().execute(select(RateCounter)).first() is None
    assert db().execute(select(ContactCode)).first() is None
    live = db().execute(select(AuthSession.id)).scalars().all()
    db.remove()
    assert len(live) == 1 and isinstance(live[0], uuid.UUID)
    assert client.post("/v1/auth/login", json={"login": email,
                                               "password": password}).status_code == 200
