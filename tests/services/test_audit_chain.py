"""The chain: canonical form, tampering named by seq, the append-only trigger, fail-closed
writes, concurrent appenders, searchable hashes and signed checkpoints."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.audit import events as audit, reading as audit_reading
from services.audit.events import SYSTEM, record_event
from services.audit.reading import verify_chain
from services.core import runtime, unit_of_work
from storage.db import session as db
from storage.models import Account, AuditCheckpoint, AuditEvent, AuditHead
from tests.support.databases import owner_engine


def _append(n: int, action: str = "test.event") -> None:
    for i in range(n):
        record_event(action, SYSTEM, subject_type="thing", subject_id=f"id-{i}",
                     reason=f"reason {i}")
        unit_of_work.commit()
    db.remove()


def _is_pg() -> bool:
    return db().get_bind().dialect.name == "postgresql"


@contextlib.contextmanager
def _tampering():
    """The owner's connection, on which audit rows may be changed (PostgreSQL: trigger off)."""
    engine = owner_engine()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        yield conn
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    db.remove()


def _verify() -> audit_reading.ChainReport:
    report = verify_chain(db())
    db.remove()
    return report


def _reference_canonical(event: dict) -> bytes:
    body = {k: event[k] for k in ("seq", "actor_role", "action", "subject_type", "subject_id",
                                  "outcome", "reason", "request_id", "ip", "prev_hash")}
    if event["document_number_hmac"] is not None:
        body["document_number_hmac"] = event["document_number_hmac"]
    body["at"] = event["at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body["actor_id"] = str(event["actor_id"]) if event["actor_id"] else None
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_text = st.one_of(st.none(), st.text(max_size=40))


@settings(max_examples=300, deadline=None)
@given(seq=st.integers(1, 2**62), reason=_text, subject_id=_text, ip=_text, role=st.text(),
       at=st.datetimes(timezones=st.just(UTC)), actor=st.one_of(st.none(), st.uuids()),
       number=_text)
def test_fast_canonical_form_is_the_documented_json(seq, reason, subject_id, ip, role, at,
                                                      actor, number):
    event = {"seq": seq, "at": at, "actor_id": actor, "actor_role": role, "action": "a.b",
             "subject_type": "x\"\\\n\u2028", "subject_id": subject_id, "outcome": "success",
             "reason": reason, "document_number_hmac": number, "request_id": "r", "ip": ip,
             "prev_hash": "0" * 64}
    assert audit.canonical(event) == _reference_canonical(event)


def test_untouched_chain_verifies(app):
    _append(5)
    report = _verify()
    assert (report.ok, report.events, report.head_seq, report.first_bad_seq) == (True, 5, 5, None)
    head = db().get(AuditHead, 1)
    assert report.head_hash == head.hash
    last = db().get(AuditEvent, 5)
    assert last.hash == head.hash and last.prev_hash == db().get(AuditEvent, 4).hash


@pytest.mark.parametrize("sql, bad", [
    ("UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 3", 3),
    ("UPDATE audit_events SET actor_role = 'auditor' WHERE seq = 1", 1),
    ("DELETE FROM audit_events WHERE seq = 4", 4),
    ("DELETE FROM audit_events WHERE seq = 6", 6),
    ("UPDATE audit_events SET seq = -seq WHERE seq IN (2, 5)", 2),
])
def test_tampering_is_named_by_seq(app, sql, bad):
    _append(6)
    with _tampering() as conn:
        conn.execute(text(sql))
        if "-seq" in sql:  # reorder: rows 2 and 5 swap places
            conn.execute(text("UPDATE audit_events SET seq = 5 WHERE seq = -2"))
            conn.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = -5"))
    report = _verify()
    assert not report.ok and report.first_bad_seq == bad


def test_a_rehashed_row_breaks_the_next_link(app):
    _append(5)
    row = audit_reading.event_dict(db().get(AuditEvent, 2))
    row["reason"] = "rewritten"
    forged = audit.chain_hash(row["prev_hash"], row)
    db.remove()
    with _tampering() as conn:
        conn.execute(text("UPDATE audit_events SET reason = 'rewritten', hash = :h WHERE seq = 2"),
                     {"h": forged})
    assert _verify().first_bad_seq == 3


def _rewrite_suffix(conn, start: int) -> None:
    """A forger with write access recomputes every hash from ``start`` and the head."""
    rows = [dict(r._mapping) for r in conn.execute(
        select(*[getattr(AuditEvent, c) for c in audit_reading.EVENT_COLUMNS]).order_by(AuditEvent.seq))]
    prev = rows[start - 2]["hash"] if start > 1 else "0" * 64
    for row in rows[start - 1:]:
        row["prev_hash"] = prev
        if row["seq"] == start:
            row["reason"] = "forged"
        row["hash"] = prev = audit.chain_hash(prev, row)
        conn.execute(text("UPDATE audit_events SET reason = :r, prev_hash = :p, hash = :h "
                          "WHERE seq = :s"), {"r": row["reason"], "p": row["prev_hash"],
                                              "h": row["hash"], "s": row["seq"]})
    conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})


def test_a_rewritten_chain_is_caught_by_its_signed_checkpoint(app):
    _append(4)
    audit.checkpoint_now(SYSTEM)
    unit_of_work.commit()
    _append(2)
    with _tampering() as conn:
        _rewrite_suffix(conn, 2)
    assert _verify().ok  # the bare chain cannot tell ...
    report = audit_reading.verify_log(SYSTEM)
    db.remove()
    assert not report.ok and report.first_bad_seq == 4  # ... the signed head at seq 4 can


def test_truncating_the_tail_is_caught(app):
    _append(5)
    audit.checkpoint_now(SYSTEM)
    unit_of_work.commit()
    db.remove()
    with _tampering() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq >= 5"))
        last = conn.execute(text("SELECT hash FROM audit_events WHERE seq = 4")).scalar()
        conn.execute(text("UPDATE audit_head SET seq = 4, hash = :h"), {"h": last})
    assert _verify().ok
    report = audit_reading.verify_log(SYSTEM)
    db.remove()
    assert not report.ok and report.first_bad_seq == 5


def test_postgresql_refuses_update_and_delete(app):
    if not _is_pg():
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite relies on the chain")
    _append(2)
    engine = owner_engine()  # the trigger holds even for the owner
    for sql in ("UPDATE audit_events SET reason = 'x' WHERE seq = 1",
                "DELETE FROM audit_events WHERE seq = 2"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    assert _verify().ok and _verify().events == 2


@contextlib.contextmanager
def _audit_inserts_fail():
    """A database trigger that refuses every new audit row, as a full or broken log would."""
    engine = owner_engine()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql "
                              "AS $$ BEGIN RAISE EXCEPTION 'audit down'; END $$"))
            conn.execute(text("CREATE TRIGGER audit_down BEFORE INSERT ON audit_events "
                              "FOR EACH ROW EXECUTE FUNCTION audit_down()"))
        else:
            conn.execute(text("CREATE TRIGGER audit_down BEFORE INSERT ON audit_events "
                              "BEGIN SELECT RAISE(ABORT, 'audit down'); END"))
    try:
        yield
    finally:
        db.remove()
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_down" + (" ON audit_events"
                                                           if conn.dialect.name == "postgresql"
                                                           else "")))
            if conn.dialect.name == "postgresql":
                conn.execute(text("DROP FUNCTION audit_down()"))


def test_an_action_whose_event_cannot_be_written_does_not_happen(client, outbox):
    with _audit_inserts_fail():
        r = client.post("/v1/auth/register", json={
            "email": "silent@example.org", "password": "Kyiv-Reunion-2026",
            "full_name": "Мария Иванова"})
        assert r.status_code == 503 and r.get_json()["code"] == "service_unavailable"
        assert "audit" not in r.get_data(as_text=True)
        denied = client.get("/v1/me")
        assert denied.status_code == 503
    assert db().execute(select(Account)).first() is None
    assert outbox("silent@example.org") == []
    assert db().execute(select(AuditEvent)).first() is None
    db.remove()
    r = client.post("/v1/auth/register", json={
        "email": "silent@example.org", "password": "Kyiv-Reunion-2026",
        "full_name": "Мария Иванова"})
    assert r.status_code == 202 and _verify().ok


@pytest.mark.parametrize("threads, per_thread", [(8, 15)])
def test_concurrent_appends_never_fork_the_chain(app, threads, per_thread):
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                record_event("test.concurrent", SYSTEM, subject_id=f"{n}-{i}")
                if i % 3 == 0:
                    record_event("test.concurrent", SYSTEM, subject_id=f"{n}-{i}-b")
                unit_of_work.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            db.remove()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    expected = threads * (per_thread + len(range(0, per_thread, 3)))
    report = _verify()
    assert report.ok and report.events == expected
    subjects = db().execute(select(AuditEvent.subject_id)).scalars().all()
    assert len(set(subjects)) == expected


def test_checkpoints_are_made_every_n_events(app):
    rt = runtime.get()
    original = rt.settings
    rt.settings = dataclasses.replace(original, audit_checkpoint_events=3)
    try:
        _append(7)
    finally:
        rt.settings = original
    seqs = db().execute(select(AuditCheckpoint.seq).order_by(AuditCheckpoint.seq)).scalars()
    assert list(seqs) == [3, 6]
    head = db().get(AuditHead, 1)
    assert head.checkpoint_seq == 6 and db().get(AuditCheckpoint, 6).hash == \
        db().get(AuditEvent, 6).hash
    db.remove()
    report = audit_reading.verify_log(SYSTEM)
    assert report.ok and report.events == 7


def test_checkpoints_are_made_when_minutes_pass(app):
    _append(1)
    with db().get_bind().begin() as conn:
        conn.execute(text("UPDATE audit_head SET checkpoint_at = :t"),
                     {"t": datetime(2020, 1, 1, tzinfo=UTC)})
    _append(1)
    assert db().execute(select(AuditCheckpoint.seq)).scalars().all() == [2]


def test_searchable_hash_is_keyed_and_normalised(app):
    base = audit.searchable_hash("45 12 345678")
    assert base == audit.searchable_hash("4512345678") == audit.searchable_hash(" 4512-345678 ")
    assert audit.searchable_hash("l898902c3") == audit.searchable_hash("L898902C3")
    assert base != audit.searchable_hash("4512345679")
    assert len(base) == 64 and "4512345678" not in base
    rt = runtime.get()
    original = rt.pepper
    rt.pepper = b"another deployment"
    try:
        assert audit.searchable_hash("4512345678") != base
    finally:
        rt.pepper = original


@pytest.mark.parametrize("reason, kept, gone", [
    ("checking passport 4512 345678 against registry", "checking passport", "345678"),
    ("MRZ P<UTOERIKSSON<<ANNA<MARIA<<< seen", "seen", "ERIKSSON"),
    ("code 482913 sent", "sent", "482913"),
    ("token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl leaked", "leaked", "eyJ"),
    ("doc L898902C3 and case 3f2a1b4c-1111-2222-3333-123456789012 on 2026-03-02",
     "3f2a1b4c-1111-2222-3333-123456789012 on 2026-03-02", "L898902C3"),
    ("403 forbidden GET", "403 forbidden GET", None),
    ("passport 45.12.3456 seen", "passport", "3456"),
    ("certificate I-АБ/123/456 seen", "seen", "123"),
    ("number AB_123_456 seen", "seen", "456"),
    ("number 4512/34-56 seen", "seen", "4512"),
    ("line ERIKSSON<ANNA seen", "seen", "ERIKSSON"),
    ("line L898902C3<UTO7408 seen", "seen", "UTO7408"),
    ("fragment P<UTO seen", "seen", "UTO"),
    ("visit on 02.03.2026 and 2026-03-02 agreed", "02.03.2026 and 2026-03-02 agreed", None),
    ("counts 1 < 2 kept", "counts 1 < 2 kept", None),
])
def test_reasons_are_scrubbed_of_secrets(reason, kept, gone):
    clean = audit.scrub(reason)
    assert kept in clean
    if gone:
        assert gone not in clean and audit.REDACTED in clean
