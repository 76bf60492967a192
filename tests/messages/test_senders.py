"""Senders: several at once never send one message twice at once; one killed mid-send
leaves the message to be sent again, once; the thread inside `kinpass serve` delivers."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from api.cli import main
from api.sender import deliver_due
from services.core import runtime, unit_of_work
from services.messages.delivery import BATCH, LEASE, claim_due
from services.messages.outbox import notify
from storage.db import session as db, utcnow
from storage.models.messages import OutboxMessage
from storage.vocabulary import MessageStatus
from tests.support.serving import serve_kinpass
from tests.support.statements import statements
from tests.support.webhooks import SECRET, Receiver

MESSAGES = 40
REDIS_URL = "redis://127.0.0.1:6379/14"


def _queue(count: int) -> None:
    for n in range(count):
        notify(f"+38044{n:07d}", "case_approved", "en", ref=f"R{n:04d}")
    unit_of_work.commit()
    db.remove()


def _statuses() -> Counter:
    statuses = Counter(db().scalars(select(OutboxMessage.status)))
    db().rollback()
    return statuses


def test_two_senders_never_send_one_message_twice(app, by_webhook):
    _queue(MESSAGES)
    barrier = threading.Barrier(3)
    failures: list[BaseException] = []

    def sender() -> None:
        barrier.wait()
        try:
            while deliver_due():
                pass
        except BaseException as exc:
            failures.append(exc)
        finally:
            db.remove()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures
    keys = Counter(got.headers["Idempotency-Key"] for got in by_webhook.received)
    assert len(keys) == MESSAGES and set(keys.values()) == {1}
    assert _statuses() == {MessageStatus.SENT: MESSAGES}


def test_a_claimed_message_is_not_claimed_again_until_its_lease_ends(app, by_webhook):
    _queue(1)
    now = utcnow()
    assert len(claim_due(now)) == 1
    unit_of_work.commit()
    assert claim_due(now + LEASE - timedelta(seconds=1)) == []
    assert len(claim_due(now + LEASE)) == 1
    unit_of_work.rollback()


def test_a_batch_is_claimed_in_one_statement_and_its_delivery_recorded_in_one(app, by_webhook):
    _queue(BATCH + 1)
    runtime.get().message_key()  # read once, then kept
    db.remove()
    engine = app.extensions["kinpass"].engine
    with statements(engine) as seen:
        claimed = claim_due()
    unit_of_work.rollback()
    assert len(claimed) == BATCH and all(message.payload for message in claimed)
    assert [s.split(None, 1)[0].upper() for s in seen if not s.startswith("BEGIN")] == ["UPDATE"]
    with statements(engine) as seen:
        assert deliver_due() == BATCH
    writes = [s for s in seen if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert len(writes) == 2  # the claim, and the batch marked sent
    assert _statuses() == {MessageStatus.SENT: BATCH, MessageStatus.QUEUED: 1}


def _sender_env(app, hook: Receiver) -> dict[str, str]:
    settings = app.extensions["kinpass"].settings
    env = {**os.environ, "KINPASS_DATA_DIR": settings.data_dir,
           "KINPASS_DATABASE_URL": settings.database_url, "KINPASS_ENV": "development",
           "KINPASS_NOTIFIER": "none", "KINPASS_SMS_WEBHOOK_URL": hook.url,
           "KINPASS_WEBHOOK_SECRET": SECRET}
    for name in ("KINPASS_REDIS_URL", "KINPASS_STORAGE_URL", "KINPASS_SMTP_URL"):
        env.pop(name, None)
    return env


def _kinpass() -> list[str]:
    command = Path(sys.executable).with_name("kinpass")
    return [str(command)] if command.exists() else [sys.executable, "-m", "api.cli"]


def test_a_sender_killed_mid_send_leaves_it_to_be_sent_once_more(app, by_webhook):
    _queue(1)
    by_webhook.answer("hang")
    sender = subprocess.Popen([*_kinpass(), "messages", "send"], env=_sender_env(app, by_webhook),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        assert len(by_webhook.wait_for(1)) == 1  # the gateway has it; no answer yet
    finally:
        os.killpg(sender.pid, signal.SIGKILL)
        sender.wait()
    (row,) = db().scalars(select(OutboxMessage))
    db().rollback()
    assert row.status == MessageStatus.QUEUED and row.attempts == 1
    assert deliver_due() == 0  # its lease still holds
    later = utcnow() + LEASE + timedelta(seconds=1)
    assert deliver_due(later) == 1
    assert deliver_due(later + timedelta(hours=1)) == 0
    keys = [got.headers["Idempotency-Key"] for got in by_webhook.received]
    assert keys == [str(row.id), str(row.id)]
    assert _statuses() == {MessageStatus.SENT: 1}


def test_kinpass_serve_delivers_with_its_own_sender(tmp_path, receiver):
    with serve_kinpass(tmp_path, KINPASS_SMS_WEBHOOK_URL=receiver.url,
                       KINPASS_WEBHOOK_SECRET=SECRET) as (base, *_):
        body = json.dumps({"phone": "+380501112233", "password": "Kyiv-Reunion-2026",
                           "full_name": "Марія Іваненко"}).encode()
        request = urllib.request.Request(base + "/v1/auth/register", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        (got,) = receiver.wait_for(1)
        assert got.signature_ok and got.json["to"] == "+380501112233"
        code = re.search(r"\b(\d{6})\b", got.json["text"]).group(1)
        verify = urllib.request.Request(
            base + "/v1/auth/verify", method="POST",
            data=json.dumps({"login": "+380501112233", "code": code}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(verify, timeout=10) as response:
            assert response.status == 200


def test_kinpass_worker_delivers_when_redis_is_configured(app, by_webhook, monkeypatch):
    redis = Redis.from_url(REDIS_URL)
    try:
        redis.ping()
    except RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    _queue(3)
    settings = app.extensions["kinpass"].settings
    for name, value in {"KINPASS_DATA_DIR": settings.data_dir,
                        "KINPASS_DATABASE_URL": settings.database_url,
                        "KINPASS_NOTIFIER": "none", "KINPASS_REDIS_URL": REDIS_URL,
                        "KINPASS_SMS_WEBHOOK_URL": by_webhook.url,
                        "KINPASS_WEBHOOK_SECRET": SECRET}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert len(by_webhook.received) == 3
    assert _statuses() == {MessageStatus.SENT: 3}
