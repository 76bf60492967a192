"""The contract's routes around messages: devices, delivery state for officers, the
relative's `info_request`; metrics and readiness while a gateway is down."""
from __future__ import annotations

import uuid

from api.app import create_app
from api.sender import deliver_due
from tests.support.cases import BIRTH_CERTIFICATE, add_document, submitted_case
from tests.support.http import bearer

REASON = "Фотография свидетельства размыта, загрузите её ещё раз."


def _request_info(client, officer: str, case_id: str):
    r = client.post(f"/v1/admin/cases/{case_id}/decisions", headers=bearer(officer),
                    json={"decision": "request_info", "reason": REASON,
                          "requested_documents": ["birth_certificate"]})
    assert r.status_code == 201, r.get_json()
    return r


def test_devices_register_list_delete(client, register_relative):
    token = register_relative()[2]["access_token"]
    other = register_relative()[2]["access_token"]
    r = client.post("/v1/me/devices", json={"platform": "apns", "token": "a" * 64},
                    headers=bearer(token))
    assert r.status_code == 201
    device = r.get_json()
    assert set(device) == {"id", "platform", "created_at"} and device["platform"] == "apns"
    again = client.post("/v1/me/devices", json={"platform": "apns", "token": "a" * 64},
                        headers=bearer(token))
    assert again.status_code == 201 and again.get_json()["id"] == device["id"]
    listed = client.get("/v1/me/devices", headers=bearer(token)).get_json()
    assert listed == {"items": [device], "next_cursor": None}
    assert client.get("/v1/me/devices", headers=bearer(other)).get_json()["items"] == []
    assert client.delete(f"/v1/me/devices/{device['id']}",
                         headers=bearer(other)).status_code == 404
    assert client.delete(f"/v1/me/devices/{uuid.uuid4()}",
                         headers=bearer(token)).status_code == 404
    assert client.delete(f"/v1/me/devices/{device['id']}",
                         headers=bearer(token)).status_code == 204
    assert client.get("/v1/me/devices", headers=bearer(token)).get_json()["items"] == []


def test_devices_refuse_bad_input(client, register_relative, make_staff):
    token = register_relative()[2]["access_token"]
    for body in ({"platform": "sms", "token": "x"}, {"platform": "fcm", "token": ""},
                 {"platform": "fcm", "token": "x" * 513}, {"platform": "fcm"},
                 {"platform": "fcm", "token": "bad token"},
                 {"platform": "fcm", "token": "x", "extra": 1}):
        r = client.post("/v1/me/devices", json=body, headers=bearer(token))
        assert r.status_code == 400 and r.get_json()["code"] == "validation_error", body
    assert client.get("/v1/me/devices", headers=bearer(token)).get_json()["items"] == []
    officer = make_staff("officer")["access_token"]
    r = client.post("/v1/me/devices", json={"platform": "fcm", "token": "x"},
                    headers=bearer(officer))
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    assert client.get("/v1/me/devices").status_code == 401


def test_officers_see_delivery_state_never_the_text(client, register_relative, make_staff,
                                                    outbox):
    email, _, tokens = register_relative()
    case = submitted_case(client, tokens["access_token"])
    officer = make_staff("officer")["access_token"]
    _request_info(client, officer, case["id"])
    r = client.get(f"/v1/admin/cases/{case['id']}/messages", headers=bearer(officer))
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert [item["template"] for item in items] == [
        "case_submitted", "case_in_review", "case_info_requested"]
    for item in items:
        assert set(item) == {"id", "channel", "template", "status", "attempts", "created_at",
                             "sent_at", "last_error"}
        assert item["channel"] == "email" and item["status"] == "failed"  # no SMTP here
    assert REASON not in r.get_data(as_text=True) and email not in r.get_data(as_text=True)
    relative = bearer(tokens["access_token"])
    assert client.get(f"/v1/admin/cases/{case['id']}/messages",
                      headers=relative).status_code == 403
    assert client.get(f"/v1/admin/cases/{uuid.uuid4()}/messages",
                      headers=bearer(officer)).status_code == 404


def test_delivery_state_follows_the_gateway(client, register_relative, make_staff,
                                            by_email, inbox):
    email, _, tokens = register_relative()
    case = submitted_case(client, tokens["access_token"])
    officer = make_staff("officer")["access_token"]
    url = f"/v1/admin/cases/{case['id']}/messages"
    assert {i["status"] for i in client.get(url, headers=bearer(officer)).get_json()["items"]} \
        == {"queued"}
    deliver_due()
    items = client.get(url, headers=bearer(officer)).get_json()["items"]
    assert {(i["status"], i["attempts"]) for i in items} == {("sent", 1)}
    assert all(i["sent_at"] for i in items)
    assert len(inbox.to(email)) == len(items) + 1  # and the verification code


def test_the_relative_sees_why_information_is_requested(client, register_relative, make_staff):
    token = register_relative()[2]["access_token"]
    case = submitted_case(client, token)
    assert case["info_request"] is None
    officer = make_staff("officer")["access_token"]
    _request_info(client, officer, case["id"])
    mine = client.get(f"/v1/cases/{case['id']}", headers=bearer(token)).get_json()
    assert mine["info_request"]["reason"] == REASON
    assert mine["info_request"]["requested_documents"] == ["birth_certificate"]
    assert mine["info_request"]["at"].endswith("Z")
    listed = client.get("/v1/cases", headers=bearer(token)).get_json()["items"]
    assert listed[0]["info_request"] == mine["info_request"]
    add_document(case["id"], "birth_certificate", fields=BIRTH_CERTIFICATE)
    r = client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    assert r.status_code == 202 and r.get_json()["info_request"] is None


def test_a_gateway_down_keeps_ready_and_shows_in_the_metrics(base_config, closed_port_url,
                                                             make_staff):
    app = create_app({**base_config, "metrics_token": "scrape-secret-789",
                      "sms_webhook_url": closed_port_url + "/hook",
                      "webhook_secret": "s" * 32})
    client = app.test_client()
    r = client.post("/v1/auth/register", json={"phone": "+380441230000",
                                               "password": "Kyiv-Reunion-2026",
                                               "full_name": "Марія"})
    assert r.status_code == 202
    deliver_due()
    assert client.get("/readyz").status_code == 200
    text = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-789"}
                      ).get_data(as_text=True)
    assert "kinpass_outbox_queued 1.0" in text
    assert 'kinpass_outbox_messages{channel="sms",status="queued"} 1.0' in text
    age = [line for line in text.splitlines()
           if line.startswith("kinpass_outbox_oldest_queued_age_seconds ")]
    assert len(age) == 1 and float(age[0].split()[1]) >= 0
    assert "+380441230000" not in text
