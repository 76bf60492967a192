"""End to end through the API: submit, link, four-eyes approval, travel, pickup, redeem."""
from __future__ import annotations

from jwcrypto import jwk, jwt as jose_jwt

from tests.support.cases import add_prisoner, submitted_case
from tests.support.http import bearer
from tests.support.world import hours, iso


def test_from_submission_to_handover(client, register_relative, make_staff, outbox):
    email, _, tokens = register_relative(language="uk")
    mother = bearer(tokens["access_token"])
    prisoner_id = add_prisoner()
    case = submitted_case(client, tokens["access_token"])
    officer = bearer(make_staff("officer")["access_token"])
    supervisor = bearer(make_staff("supervisor")["access_token"])
    checkpoint = bearer(make_staff("checkpoint")["access_token"])
    r = client.post(f"/v1/admin/cases/{case['id']}/link", json={"prisoner_id": prisoner_id},
                    headers=officer)
    assert r.status_code == 200, r.get_json()
    travel_body = {"kind": "travel", "valid_from": iso(hours(-1)),
                   "valid_until": iso(hours(72)), "entry_point": "Sumy"}
    path = f"/v1/admin/cases/{case['id']}/authorizations"
    r = client.post(path, json=travel_body, headers=officer)
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"  # not approved
    for staff in (officer, supervisor):
        r = client.post(f"/v1/admin/cases/{case['id']}/decisions",
                        json={"decision": "approve", "reason": "Consistent."}, headers=staff)
        assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "approved"

    travel = client.post(path, json=travel_body, headers=officer).get_json()
    handover = client.post("/v1/admin/handovers", headers=officer, json={
        "location": "Київ", "starts_at": iso(hours(-1)), "ends_at": iso(hours(2))}).get_json()
    pickup = client.post(path, json={"kind": "pickup", "handover_id": handover["id"]},
                         headers=officer).get_json()
    assert pickup["status"] == "active" and pickup["handover"]["id"] == handover["id"]
    assert outbox(email)[-1]["template"] == "authorization_issued_pickup"
    assert outbox(email)[-1]["language"] == "uk"

    keys = jwk.JWKSet.from_json(client.get("/.well-known/jwks.json").get_data(as_text=True))
    claims = jose_jwt.JWT(jwt=travel["token"], key=keys, algs=["EdDSA"],
                          check_claims={"aud": "kinpass-checkpoint"}).claims
    assert '"document_number":"751234567"' in claims.replace(" ", "")

    view = client.get(f"/v1/cases/{case['id']}", headers=mother).get_json()
    assert [a["id"] for a in view["authorizations"]] == [travel["id"], pickup["id"]]
    assert view["authorizations"][1]["handover"]["location"] == "Київ"
    staff_view = client.get(f"/v1/admin/cases/{case['id']}", headers=officer).get_json()
    assert [a["kind"] for a in staff_view["authorizations"]] == ["travel", "pickup"]
    qr = client.get(f"/v1/authorizations/{pickup['id']}/qr.png", headers=mother)
    assert qr.status_code == 200 and qr.data.startswith(b"\x89PNG")

    r = client.post("/v1/checkpoint/verify", json={"token": travel["token"]},
                    headers=checkpoint)
    assert r.get_json()["result"] == "valid"
    r = client.post("/v1/checkpoint/redeem", json={"token": pickup["token"]},
                    headers=checkpoint)
    assert r.status_code == 200, r.get_json()
    view = client.get(f"/v1/cases/{case['id']}", headers=mother).get_json()
    assert view["status"] == "completed" and view["status_history"][-1]["status"] == "completed"
    assert [a["status"] for a in view["authorizations"]] == ["expired", "redeemed"]
    r = client.post("/v1/checkpoint/verify", json={"token": travel["token"]},
                    headers=checkpoint)
    assert r.get_json()["result"] == "expired"  # the travel ends with the case
    prisoner = client.get(f"/v1/admin/prisoners/{prisoner_id}", headers=officer).get_json()
    assert prisoner["status"] == "released"
    assert outbox(email)[-1]["template"] == "case_completed"
    r = client.post(f"/v1/cases/{case['id']}/withdraw", headers=mother)
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"


def test_withdrawal_revokes_authorizations(client, register_relative, make_staff):
    _, _, tokens = register_relative()
    mother = bearer(tokens["access_token"])
    prisoner_id = add_prisoner()
    case = submitted_case(client, tokens["access_token"])
    officer = bearer(make_staff("officer")["access_token"])
    supervisor = bearer(make_staff("supervisor")["access_token"])
    client.post(f"/v1/admin/cases/{case['id']}/link", json={"prisoner_id": prisoner_id},
                headers=officer)
    for staff in (officer, supervisor):
        client.post(f"/v1/admin/cases/{case['id']}/decisions",
                    json={"decision": "approve", "reason": "Consistent."}, headers=staff)
    travel = client.post(f"/v1/admin/cases/{case['id']}/authorizations", headers=officer, json={
        "kind": "travel", "valid_from": iso(hours(-1)), "valid_until": iso(hours(9))}).get_json()
    r = client.post(f"/v1/cases/{case['id']}/withdraw", headers=mother)
    assert r.status_code == 200 and r.get_json()["authorizations"][0]["status"] == "revoked"
    revoked = client.get("/v1/authorizations/revocations").get_json()["revoked"]
    assert [e["id"] for e in revoked] == [travel["id"]]
