from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select, update

from services.core import unit_of_work
from services.core.idempotency import purge_expired
from storage.db import session as db, utcnow
from storage.models.accounts import Account
from storage.models.cases import Case
from storage.models.requests import IdempotencyRecord
from tests.support.cases import CASE_BODY
from tests.support.http import bearer


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


def test_stored_answers_are_sealed_and_replayed(client, register_relative):
    _, _, tokens = register_relative()
    headers = {**bearer(tokens["access_token"]), "Idempotency-Key": "sealed"}
    first = client.post("/v1/cases", json=CASE_BODY, headers=headers)
    again = client.post("/v1/cases", json=CASE_BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    stored = db().execute(select(IdempotencyRecord.body)).scalar_one()
    for plain in (first.get_json()["id"], CASE_BODY["soldier"]["surname"], "Иванов"):
        assert plain.encode() not in stored
    assert first.get_data() not in stored


def test_a_refused_body_is_replayed_and_a_corrected_one_is_422(client, register_relative):
    _, _, tokens = register_relative()
    headers = {**bearer(tokens["access_token"]), "Idempotency-Key": "bad-then-good"}
    bad = {**CASE_BODY, "relationship": "neighbour"}
    first = client.post("/v1/cases", json=bad, headers=headers)
    again = client.post("/v1/cases", json=bad, headers=headers)
    assert first.status_code == again.status_code == 400
    assert again.get_json() == first.get_json()
    corrected = client.post("/v1/cases", json=CASE_BODY, headers=headers)
    assert corrected.status_code == 422
    assert corrected.get_json()["code"] == "idempotency_key_reused"
    assert db().query(Case).count() == 0


def test_staff_creation_replays_without_the_secrets_shown_once(client, make_staff):
    admin = make_staff("admin")
    headers = {**bearer(admin["access_token"]), "Idempotency-Key": "new-officer"}
    body = {"email": "officer.new@kinpass.example", "full_name": "New Officer",
            "role": "officer"}
    first = client.post("/v1/admin/staff", json=body, headers=headers)
    again = client.post("/v1/admin/staff", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    secrets = {"password": None, "totp_secret": None, "totp_uri": None}
    assert again.get_json() == {**first.get_json(), **secrets}
    assert db().query(Account).filter(Account.email == body["email"]).count() == 1
    stored = db().execute(select(IdempotencyRecord.body)).scalar_one()
    assert first.get_json()["password"].encode() not in stored
    assert first.get_json()["totp_secret"].encode() not in stored


def test_prisoner_creation_replays_instead_of_409(client, make_staff):
    officer = make_staff("officer")
    headers = {**bearer(officer["access_token"]), "Idempotency-Key": "prisoner-1"}
    body = {"registry_number": "UA-IDEMP-1", "surname": "Иванов", "given_name": "Алексей",
            "birth_date": "2001-09-14"}
    first = client.post("/v1/admin/prisoners", json=body, headers=headers)
    again = client.post("/v1/admin/prisoners", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    unkeyed = client.post("/v1/admin/prisoners", json=body, headers=bearer(officer["access_token"]))
    assert unkeyed.status_code == 409
