"""Handovers, issuance, revocation, the relative's view, QR codes, JWKS and revocation list.

Tokens are checked with jwcrypto — a JOSE library independent of the code that signs them.
"""
from __future__ import annotations

import base64
import json
import struct
import uuid
from datetime import timedelta

import jwt as pyjwt
import pytest
from jwcrypto import jwk, jws as jose_jws, jwt as jose_jwt
from sqlalchemy import select

from services.authorizations import qr as qr_codes
from storage.db import session as db, utcnow
from storage.models import AuditEvent, Authorization, Prisoner
from tests.support.http import bearer
from tests.support.world import World, hours, iso

UNKNOWN_ID = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


def jwks_of(client) -> jwk.JWKSet:
    r = client.get("/.well-known/jwks.json")
    assert r.status_code == 200
    return jwk.JWKSet.from_json(r.get_data(as_text=True))


def jose_claims(client, token: str) -> tuple[dict, dict]:
    """Header and claims as jwcrypto reads them, checking signature, exp, nbf and aud."""
    checked = jose_jwt.JWT(jwt=token, key=jwks_of(client), algs=["EdDSA"],
                           check_claims={"aud": "kinpass-checkpoint", "exp": None})
    return json.loads(checked.header), json.loads(checked.claims)


def b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


# --- handovers -----------------------------------------------------------------------------------

def test_handover_create_and_list(world, client):
    first = world.handover(hours(24), hours(26), location="Київ")
    world.handover(hours(2), hours(3))
    assert set(first) == {"id", "location", "starts_at", "ends_at"}
    assert first["location"] == "Київ" and first["starts_at"].endswith("Z")
    r = client.get("/v1/admin/handovers?limit=1", headers=world.officer)
    page = r.get_json()
    assert r.status_code == 200 and len(page["items"]) == 1 and page["next_cursor"]
    assert page["items"][0]["id"] != first["id"]  # ordered by start: the sooner one first
    r = client.get(f"/v1/admin/handovers?cursor={page['next_cursor']}", headers=world.officer)
    assert [h["id"] for h in r.get_json()["items"]] == [first["id"]]


def test_handover_window_must_end_after_start(world, client):
    moment = hours(3)
    for ends in (moment, moment - timedelta(minutes=1)):
        r = client.post("/v1/admin/handovers", headers=world.officer, json={
            "location": "Київ", "starts_at": iso(moment), "ends_at": iso(ends)})
        assert r.status_code == 400 and "ends_at" in r.get_json()["errors"]
    already_begun = world.handover(hours(-2), hours(1))
    assert already_begun["starts_at"] < iso(utcnow())


@pytest.mark.parametrize("body", [
    {"location": "Київ", "starts_at": "2026-03-02T10:00:00Z"},
    {"location": "", "starts_at": "2026-03-02T10:00:00Z", "ends_at": "2026-03-02T11:00:00Z"},
    {"location": "x" * 101, "starts_at": "2026-03-02T10:00:00Z", "ends_at": "2026-03-02T11:00:00Z"},
    {"location": "Київ", "starts_at": "2026-03-02T10:00:00", "ends_at": "2026-03-02T11:00:00Z"},
    {"location": "Київ", "starts_at": "2026-03-02T10:00:00Z", "ends_at": "2026-03-02T11:00:00Z",
     "note": "x"},
])
def test_handover_bad_bodies(world, client, body):
    r = client.post("/v1/admin/handovers", headers=world.officer, json=body)
    assert r.status_code == 400 and r.get_json()["code"] == "validation_error"


def test_handovers_are_for_case_staff_only(world, client):
    relative = world.relative()
    for headers in (relative.headers, world.checkpoint, world.staff("admin")):
        assert client.get("/v1/admin/handovers", headers=headers).status_code == 403
    assert client.get("/v1/admin/handovers").status_code == 401


# --- issuance ------------------------------------------------------------------------------------

def test_issue_travel_token_verifies_with_an_independent_jose_library(world, client, outbox):
    relative, case_id, _ = world.approved_case()
    start, end = hours(-1), hours(72)
    auth = world.travel(case_id, start, end, entry_point="Sumy / Yunakivka")
    assert set(auth) == {"id", "case_id", "kind", "status", "valid_from", "valid_until",
                         "token", "issued_at", "entry_point"}
    assert auth["kind"] == "travel" and auth["status"] == "active"
    assert auth["case_id"] == str(case_id) and auth["valid_until"] == iso(end)
    header, claims = jose_claims(client, auth["token"])
    assert header == {"alg": "EdDSA", "kid": header["kid"], "typ": "kinpass-authorization+jwt"}
    assert header["kid"] in {k["kid"] for k in client.get("/.well-known/jwks.json")
                             .get_json()["keys"]}
    assert claims["aud"] == "kinpass-checkpoint" and claims["jti"] == auth["id"]
    assert claims["iss"] == "https://kinpass.example" and claims["kind"] == "travel"
    assert claims["nbf"] == int(start.replace(microsecond=0).timestamp())
    assert claims["exp"] == int(end.replace(microsecond=0).timestamp())
    assert claims["holder"] == {"name": "Иванова Мария Петровна",
                                "name_latin": "IVANOVA MARIIA PETROVNA",
                                "birth_date": "1971-04-02", "document_number": "L898902C3"}
    assert claims["entry_point"] == "Sumy / Yunakivka"
    assert "prisoner" not in claims and "handover" not in claims
    message = outbox(relative.email)[-1]
    assert message["template"] == "authorization_issued_travel" and message["language"] == "ru"
    assert "L898902C3" not in message["text"] and "Иванов" not in message["text"]


def test_issue_pickup_carries_prisoner_and_handover(world, client, outbox):
    relative, case_id, _ = world.approved_case()
    world.travel(case_id)
    handover = world.handover(hours(1), hours(3), location="Київ, пункт №3")
    auth = world.pickup(case_id, handover)
    assert auth["handover"] == handover and "entry_point" not in auth
    assert auth["valid_from"] == handover["starts_at"]
    assert auth["valid_until"] == handover["ends_at"]
    token = jose_jws.JWS()
    token.deserialize(auth["token"])
    token.verify(jwks_of(client).get_key(token.jose_header["kid"]), alg="EdDSA")
    claims = json.loads(token.payload)
    assert claims["prisoner"] == {"name": "Иванов Алексей Сергеевич",
                                  "name_latin": "IVANOV ALEKSEI SERGEEVICH",
                                  "birth_date": "2001-09-14"}
    assert claims["handover"] == {"location": "Київ, пункт №3",
                                  "starts_at": handover["starts_at"],
                                  "ends_at": handover["ends_at"]}
    assert "entry_point" not in claims
    assert outbox(relative.email)[-1]["template"] == "authorization_issued_pickup"
    events = db().execute(select(AuditEvent.action, AuditEvent.reason)
                          .where(AuditEvent.action == "authorization.issue")).all()
    assert len(events) == 2 and all("L898902C3" not in (e.reason or "") for e in events)


def test_document_number_from_typed_fields_without_mrz(world, client):
    _, case_id, _ = world.approved_case(mrz=None, kind="internal_passport",
                                        fields={"document_number": "4512 345678",
                                                "surname": "Иванова"})
    auth = world.travel(case_id)
    assert jose_claims(client, auth["token"])[1]["holder"]["document_number"] == "4512 345678"


def test_no_document_number_without_mrz_or_typed_number(world, client):
    _, case_id, _ = world.approved_case(mrz=None, kind="id_card", fields={"surname": "Иванова"})
    auth = world.travel(case_id)
    assert jose_claims(client, auth["token"])[1]["holder"]["document_number"] is None


@pytest.mark.parametrize("status", ["submitted", "in_review", "approval_pending", "completed",
                                    "rejected", "withdrawn"])
def test_only_approved_cases_get_authorizations(world, status):
    _, case_id, _ = world.approved_case(status=status)
    body = {"kind": "travel", "valid_from": iso(hours(1)), "valid_until": iso(hours(2))}
    assert world.issue(case_id, body, expect=409)["code"] == "invalid_state"


def test_state_is_checked_before_the_body(world):
    _, case_id, _ = world.approved_case(status="in_review")
    assert world.issue(case_id, {"kind": "teleport"}, expect=409)["code"] == "invalid_state"


def test_draft_and_unknown_cases_are_404_to_staff(world):
    _, case_id, _ = world.approved_case(status="draft")
    body = {"kind": "travel", "valid_from": iso(hours(1)), "valid_until": iso(hours(2))}
    assert world.issue(case_id, body, expect=404)["code"] == "not_found"
    assert world.issue(uuid.uuid4(), body, expect=404)["code"] == "not_found"


def test_pickup_preconditions(world):
    _, case_id, _ = world.approved_case()
    handover = world.handover()
    body = {"kind": "pickup", "handover_id": handover["id"]}
    assert world.issue(case_id, body, expect=409)["code"] == "invalid_state"  # no travel
    world.lapse(world.travel(case_id))  # a travel authorization that has expired
    assert world.issue(case_id, body, expect=409)["code"] == "invalid_state"
    world.travel(case_id)
    r = world.issue(case_id, {"kind": "pickup", "handover_id": str(uuid.uuid4())}, expect=400)
    assert r["code"] == "validation_error" and "handover_id" in r["errors"]
    assert world.issue(case_id, body)["kind"] == "pickup"


@pytest.mark.parametrize("linked, prisoner_status", [(False, "held"), (True, "released"),
                                                     (True, "deceased")])
def test_pickup_needs_a_linked_held_prisoner(world, linked, prisoner_status):
    _, case_id, _ = world.approved_case(linked=linked, prisoner_status=prisoner_status)
    world.travel(case_id)
    r = world.issue(case_id, {"kind": "pickup", "handover_id": world.handover()["id"]},
                    expect=409)
    assert r["code"] == "invalid_state"


@pytest.mark.parametrize("body, field", [
    ({"kind": "travel", "valid_from": "2026-03-02T10:00:00Z"}, "valid_until"),
    ({"kind": "travel", "valid_from": "2026-03-02T10:00:00Z",
      "valid_until": "2026-03-02T10:00:00Z"}, "valid_until"),
    ({"kind": "travel", "valid_from": "2026-03-02T10:00:00Z",
      "valid_until": "2026-03-01T10:00:00Z"}, "valid_until"),
    ({"kind": "travel", "valid_from": "2026-03-02T10:00:00Z",
      "valid_until": "2026-03-03T10:00:00Z", "handover_id": UNKNOWN_ID}, "handover_id"),
    ({"kind": "pickup"}, "handover_id"),
    ({"kind": "pickup", "handover_id": "not-a-uuid"}, "handover_id"),
    ({"kind": "pickup", "handover_id": UNKNOWN_ID, "entry_point": "x"}, "entry_point"),
    ({"kind": "travel", "valid_from": "2026-03-02T10:00:00Z",
      "valid_until": "2026-03-03T10:00:00Z", "entry_point": "x" * 101}, "entry_point"),
    ({"kind": "boat"}, "kind"),
    ({"valid_from": "2026-03-02T10:00:00Z"}, "kind"),
    ({"kind": "travel", "valid_from": "2026-03-02T10:00:00Z",
      "valid_until": "2026-03-03T10:00:00Z", "extra": 1}, "extra"),
])
def test_issue_bad_bodies(world, body, field):
    _, case_id, _ = world.approved_case()
    r = world.issue(case_id, body, expect=400)
    assert r["code"] == "validation_error" and field in r["errors"], r
    assert db().execute(select(Authorization)).first() is None


def test_reissue_revokes_the_earlier_one(world, client):
    relative, case_id, _ = world.approved_case()
    first = world.travel(case_id)
    second = world.travel(case_id)
    assert second["id"] != first["id"]
    items = client.get(f"/v1/cases/{case_id}/authorizations",
                       headers=relative.headers).get_json()["items"]
    assert [(a["id"], a["status"]) for a in items] == [(first["id"], "revoked"),
                                                      (second["id"], "active")]
    assert world.verify(first["token"])["result"] == "revoked"
    assert world.verify(second["token"])["result"] == "valid"
    revoked = client.get("/v1/authorizations/revocations").get_json()["revoked"]
    assert [r["id"] for r in revoked] == [first["id"]]


def test_issuance_is_for_case_staff_only(world, client):
    relative, case_id, _ = world.approved_case()
    body = {"kind": "travel", "valid_from": iso(hours(1)), "valid_until": iso(hours(2))}
    for headers in (relative.headers, world.checkpoint, world.staff("auditor")):
        r = client.post(f"/v1/admin/cases/{case_id}/authorizations", headers=headers, json=body)
        assert r.status_code == 403
    supervisor = world.staff("supervisor")
    r = client.post(f"/v1/admin/cases/{case_id}/authorizations", headers=supervisor, json=body)
    assert r.status_code == 201


def test_issuance_honours_idempotency_key(world, client):
    _, case_id, _ = world.approved_case()
    body = {"kind": "travel", "valid_from": iso(hours(1)), "valid_until": iso(hours(2))}
    headers = {**world.officer, "Idempotency-Key": "issue-1"}
    first = client.post(f"/v1/admin/cases/{case_id}/authorizations", headers=headers, json=body)
    again = client.post(f"/v1/admin/cases/{case_id}/authorizations", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == {**first.get_json(), "token": None}  # the reply keeps no token
    assert len(db().execute(select(Authorization)).all()) == 1
    other = client.post(f"/v1/admin/cases/{case_id}/authorizations", headers=headers,
                        json={**body, "entry_point": "Sumy"})
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"


# --- revocation ----------------------------------------------------------------------------------

def test_revoke_and_signed_revocation_list(world, client, outbox):
    relative, case_id, _ = world.approved_case()
    auth = world.travel(case_id)
    before = client.get("/v1/authorizations/revocations").get_json()
    assert before["revoked"] == []
    r = client.post(f"/v1/admin/authorizations/{auth['id']}/revoke", headers=world.officer,
                    json={"reason": "Phone reported lost"})
    assert r.status_code == 200 and r.get_json()["status"] == "revoked"
    assert outbox(relative.email)[-1]["template"] == "authorization_revoked"
    listing = client.get("/v1/authorizations/revocations")
    assert listing.headers["Cache-Control"] == "no-store"
    body = listing.get_json()
    assert [e["id"] for e in body["revoked"]] == [auth["id"]]
    assert body["issued_at"].endswith("Z") and body["revoked"][0]["revoked_at"].endswith("Z")
    signed = jose_jws.JWS()
    signed.deserialize(body["jws"])
    assert signed.jose_header["alg"] == "EdDSA"
    signed.verify(jwks_of(client).get_key(signed.jose_header["kid"]), alg="EdDSA")
    payload = json.loads(signed.payload)
    assert set(payload) == {"iss", "iat", "revoked"} and payload["revoked"] == body["revoked"]
    again = client.post(f"/v1/admin/authorizations/{auth['id']}/revoke", headers=world.officer,
                        json={"reason": "again"})
    assert again.status_code == 409 and again.get_json()["code"] == "invalid_state"


def test_revoke_refusals(world, client):
    _, case_id, _ = world.approved_case()
    expired = world.lapse(world.travel(case_id))
    r = client.post(f"/v1/admin/authorizations/{expired['id']}/revoke", headers=world.officer,
                    json={"reason": "too late"})
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"
    r = client.post(f"/v1/admin/authorizations/{uuid.uuid4()}/revoke", headers=world.officer,
                    json={"reason": "nothing"})
    assert r.status_code == 404
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 2001},
                 {"reason": "ok", "x": 1}):
        r = client.post(f"/v1/admin/authorizations/{expired['id']}/revoke",
                        headers=world.officer, json=body)
        assert r.status_code == 400, body
    r = client.post(f"/v1/admin/authorizations/{expired['id']}/revoke", headers=world.checkpoint,
                    json={"reason": "not mine"})
    assert r.status_code == 403


def test_revoke_case_authorizations_for_withdrawal(world, client, outbox):
    from services.audit.events import SYSTEM
    from services.authorizations.operations import revoke_case_authorizations
    from services.core import unit_of_work
    from storage.models.cases import Case

    relative, case_id, _ = world.approved_case()
    travel = world.travel(case_id)
    pickup = world.pickup(case_id)
    revoked = revoke_case_authorizations(db().get(Case, case_id), SYSTEM)
    unit_of_work.commit()
    assert {str(i) for i in revoked} == {travel["id"], pickup["id"]}
    assert world.verify(pickup["token"])["result"] == "revoked"
    assert outbox(relative.email)[-1]["template"] == "authorization_revoked"
    ids = {e["id"] for e in client.get("/v1/authorizations/revocations").get_json()["revoked"]}
    assert ids == {travel["id"], pickup["id"]}


# --- the relative's view -------------------------------------------------------------------------

def test_relative_sees_her_case_authorizations_only(world, client):
    relative, case_id, _ = world.approved_case()
    auth = world.lapse(world.travel(case_id))
    r = client.get(f"/v1/cases/{case_id}/authorizations", headers=relative.headers)
    assert r.status_code == 200
    item = r.get_json()["items"][0]
    assert item["id"] == auth["id"] and item["status"] == "expired"
    assert item["token"] == auth["token"]
    stranger = world.relative()
    r = client.get(f"/v1/cases/{case_id}/authorizations", headers=stranger.headers)
    assert r.status_code == 404
    assert client.get(f"/v1/cases/{uuid.uuid4()}/authorizations",
                      headers=relative.headers).status_code == 404
    assert client.get(f"/v1/cases/{case_id}/authorizations",
                      headers=world.officer).status_code == 403


def test_staff_read_an_authorization(world, client):
    _, case_id, _ = world.approved_case()
    auth = world.travel(case_id)
    r = client.get(f"/v1/admin/authorizations/{auth['id']}", headers=world.officer)
    assert r.status_code == 200 and r.get_json() == auth
    assert client.get(f"/v1/admin/authorizations/{uuid.uuid4()}",
                      headers=world.officer).status_code == 404


# --- QR codes ------------------------------------------------------------------------------------

def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_qr_codes_for_owner_and_case_staff(world, client):
    relative, case_id, _ = world.approved_case()
    auth = world.travel(case_id)
    symbol = qr_codes._symbol(auth["token"])
    assert symbol.error in ("Q", "H") and symbol.mode == "byte"
    for headers in (relative.headers, world.officer, world.staff("supervisor")):
        png = client.get(f"/v1/authorizations/{auth['id']}/qr.png", headers=headers)
        assert png.status_code == 200 and png.mimetype == "image/png"
        width, height = png_size(png.data)
        assert width == height == symbol.symbol_size(scale=8, border=4)[0] >= 400
    svg = client.get(f"/v1/authorizations/{auth['id']}/qr.svg", headers=relative.headers)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data and svg.headers["X-Content-Type-Options"] == "nosniff"
    events = db().execute(select(AuditEvent).where(AuditEvent.action == "authorization.qr")).all()
    assert len(events) == 4


def test_qr_codes_refused_to_others(world, client):
    relative, case_id, _ = world.approved_case()
    auth = world.travel(case_id)
    stranger = world.relative()
    for suffix in ("qr.png", "qr.svg"):
        url = f"/v1/authorizations/{auth['id']}/{suffix}"
        assert client.get(url, headers=stranger.headers).status_code == 404
        for role in ("checkpoint", "auditor", "admin"):
            assert client.get(url, headers=world.staff(role)).status_code == 403
        assert client.get(url).status_code == 401
        missing = f"/v1/authorizations/{uuid.uuid4()}/{suffix}"
        assert client.get(missing, headers=relative.headers).status_code == 404
    assert client.get("/v1/authorizations/not-a-uuid/qr.png",
                      headers=relative.headers).status_code == 404


# --- tokens are not sessions, sessions are not tokens -------------------------------------------

def test_authorization_token_is_never_a_session_token(world, client, app):
    relative, case_id, _ = world.approved_case()
    auth = world.travel(case_id)
    for path in ("/v1/me", f"/v1/cases/{case_id}/authorizations"):
        r = client.get(path, headers=bearer(auth["token"]))
        assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"
    # Even signed with the session key, the checkpoint audience is refused: aud is pinned.
    session = pyjwt.decode(relative.token, options={"verify_signature": False})
    _, claims = jose_claims(client, auth["token"])
    forged = pyjwt.encode({**session, **claims, "sub": session["sub"], "sid": session["sid"]},
                          app.config["JWT_SECRET_KEY"], algorithm="HS256")
    r = client.get("/v1/me", headers=bearer(forged))
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"
    assert client.get("/v1/me", headers=relative.headers).status_code == 200


def test_session_token_is_never_an_authorization(world, client):
    relative, case_id, _ = world.approved_case()
    world.travel(case_id)
    assert world.verify(relative.token) == {"result": "invalid", "authorization": None}
    staff_token = world.checkpoint["Authorization"].split()[1]
    assert world.verify(staff_token)["result"] == "invalid"
    r = client.post("/v1/checkpoint/redeem", headers=world.checkpoint,
                    json={"token": relative.token})
    assert r.status_code == 422 and r.get_json()["code"] == "invalid_token"


# --- keys ----------------------------------------------------------------------------------------

def test_jwks_shape_and_caching(client):
    r = client.get("/.well-known/jwks.json")
    keys = r.get_json()["keys"]
    assert len(keys) == 1 and "public" in r.headers["Cache-Control"]
    assert set(keys[0]) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (keys[0]["kty"], keys[0]["crv"], keys[0]["alg"], keys[0]["use"]) == (
        "OKP", "Ed25519", "EdDSA", "sig")
    assert jwk.JWK(**keys[0]).thumbprint() == keys[0]["kid"]
    assert "d" not in keys[0]


def test_signing_keys_are_wrapped_and_not_the_session_key(world, app):
    from storage.models import SigningKey

    _, case_id, _ = world.approved_case()
    world.travel(case_id)
    row = db().execute(select(SigningKey)).scalar_one()
    assert len(row.public_key) == 32 and len(row.private_key_wrapped) > 32 + 28
    with pytest.raises(Exception):  # noqa: B017 - any failure: the context binds the key id
        app.extensions["kinpass"].runtime.keys.unwrap(row.private_key_wrapped, b"other")


def test_prisoner_untouched_by_issuance(world):
    _, case_id, prisoner_id = world.approved_case()
    world.travel(case_id)
    world.pickup(case_id)
    assert db().get(Prisoner, prisoner_id).status == "held"
