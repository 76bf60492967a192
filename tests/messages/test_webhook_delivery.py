"""SMS and push through signed webhooks to a real HTTP receiver on loopback: retries with
the same idempotency key, refusals, a hanging or absent gateway, and devices."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.sender import deliver_due
from services.core import unit_of_work
from services.maintenance.gc import collect_garbage
from services.messages.delivery import GIVE_UP_AFTER
from services.messages.templates import PUSH_TEXT
from storage import webhooks
from storage.db import session as db, utcnow
from storage.models.messages import Device, OutboxMessage
from storage.vocabulary import MessageChannel, MessageStatus
from tests.support.cases import submitted_case

PHONE = "+380441234567"
PASSWORD = "Kyiv-Reunion-2026"


def _register_phone(client, phone: str = PHONE) -> None:
    r = client.post("/v1/auth/register", json={"phone": phone, "password": PASSWORD,
                                               "full_name": "Марія Іваненко",
                                               "language": "ru"})
    assert r.status_code == 202, r.get_json()


def _rows(channel: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.created_at)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    rows = list(db().scalars(query))
    db().rollback()
    return rows


def test_registration_by_phone_delivers_a_working_code(client, by_webhook):
    _register_phone(client)
    assert deliver_due() == 1
    (got,) = by_webhook.received
    assert got.signature_ok
    body = got.json
    (row,) = _rows()
    assert set(body) == {"id", "channel", "to", "template", "language", "text", "created_at"}
    assert (body["id"], body["channel"], body["to"], body["template"], body["language"]) == (
        str(row.id), "sms", PHONE, "verification_code", "ru")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])
    assert got.headers["Idempotency-Key"] == str(row.id)
    assert got.headers["Content-Type"] == "application/json"
    code = re.search(r"\b(\d{6})\b", body["text"]).group(1)
    r = client.post("/v1/auth/verify", json={"login": PHONE, "code": code})
    assert r.status_code == 200, r.get_json()
    assert row.status == MessageStatus.SENT and row.payload_sealed is None


def test_503_twice_then_200_sends_once_more_each_time_with_the_same_key(client, by_webhook):
    by_webhook.answer(503, 503)
    _register_phone(client)
    now = utcnow()
    deliver_due(now)
    assert len(by_webhook.received) == 1
    (row,) = _rows()
    assert row.status == MessageStatus.QUEUED and row.last_error == "the gateway answered 503"
    assert row.next_attempt_at - now <= timedelta(seconds=10)
    deliver_due(now)  # not due yet: nothing is sent
    assert len(by_webhook.received) == 1
    deliver_due(now + timedelta(seconds=10))
    assert len(by_webhook.received) == 2
    deliver_due(now + timedelta(minutes=5))
    assert len(by_webhook.received) == 3
    deliver_due(now + timedelta(hours=2))
    assert len(by_webhook.received) == 3  # delivered: never again
    assert {got.headers["Idempotency-Key"] for got in by_webhook.received} == {str(row.id)}
    assert len({got.body for got in by_webhook.received}) == 1
    (row,) = _rows()
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.SENT, 3, None)


def test_messages_to_one_gateway_go_over_one_kept_alive_connection(client, by_webhook):
    by_webhook.keep_alive = True
    for phone in (PHONE, "+380441234568", "+380441234569"):
        _register_phone(client, phone)
        assert deliver_due() == 1
    assert len({got.client_port for got in by_webhook.received}) == 1
    assert [row.status for row in _rows()] == [MessageStatus.SENT] * 3


def test_a_connection_the_gateway_dropped_is_tried_once_afresh(client, by_webhook):
    by_webhook.keep_alive = by_webhook.drop_idle = True
    for phone in (PHONE, "+380441234568", "+380441234569"):
        _register_phone(client, phone)
        assert deliver_due() == 1
    keys = [got.headers["Idempotency-Key"] for got in by_webhook.received]
    assert sorted(keys) == sorted(str(row.id) for row in _rows())  # each once
    assert len({got.client_port for got in by_webhook.received}) == 3
    assert [row.status for row in _rows()] == [MessageStatus.SENT] * 3


@pytest.mark.parametrize("status", [408, 429, 500, 502])
def test_statuses_worth_another_try(client, by_webhook, status):
    by_webhook.answer(status)
    _register_phone(client)
    deliver_due()
    (row,) = _rows()
    assert row.status == MessageStatus.QUEUED and str(status) in row.last_error


def test_a_400_fails_it_at_once_with_the_reason(client, by_webhook):
    by_webhook.answer((400, {"reason": "number not reachable"}))
    _register_phone(client)
    now = utcnow()
    deliver_due(now)
    deliver_due(now + timedelta(hours=1))
    assert len(by_webhook.received) == 1
    (row,) = _rows()
    assert row.status == MessageStatus.FAILED and row.payload_sealed is None
    assert row.last_error == "the gateway answered 400: number not reachable"


def test_a_wrong_secret_is_refused_by_the_gateway(client, configure, receiver):
    configure(sms_webhook_url=receiver.url, webhook_secret="not-the-receivers-secret")
    _register_phone(client)
    deliver_due()
    assert not receiver.received[0].signature_ok
    (row,) = _rows()
    assert row.status == MessageStatus.FAILED and "bad signature" in row.last_error


def test_a_hanging_gateway_is_retried(client, by_webhook, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    by_webhook.answer("hang")
    _register_phone(client)
    now = utcnow()
    deliver_due(now)
    (row,) = _rows()
    assert row.status == MessageStatus.QUEUED
    assert row.last_error == "the gateway did not answer in time"
    deliver_due(now + timedelta(seconds=10))
    assert _rows()[0].status == MessageStatus.SENT


def test_a_refused_connection_is_retried_then_failed_after_24_hours(client, configure,
                                                                   closed_port_url):
    configure(sms_webhook_url=closed_port_url + "/hook", webhook_secret="s" * 32)
    _register_phone(client)
    now = utcnow()
    deliver_due(now)
    (row,) = _rows()
    assert row.status == MessageStatus.QUEUED and "unreachable" in row.last_error
    deliver_due(now + timedelta(hours=3))
    assert _rows()[0].status == MessageStatus.QUEUED
    deliver_due(now + GIVE_UP_AFTER + timedelta(minutes=1))
    (row,) = _rows()
    assert row.status == MessageStatus.FAILED and row.payload_sealed is None
    assert row.last_error.startswith("gave up after 24 h: the gateway is unreachable")
    assert row.attempts == 3


def test_a_channel_without_a_gateway_is_failed_and_keeps_no_text(client, outbox):
    _register_phone(client)
    (row,) = _rows()
    assert row.status == MessageStatus.FAILED and row.payload_sealed is None
    assert "KINPASS_SMS_WEBHOOK_URL" in row.last_error
    assert outbox(PHONE)[-1]["code"]  # the development copy still has it


def test_push_goes_to_each_device_without_personal_data(client, by_webhook, register_relative):
    email, _, tokens = register_relative(language="uk")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    for token in ("fcm-token-1", "fcm-token-2"):
        r = client.post("/v1/me/devices", json={"platform": "fcm", "token": token},
                        headers=auth)
        assert r.status_code == 201, r.get_json()
    by_webhook.answer((400, {"reason": "unregistered token"}))
    submitted_case(client, tokens["access_token"])
    pushes = _rows(MessageChannel.PUSH)
    assert len(pushes) >= 2
    deliver_due()
    got = [r.json for r in by_webhook.received if r.json["channel"] == "push"]
    assert {g["to"] for g in got} == {"fcm-token-1", "fcm-token-2"}
    assert {g["text"] for g in got} == {PUSH_TEXT["uk"]}
    assert all(email not in r.body.decode() for r in by_webhook.received)
    remaining = list(db().scalars(select(Device.token)))
    assert len(remaining) == 1  # the token the gateway called dead is gone


def test_gc_forgets_delivery_state_after_the_retention_period(app, client, by_webhook):
    _register_phone(client)
    _register_phone(client, "+380441234568")
    by_webhook.answer(200, 503)
    deliver_due()
    assert sorted(row.status for row in _rows()) == [MessageStatus.QUEUED, MessageStatus.SENT]
    days = app.extensions["kinpass"].settings.retention_days
    assert collect_garbage(now=utcnow())["messages_forgotten"] == 0
    report = collect_garbage(now=utcnow() + timedelta(days=days, hours=1))
    unit_of_work.commit()
    assert report["messages_forgotten"] == 1
    assert [row.status for row in _rows()] == [MessageStatus.QUEUED]  # still to be delivered
