"""Revision 0007 gives audit events a document_number_hmac column; the events written before
it, with the number as a `[number …]` tag in their reason, still verify afterwards."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from services.audit.reading import verify_chain
from storage.db import UtcDateTime, make_engine
from storage.migrate import upgrade
from tests.support.databases import PG_URL, fresh_database

TAG = "[number " + "ab" * 32 + "]"


def _old_event(seq: int, prev: str, reason: str | None) -> dict:
    """An event as revision 0006's code wrote it: its hash over the twelve fields it had."""
    event = {"seq": seq, "at": f"2026-03-01T12:00:0{seq}.000000Z", "actor_id": None,
             "actor_role": "system", "action": "document.view", "subject_type": "document",
             "subject_id": "d", "outcome": "success", "reason": reason, "request_id": None,
             "ip": None, "prev_hash": prev}
    body = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    event["hash"] = hashlib.sha256(bytes.fromhex(prev) + body.encode()).hexdigest()
    return event


def test_events_written_before_the_column_still_verify(tmp_path):
    url = fresh_database("shape") if PG_URL else f"sqlite:///{tmp_path / 'shape.db'}"
    engine = make_engine(url)
    upgrade(engine, "0006")
    first = _old_event(1, "0" * 64, f"identity check {TAG}")
    second = _old_event(2, first["hash"], None)
    events = sa.table("audit_events", *(sa.column(c) for c in first if c != "at"),
                      sa.column("at", UtcDateTime()))
    with engine.begin() as conn:
        conn.execute(events.insert(), [
            {**e, "at": datetime.strptime(e["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)}
            for e in (first, second)])
        conn.execute(text("INSERT INTO audit_head (id, seq, hash, checkpoint_seq) "
                          "VALUES (1, 2, :h, 0)"), {"h": second["hash"]})
    upgrade(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("audit_events")}
    assert "document_number_hmac" in columns
    with Session(engine) as session:
        report = verify_chain(session)
        kept = session.execute(text("SELECT reason, document_number_hmac FROM audit_events "
                                    "ORDER BY seq")).all()
    assert (report.ok, report.events, report.first_bad_seq) == (True, 2, None)
    assert [tuple(row) for row in kept] == [(f"identity check {TAG}", None), (None, None)]
    engine.dispose()
