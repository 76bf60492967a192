from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker

from api.jobs import run_pending_checks
from services.core import runtime
from services.workflow import jobs as case_jobs
from storage.db import session as db, utcnow
from storage.models.cases import Case, Document
from tests.support.cases import (
    add_document,
    add_prisoner,
    complete_documents,
    open_case,
    submitted_case,
)
from tests.support.http import bearer


def _approved(client, token, make_staff):
    prisoner_id = add_prisoner()
    case = submitted_case(client, token)
    officer, supervisor = make_staff("officer")["access_token"], make_staff("supervisor")
    client.post(f"/v1/admin/cases/{case['id']}/link", json={"prisoner_id": prisoner_id},
                headers=bearer(officer))
    for staff in (officer, supervisor["access_token"]):
        r = client.post(f"/v1/admin/cases/{case['id']}/decisions",
                        json={"decision": "approve", "reason": "Consistent."},
                        headers=bearer(staff))
        assert r.status_code == 201, r.get_json()
    return case, supervisor["access_token"]


def test_patch_merges_and_clears(client, register_relative):
    _, _, tokens = register_relative()
    token = tokens["access_token"]
    case = open_case(client, token)
    r = client.patch(f"/v1/cases/{case['id']}",
                     json={"applicant": {"patronymic": None, "citizenship": "UKR"},
                           "soldier": {"unit": "в/ч 54321"}},
                     headers=bearer(token))
    assert r.status_code == 200
    body = r.get_json()
    assert "patronymic" not in body["applicant"] and body["applicant"]["citizenship"] == "UKR"
    assert body["applicant"]["surname"] == "Иванова" and body["soldier"]["unit"] == "в/ч 54321"
    assert body["soldier"]["surname"] == "Иванов"
    r = client.patch(f"/v1/cases/{case['id']}", json={"relationship": "father"},
                     headers=bearer(token),
                     content_type="application/merge-patch+json")
    assert r.status_code == 200 and r.get_json()["relationship"] == "father"
    for body in ({"status": "approved"}, {"id": str(uuid.uuid4())}, {"documents": []},
                 {"applicant": {"surname": None}}, {"soldier": {"birth_date": None}},
                 {"applicant": {"nickname": "Маша"}}, {"relationship": None},
                 {"soldier": {"given_name": "A1"}}):
        r = client.patch(f"/v1/cases/{case['id']}", json=body, headers=bearer(token))
        assert r.status_code == 400 and r.get_json()["code"] == "validation_error", body
    final = client.get(f"/v1/cases/{case['id']}", headers=bearer(token)).get_json()
    assert final["relationship"] == "father" and final["status"] == "draft"


def test_withdraw_shreds_documents_and_revokes_authorizations(client, register_relative,
                                                              make_staff, outbox):
    email, _, tokens = register_relative()
    token = tokens["access_token"]
    case, supervisor = _approved(client, token, make_staff)
    start = utcnow()
    r = client.post(f"/v1/admin/cases/{case['id']}/authorizations",
                    json={"kind": "travel", "valid_from": start.isoformat(),
                          "valid_until": (start + timedelta(days=7)).isoformat()},
                    headers=bearer(supervisor))
    assert r.status_code == 201, r.get_json()
    r = client.post(f"/v1/cases/{case['id']}/withdraw", headers=bearer(token))
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "withdrawn"
    assert {d["status"] for d in body["documents"]} == {"shredded"}
    assert [a["status"] for a in body["authorizations"]] == ["revoked"]
    assert all(d.wrapped_dek is None for d in db().query(Document).all())
    assert outbox(email)[-1]["template"] == "case_withdrawn"
    r = client.post(f"/v1/cases/{case['id']}/withdraw", headers=bearer(token))
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"
    r = client.patch(f"/v1/cases/{case['id']}", json={"relationship": "father"},
                     headers=bearer(token))
    assert r.status_code == 409


def test_withdrawn_draft_stays_invisible_to_staff(client, register_relative, make_staff):
    _, _, tokens = register_relative()
    case = open_case(client, tokens["access_token"])
    r = client.post(f"/v1/cases/{case['id']}/withdraw", headers=bearer(tokens["access_token"]))
    assert r.status_code == 200 and r.get_json()["status"] == "withdrawn"
    officer = make_staff("officer")["access_token"]
    assert client.get(f"/v1/admin/cases/{case['id']}", headers=bearer(officer)).status_code == 404
    assert client.get("/v1/admin/cases", headers=bearer(officer)).get_json()["items"] == []


def test_illegal_transitions(client, register_relative, make_staff):
    _, _, tokens = register_relative()
    token = tokens["access_token"]
    case = submitted_case(client, token)
    r = client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"
    draft = open_case(client, token)
    complete_documents(draft["id"])
    officer = make_staff("officer")["access_token"]
    r = client.post(f"/v1/admin/cases/{draft['id']}/link",
                    json={"prisoner_id": add_prisoner()}, headers=bearer(officer))
    assert r.status_code == 404


def test_idempotent_create(client, register_relative):
    _, _, tokens = register_relative()
    _, _, other = register_relative()
    token = tokens["access_token"]
    body = {"relationship": "mother",
            "applicant": {"surname": "Иванова", "given_name": "Мария", "birth_date": "1971-04-02"},
            "soldier": {"surname": "Иванов", "given_name": "Алексей", "birth_date": "2001-09-14"}}
    headers = {**bearer(token), "Idempotency-Key": "create-1"}
    first = client.post("/v1/cases", json=body, headers=headers)
    again = client.post("/v1/cases", json=dict(reversed(list(body.items()))), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert len(client.get("/v1/cases", headers=bearer(token)).get_json()["items"]) == 1
    r = client.post("/v1/cases", json={**body, "relationship": "father"}, headers=headers)
    assert r.status_code == 422 and r.get_json()["code"] == "idempotency_key_reused"
    theirs = client.post("/v1/cases", json=body,
                         headers={**bearer(other["access_token"]), "Idempotency-Key": "create-1"})
    assert theirs.status_code == 201 and theirs.get_json()["id"] != first.get_json()["id"]
    r = client.post("/v1/cases", json={"relationship": "cousin"},
                    headers={**bearer(token), "Idempotency-Key": "create-2"})
    assert r.status_code == 400
    r = client.post("/v1/cases", json=body, headers={**bearer(token), "Idempotency-Key": "create-2"})
    assert r.status_code == 422 and r.get_json()["code"] == "idempotency_key_reused"
    r = client.post("/v1/cases", json=body, headers={**bearer(token), "Idempotency-Key": "create-3"})
    assert r.status_code == 201
    for key in ("", "x" * 256, "has space"):
        r = client.post("/v1/cases", json=body, headers={**bearer(token), "Idempotency-Key": key})
        assert r.status_code == 400 and "Idempotency-Key" in r.get_json()["errors"]
    assert len(client.get("/v1/cases", headers=bearer(token)).get_json()["items"]) == 2


def test_idempotent_decision_replays_refusals_too(client, register_relative, make_staff):
    _, _, tokens = register_relative()
    case = submitted_case(client, tokens["access_token"])
    officer = make_staff("officer")["access_token"]
    path = f"/v1/admin/cases/{case['id']}/decisions"
    headers = {**bearer(officer), "Idempotency-Key": "approve-1"}
    refused = client.post(path, json={"decision": "approve", "reason": "Fine."}, headers=headers)
    assert refused.status_code == 409 and refused.get_json()["code"] == "invalid_state"
    client.post(f"/v1/admin/cases/{case['id']}/link", json={"prisoner_id": add_prisoner()},
                headers=bearer(officer))
    replay = client.post(path, json={"decision": "approve", "reason": "Fine."}, headers=headers)
    assert replay.status_code == 409 and replay.get_json() == refused.get_json()
    headers = {**bearer(officer), "Idempotency-Key": "reject-1"}
    first = client.post(path, json={"decision": "reject", "reason": "No."}, headers=headers)
    second = client.post(path, json={"decision": "reject", "reason": "No."}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert len(first.get_json()["decisions"]) == 1


def test_concurrent_decisions_cannot_both_win(app, register_relative, make_staff):
    client = app.test_client()
    _, _, tokens = register_relative()
    case = submitted_case(client, tokens["access_token"])
    officers = [make_staff("officer")["access_token"] for _ in range(2)]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def decide(token: str, decision: str) -> None:
        barrier.wait()
        r = app.test_client().post(f"/v1/admin/cases/{case['id']}/decisions",
                                   json={"decision": decision, "reason": "Race."},
                                   headers=bearer(token))
        results.append(r.status_code)

    threads = [threading.Thread(target=decide, args=(t, d))
               for t, d in zip(officers, ("reject", "request_info"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201, 409]
    db.remove()
    stored = db().get(Case, uuid.UUID(case["id"]))
    assert stored.status in ("rejected", "info_requested")
    assert [h.status for h in stored.history][-1] == stored.status
    assert len(stored.history) == 4


@pytest.fixture
def redis_queue(app):
    rt = runtime.get()
    original = rt.settings
    url = "redis://127.0.0.1:6379/15"
    connection = Redis.from_url(url)
    try:
        connection.ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")
    connection.flushdb()
    rt.settings = type(original)(**{**original.__dict__, "redis_url": url})
    yield Queue(case_jobs.QUEUE, connection=connection)
    rt.settings = original
    connection.flushdb()


def test_checks_run_on_a_worker_when_redis_is_configured(client, register_relative, make_staff,
                                                         redis_queue, outbox):
    email, _, tokens = register_relative()
    token = tokens["access_token"]
    add_prisoner()
    case = open_case(client, token)
    complete_documents(case["id"])
    r = client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    assert r.status_code == 202 and r.get_json()["status"] == "submitted"
    assert redis_queue.count == 1
    officer = make_staff("officer")["access_token"]
    r = client.get(f"/v1/admin/cases/{case['id']}", headers=bearer(officer))
    assert r.get_json()["checks"] == []
    worker = SimpleWorker([redis_queue], connection=redis_queue.connection)
    assert worker.work(burst=True)
    assert redis_queue.count == 0
    mine = client.get(f"/v1/cases/{case['id']}", headers=bearer(token)).get_json()
    assert mine["status"] == "in_review"
    checks = client.get(f"/v1/admin/cases/{case['id']}", headers=bearer(officer)).get_json()
    assert {c["result"] for c in checks["checks"]} == {"clear"}
    assert outbox(email)[-1]["template"] == "case_in_review"


def test_a_withdrawn_case_is_skipped_by_the_worker(client, register_relative, redis_queue):
    _, _, tokens = register_relative()
    token = tokens["access_token"]
    case = open_case(client, token)
    complete_documents(case["id"])
    client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    client.post(f"/v1/cases/{case['id']}/withdraw", headers=bearer(token))
    job = redis_queue.jobs[0]
    SimpleWorker([redis_queue], connection=redis_queue.connection).work(burst=True)
    assert job.latest_result().return_value == "skipped"
    mine = client.get(f"/v1/cases/{case['id']}", headers=bearer(token)).get_json()
    assert mine["status"] == "withdrawn"


def test_pending_checks_are_picked_up(client, register_relative, redis_queue):
    _, _, tokens = register_relative()
    token = tokens["access_token"]
    case = open_case(client, token)
    add_document(case["id"], "passport", fields={"document_number": "1", "surname": "Иванова",
                                                 "given_name": "Мария",
                                                 "birth_date": "1971-04-02"})
    add_document(case["id"], "birth_certificate")
    client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    redis_queue.empty()
    assert run_pending_checks() == ["in_review"]
