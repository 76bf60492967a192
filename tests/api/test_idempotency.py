from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update

from services import unit_of_work
from services.idempotency import purge_expired
from storage.db import session as db, utcnow
from storage.models.cases import Case
from storage.models.requests import IdempotencyRecord
from tests.api.case_support import CASE_BODY
from tests.conftest import bearer


def test_concurrent_retries_create_one_case(app, register_relative):
    _, _, tokens = register_relative()
    headers = {**bearer(tokens["access_token"]), "Idempotency-Key": "race"}
    barrier = threading.Barrier(3)
    answers: list = []

    def post() -> None:
        barrier.wait()
        r = app.test_client().post("/v1/cases", json=CASE_BODY, headers=headers)
        answers.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.remove()
    assert db().query(Case).count() == 1
    created = [body for status, body in answers if status == 201]
    assert created and all(body["id"] == created[0]["id"] for body in created)
    assert all(status in (201, 409) for status, _ in answers)


def test_keys_expire_after_a_day(client, register_relative):
    _, _, tokens = register_relative()
    headers = {**bearer(tokens["access_token"]), "Idempotency-Key": "old"}
    first = client.post("/v1/cases", json=CASE_BODY, headers=headers).get_json()
    db().execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    unit_of_work.commit()
    db.remove()
    again = client.post("/v1/cases", json=CASE_BODY, headers=headers)
    assert again.status_code == 201 and again.get_json()["id"] != first["id"]
    db().execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    assert purge_expired() == 1
    unit_of_work.commit()
    assert db().query(IdempotencyRecord).count() == 0


def test_without_a_key_every_post_creates(client, register_relative):
    _, _, tokens = register_relative()
    for _ in range(2):
        assert client.post("/v1/cases", json=CASE_BODY,
                           headers=bearer(tokens["access_token"])).status_code == 201
    assert db().query(Case).count() == 2
    assert db().query(IdempotencyRecord).count() == 0
