"""Checkpoints: every verify result, redemption exactly once (also under a real race)."""
from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import timedelta
from http.client import HTTPConnection

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from werkzeug.serving import make_server

from services.authorizations import jws
from storage.db import session as db, utcnow
from storage.models import AuditEvent, Authorization, Prisoner
from storage.models.cases import Case
from tests.support.world import World, hours


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


def redeem(client, headers, token, **extra_headers):
    return client.post("/v1/checkpoint/redeem", headers={**headers, **extra_headers},
                       json={"token": token})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def reshaped(token: str, header=None, payload=None, signature=None) -> str:
    head, body, sig = token.split(".")
    if header is not None:
        head = b64(json.dumps(header).encode())
    if payload is not None:
        body = b64(json.dumps(payload, ensure_ascii=False).encode())
    return ".".join([head, body, signature if signature is not None else sig])


def parts(token: str) -> tuple[dict, dict]:
    head, body, _ = token.split(".")
    return (json.loads(base64.urlsafe_b64decode(head + "==")),
            json.loads(base64.urlsafe_b64decode(body + "==")))


# --- verify --------------------------------------------------------------------------------------

def test_verify_valid_shows_only_what_the_token_carries(world):
    _, _, _, pickup = world.ready_pickup()
    answer = world.verify(pickup["token"])
    assert answer["result"] == "valid"
    shown = answer["authorization"]
    assert set(shown) == {"id", "kind", "holder", "prisoner", "handover", "valid_from",
                          "valid_until"}
    assert shown["id"] == pickup["id"] and shown["kind"] == "pickup"
    assert shown["valid_from"] == pickup["valid_from"]
    assert shown["valid_until"] == pickup["valid_until"]
    assert shown["holder"]["document_number"] == "L898902C3"
    assert shown["handover"]["location"] == pickup["handover"]["location"]
    events = db().execute(select(AuditEvent).where(AuditEvent.action == "checkpoint.verify")
                          ).scalars().all()
    assert [(e.outcome, e.reason, e.subject_id) for e in events] == [
        ("success", "valid", pickup["id"])]


def test_verify_travel(world):
    _, case_id, _ = world.approved_case()
    travel = world.travel(case_id, entry_point="Sumy")
    answer = world.verify(travel["token"])
    assert answer["result"] == "valid" and answer["authorization"]["kind"] == "travel"
    assert "prisoner" not in answer["authorization"]


def test_verify_expired_and_not_yet_valid(world):
    _, case_id, _ = world.approved_case()
    expired = world.lapse(world.travel(case_id))
    assert world.verify(expired["token"])["result"] == "expired"
    early = world.travel(case_id, hours(2), hours(10))
    answer = world.verify(early["token"])
    assert answer["result"] == "not_yet_valid" and answer["authorization"]["id"] == early["id"]


def test_verify_revoked_and_redeemed(world, client):
    _, _, _, pickup = world.ready_pickup()
    assert redeem(client, world.checkpoint, pickup["token"]).status_code == 200
    assert world.verify(pickup["token"])["result"] == "redeemed"
    _, other_case, _ = world.approved_case()
    travel = world.travel(other_case)
    client.post(f"/v1/admin/authorizations/{travel['id']}/revoke", headers=world.officer,
                json={"reason": "lost phone"})
    assert world.verify(travel["token"])["result"] == "revoked"


@pytest.mark.parametrize("garbage", [
    "", "x", "a.b.c", "..", "....", "eyJ.eyJ.eyJ", "a" * 20000, "ü.ü.ü", "\x00.\x00.\x00",
    "e30.e30.", "e30.e30.e30", "W10.W10.AAAA",
])
def test_verify_garbage_is_invalid(world, garbage):
    assert world.verify(garbage) == {"result": "invalid", "authorization": None}


@pytest.mark.parametrize("body", [{}, {"token": 5}, {"token": None}, {"token": ["a"]},
                                  {"token": "a", "extra": 1}, {"token": "a" * 70000}])
def test_verify_body_schema_is_strict(world, client, body):
    r = client.post("/v1/checkpoint/verify", headers=world.checkpoint, json=body)
    assert r.status_code == 400 and r.get_json()["code"] == "validation_error"


def test_verify_malformed_json(world, client):
    r = client.post("/v1/checkpoint/verify", headers={**world.checkpoint,
                                                      "Content-Type": "application/json"},
                    data=b'{"token": ')
    assert r.status_code == 400 and r.get_json()["code"] == "malformed_json"


def test_tampered_and_foreign_tokens_are_invalid(world):
    _, case_id, _ = world.approved_case()
    token = world.travel(case_id)["token"]
    header, payload = parts(token)
    foreign = Ed25519PrivateKey.generate()
    forged = [
        reshaped(token, payload={**payload, "exp": payload["exp"] + 86400}),
        reshaped(token, payload={**payload, "holder": {**payload["holder"], "name": "X"}}),
        reshaped(token, header={**header, "alg": "none"}, signature=""),
        reshaped(token, header={**header, "alg": "HS256"}),
        reshaped(token, header={**header, "typ": "JWT"}),
        reshaped(token, header={**header, "kid": "unknown"}),
        reshaped(token, header={**header, "crit": ["exp"]}),
        reshaped(token, signature=b64(b"\x00" * 64)),
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        # A well-formed token signed by a key that is not ours, claiming our kid.
        jws.sign(payload, foreign, kid=header["kid"], typ=header["typ"]),
        # Our key id, the right shapes, but the audience of a session token.
        jws.sign({**payload, "aud": "kinpass-api"}, foreign, kid=header["kid"],
                 typ=header["typ"]),
    ]
    for candidate in forged:
        assert world.verify(candidate)["result"] == "invalid", candidate


def test_verify_is_for_checkpoints_only(world, client):
    relative = world.relative()
    for headers in (relative.headers, world.officer, world.staff("supervisor")):
        r = client.post("/v1/checkpoint/verify", headers=headers, json={"token": "x"})
        assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    assert client.post("/v1/checkpoint/verify", json={"token": "x"}).status_code == 401


# --- redeem --------------------------------------------------------------------------------------

def test_redeem_completes_case_and_releases_prisoner(world, client, outbox):
    relative, case_id, prisoner_id, pickup = world.ready_pickup()
    r = redeem(client, world.checkpoint, pickup["token"])
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert set(body) == {"result", "authorization_id", "redeemed_at"}
    assert body["result"] == "redeemed" and body["authorization_id"] == pickup["id"]
    assert body["redeemed_at"].endswith("Z")
    db.remove()
    case = db().get(Case, case_id)
    assert case.status == "completed" and case.history[-1].status == "completed"
    assert db().get(Prisoner, prisoner_id).status == "released"
    assert db().get(Authorization, uuid.UUID(pickup["id"])).status == "redeemed"
    assert outbox(relative.email)[-1]["template"] == "case_completed"
    items = client.get(f"/v1/cases/{case_id}/authorizations",
                       headers=relative.headers).get_json()["items"]
    assert [a["status"] for a in items] == ["expired", "redeemed"]  # travel ends with the case
    again = redeem(client, world.checkpoint, pickup["token"])
    assert again.status_code == 409 and again.get_json()["code"] == "already_redeemed"
    failures = db().execute(select(AuditEvent.reason).where(
        AuditEvent.action == "checkpoint.redeem", AuditEvent.outcome == "failure")).scalars()
    assert list(failures) == ["redeemed"]


def test_redeem_travel_is_not_redeemable(world, client):
    _, case_id, _ = world.approved_case()
    travel = world.travel(case_id)
    r = redeem(client, world.checkpoint, travel["token"])
    assert r.status_code == 422 and r.get_json()["code"] == "not_redeemable"
    assert world.verify(travel["token"])["result"] == "valid"


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_redeem_invalid_token(world, client, token):
    r = redeem(client, world.checkpoint, token)
    assert r.status_code == 422 and r.get_json()["code"] == "invalid_token"


def test_redeem_revoked_expired_early(world, client):
    _, case_id, prisoner_id, pickup = world.ready_pickup()
    world.lapse(pickup)
    r = redeem(client, world.checkpoint, pickup["token"])
    assert r.status_code == 409 and r.get_json()["code"] == "expired"
    early = world.pickup(case_id, world.handover(hours(1), hours(3)))
    r = redeem(client, world.checkpoint, early["token"])
    assert r.status_code == 409 and r.get_json()["code"] == "not_yet_valid"
    client.post(f"/v1/admin/authorizations/{early['id']}/revoke", headers=world.officer,
                json={"reason": "appointment moved"})
    r = redeem(client, world.checkpoint, early["token"])
    assert r.status_code == 409 and r.get_json()["code"] == "revoked"
    db.remove()
    assert db().get(Case, case_id).status == "approved"
    assert db().get(Prisoner, prisoner_id).status == "held"


def test_redeem_honours_idempotency_key(world, client):
    _, _, _, pickup = world.ready_pickup()
    first = redeem(client, world.checkpoint, pickup["token"], **{"Idempotency-Key": "scan-1"})
    replay = redeem(client, world.checkpoint, pickup["token"], **{"Idempotency-Key": "scan-1"})
    assert first.status_code == replay.status_code == 200
    assert first.get_json() == replay.get_json()
    fresh = redeem(client, world.checkpoint, pickup["token"], **{"Idempotency-Key": "scan-2"})
    assert fresh.status_code == 409 and fresh.get_json()["code"] == "already_redeemed"
    reused = client.post("/v1/checkpoint/redeem",
                         headers={**world.checkpoint, "Idempotency-Key": "scan-1"},
                         json={"token": "other"})
    assert reused.status_code == 422 and reused.get_json()["code"] == "idempotency_key_reused"


def test_redeem_is_for_checkpoints_only(world, client):
    _, _, _, pickup = world.ready_pickup()
    for headers in (world.officer, world.staff("supervisor"), world.staff("admin")):
        assert redeem(client, headers, pickup["token"]).status_code == 403
    assert world.verify(pickup["token"])["result"] == "valid"


def test_withdrawn_case_pickup_is_revoked(world, client):
    from services.audit.events import SYSTEM
    from services.authorizations.operations import revoke_case_authorizations
    from services.core import unit_of_work

    _, case_id, _, pickup = world.ready_pickup()
    revoke_case_authorizations(db().get(Case, case_id), SYSTEM)
    unit_of_work.commit()
    r = redeem(client, world.checkpoint, pickup["token"])
    assert r.status_code == 409 and r.get_json()["code"] == "revoked"


# --- the race ------------------------------------------------------------------------------------

def test_concurrent_redeems_succeed_exactly_once(world, app):
    """Many checkpoints scan the same pickup token at the same moment: one wins."""
    _, case_id, prisoner_id, pickup = world.ready_pickup()
    scanners = [world.staff("checkpoint")] + [
        {"Authorization": f"Bearer {world.make_staff('checkpoint')['access_token']}"}
        for _ in range(5)]
    db.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    rounds = 2  # each scanner fires twice, so 12 requests race for one redemption
    barrier = threading.Barrier(len(scanners) * rounds)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def scan(headers: dict) -> None:
        conn = HTTPConnection("127.0.0.1", server.server_port, timeout=60)
        barrier.wait(timeout=30)
        conn.request("POST", "/v1/checkpoint/redeem", body=json.dumps(
            {"token": pickup["token"]}), headers={**headers,
                                                   "Content-Type": "application/json"})
        response = conn.getresponse()
        with lock:
            answers.append((response.status, json.loads(response.read())))
        conn.close()

    threads = [threading.Thread(target=scan, args=(h,)) for h in scanners for _ in range(rounds)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        server.shutdown()
        serving.join(timeout=10)
    statuses = sorted(status for status, _ in answers)
    assert len(answers) == len(threads)
    assert statuses == [200] + [409] * (len(threads) - 1), answers
    assert {body["code"] for status, body in answers if status == 409} == {"already_redeemed"}
    db.remove()
    assert db().get(Case, case_id).status == "completed"
    assert [c.status for c in db().get(Case, case_id).history].count("completed") == 1
    assert db().get(Prisoner, prisoner_id).status == "released"
    redeemed = db().execute(select(AuditEvent).where(AuditEvent.action == "checkpoint.redeem",
                                                     AuditEvent.outcome == "success")).all()
    assert len(redeemed) == 1


def test_verify_window_edges(world):
    """nbf is inclusive, exp exclusive, as JWT has them (RFC 7519 4.1.4, 4.1.5)."""
    from services.authorizations.checkpoint import check_token

    _, case_id, _ = world.approved_case()
    start = utcnow().replace(microsecond=0) + timedelta(hours=1)
    travel = world.travel(case_id, start, start + timedelta(hours=1))
    assert check_token(travel["token"], start - timedelta(seconds=1)).result == "not_yet_valid"
    assert check_token(travel["token"], start).result == "valid"
    assert check_token(travel["token"], start + timedelta(hours=1)).result == "expired"
