"""The witness: a real HTTP receiver on loopback gets every signed tree head, signed like the
message webhooks, and a head it refuses is sent again until it is accepted."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from services.audit import proofs, witness
from services.audit.events import SYSTEM, record_event
from services.core import unit_of_work
from services.core.settings import ConfigError, Settings
from storage.db import session as db, utcnow
from storage.models import AuditTreeHead, AuditWitnessReceipt

SECRET = "witness-test-secret"


class Receiver:
    """Answers each POST with the next status in ``statuses`` (then 200), keeping what came."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/heads"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(statuses: list[int]) -> Receiver:
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for item in made:
        item.close()


def _receipts() -> list[int]:
    ids = list(db().execute(select(AuditWitnessReceipt.head_id)).scalars())
    db.remove()
    return ids


def _wait_for_receipts(count: int) -> list[int]:
    deadline = time.monotonic() + 60
    while len(ids := _receipts()) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return ids


def _valid_signature(headers: dict, body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in headers["KinPass-Signature"].split(","))
    expected = hmac.new(SECRET.encode(), f"{parts['t']}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts["v1"], expected)


def _give_up_after(tries: int, waits: list[float]):
    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == tries:
            raise ConnectionAbortedError

    return sleep


def test_each_head_reaches_the_witness_signed_and_retried(deployment, receiver):
    witness_at = receiver([503, 500])
    deployment.start(audit_witness_url=witness_at.url, webhook_secret=SECRET)
    record_event("test.event", SYSTEM)
    unit_of_work.commit()
    head = proofs.new_tree_head(SYSTEM)
    unit_of_work.commit()
    db.remove()
    (head_id,) = _wait_for_receipts(1)
    assert len(witness_at.received) == 3  # two refusals, then accepted
    for headers, body in witness_at.received:
        assert json.loads(body) == head
        assert headers["Idempotency-Key"] == f"audit-tree-head-{head_id}"
        assert _valid_signature(headers, body)
    assert not _valid_signature(witness_at.received[0][0], body.replace(b"1", b"2"))


def test_a_head_the_witness_never_got_is_sent_by_the_next_round(deployment, receiver,
                                                                closed_port_url):
    rt = deployment.start(audit_witness_url=closed_port_url, webhook_secret=SECRET)
    engine = db().get_bind()
    db().add(AuditTreeHead(tree_size=0, root_hash="00" * 32, at=utcnow(), kid="k", jws="a.b.c"))
    db().commit()
    db.remove()
    waits: list[float] = []
    with pytest.raises(ConnectionAbortedError):  # the witness is down: it is tried again
        witness.deliver_pending(engine, rt.settings, sleep=_give_up_after(3, waits))
    assert waits == [1.0, 2.0, 4.0] and _receipts() == []
    witness_at = receiver([])
    later = dataclasses.replace(rt.settings, audit_witness_url=witness_at.url)
    assert witness.deliver_pending(engine, later, sleep=lambda _: None) == 1
    assert len(_receipts()) == 1 and len(witness_at.received) == 1
    assert witness.deliver_pending(engine, later, sleep=lambda _: None) == 0


def test_production_refuses_a_witness_without_a_signing_secret():
    settings = Settings(env="production", database_url="postgresql://db/kinpass", kek="k:x",
                        jwt_secret="s" * 32, audit_witness_url="https://witness.example/heads",
                        storage_url="s3://kinpass", issuer="https://kinpass.gov.example",
                        metrics_token="m" * 32, notifier="none")
    with pytest.raises(ConfigError, match="KINPASS_WEBHOOK_SECRET"):
        settings.check_production()
    dataclasses.replace(settings, webhook_secret=SECRET).check_production()
