"""One pickup token verified and redeemed at the same moment by many checkpoints, with and
without Idempotency-Keys (some shared), over real HTTP against the threaded app: never a
5xx, one redemption, and every loser told 409 `already_redeemed`."""
from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import func, select

from storage.db import session as db
from storage.models import AuditEvent, Prisoner
from storage.models.cases import Case
from tests.support.documents import live_server
from tests.support.world import World

SCANNERS = 5


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


def race(base: str, calls: list[tuple[str, dict, dict]]) -> list[tuple[str, int, dict]]:
    """Fire every (path, headers, body) at once; (path, status, answer) of each."""
    barrier = threading.Barrier(len(calls))
    answers: list[tuple[str, int, dict]] = []
    lock = threading.Lock()

    def call(path: str, headers: dict, body: dict) -> None:
        with requests.Session() as http:
            barrier.wait(timeout=30)
            r = http.post(base + path, json=body, headers=headers, timeout=120)
        with lock:
            answers.append((path, r.status_code, r.json()))

    threads = [threading.Thread(target=call, args=c) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=150)
    assert len(answers) == len(calls), "a request never came back"
    return answers


def test_verify_and_redeem_race_without_a_server_error(world, app):
    _, case_id, prisoner_id, pickup = world.ready_pickup()
    scanners = [world.staff("checkpoint")] + [
        {"Authorization": f"Bearer {world.make_staff('checkpoint')['access_token']}"}
        for _ in range(SCANNERS - 1)]
    body = {"token": pickup["token"]}
    calls = []
    for n, headers in enumerate(scanners):
        calls += [("/v1/checkpoint/verify", headers, body)] * 2
        calls.append(("/v1/checkpoint/redeem", headers, body))
        calls.append(("/v1/checkpoint/redeem", {**headers, "Idempotency-Key": f"scan-{n}"},
                      body))
    # One scanner's retries of one scan, all in flight together.
    calls += [("/v1/checkpoint/redeem", {**scanners[0], "Idempotency-Key": "scan-retried"},
               body)] * 3
    db.remove()
    with live_server(app) as base:
        answers = race(base, calls)

    assert all(status < 500 for _, status, _ in answers), answers
    verdicts = [(status, answer["result"]) for path, status, answer in answers
                if path.endswith("verify")]
    assert len(verdicts) == 2 * SCANNERS
    assert {status for status, _ in verdicts} == {200}
    assert {result for _, result in verdicts} <= {"valid", "redeemed"}
    redeems = [(status, answer) for path, status, answer in answers if path.endswith("redeem")]
    won = [answer for status, answer in redeems if status == 200]
    assert won and all(answer == won[0] for answer in won)  # a replay is the first answer
    assert won[0]["authorization_id"] == pickup["id"]
    lost = {(status, answer["code"]) for status, answer in redeems if status != 200}
    assert lost == {(409, "already_redeemed")}, redeems
    db.remove()
    redeemed = db().execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "checkpoint.redeem",
        AuditEvent.outcome == "success")).scalar_one()
    assert redeemed == 1
    assert db().get(Case, case_id).status == "completed"
    assert db().get(Prisoner, prisoner_id).status == "released"
