"""Routes declared read-only: they answer while a writer holds the database, and their
refusals are still in the audit log."""
from __future__ import annotations

import threading
from itertools import pairwise

import pytest
from sqlalchemy import event, select

from services.audit.events import SYSTEM, record_event
from services.core import unit_of_work
from storage.db import ReadOnlyWriteError, session as db, set_read_only
from storage.models.audit import AuditEvent
from tests.support.cases import open_case, submitted_case
from tests.support.http import bearer


def test_only_get_routes_are_read_only(app):
    rules = [r for r in app.url_map.iter_rules()
             if getattr(app.view_functions[r.endpoint], "_kinpass_read_only", False)]
    assert {"/v1/cases/<uuid:case_id>", "/v1/me"} <= {r.rule for r in rules}
    assert all(r.methods - {"HEAD", "OPTIONS"} <= {"GET"} for r in rules), [r.rule for r in rules]


def test_revoked_token_on_a_read_only_route_is_audited(client, register_relative):
    _, _, tokens = register_relative()
    assert client.post("/v1/auth/logout", headers=bearer(tokens["access_token"]),
                       json={"refresh_token": tokens["refresh_token"]}).status_code in (200, 204)
    r = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"
    reasons = db().execute(select(AuditEvent.reason).where(
        AuditEvent.action == "access.denied")).scalars().all()
    assert "401 token_revoked GET" in reasons


AUDIT_TABLES = {"audit_head", "audit_events", "audit_tree_nodes", "audit_checkpoints",
                "audit_tree_heads", "audit_signing_keys"}


def _written_tables(statement: str) -> set[str]:
    words = statement.replace('"', " ").replace("(", " ").split()
    return {word for before, word in pairwise(words)
            if before.upper() in ("FROM", "JOIN", "INTO", "UPDATE") and word.islower()}


def test_a_staff_read_goes_the_write_way_only_to_log_itself(app, client, register_relative,
                                                             make_staff):
    """The officer queue and the case file read as read-only routes do (no write lock on
    SQLite, the read engine on PostgreSQL); the write transaction that follows is the
    append of the events that log the read, and nothing else."""
    engine = app.extensions["kinpass"].engine
    tokens = register_relative()[2]
    case = submitted_case(client, tokens["access_token"])
    officer = bearer(make_staff("officer")["access_token"])
    written: list[str] = []

    def seen(conn, _cursor, statement, *_args):
        if not conn.info.get("read_only"):  # PostgreSQL's reads go through another engine
            written.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        for url in ("/v1/admin/cases?limit=5", f"/v1/admin/cases/{case['id']}"):
            before = len(written)
            assert client.get(url, headers=officer).status_code == 200
            tables = set().union(*map(_written_tables, written[before:]))
            assert tables and tables <= AUDIT_TABLES, (url, written[before:])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    viewed = db().execute(select(AuditEvent.subject_id).where(
        AuditEvent.action == "case.view")).scalars().all()
    assert viewed == [case["id"], case["id"]]


def test_case_read_answers_while_a_writer_holds_sqlite(app, client, register_relative):
    engine = app.extensions["kinpass"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    _, _, tokens = register_relative()
    case = open_case(client, tokens["access_token"])
    writer = engine.connect()
    writer.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE: the write lock is held from here
    answers: list[int] = []
    reader = threading.Thread(target=lambda: answers.append(client.get(
        f"/v1/cases/{case['id']}", headers=bearer(tokens["access_token"])).status_code))
    try:
        reader.start()
        reader.join(timeout=10)
    finally:
        writer.rollback()
        writer.close()
    assert answers == [200]


def test_an_event_queued_in_a_read_only_unit_is_refused_not_lost(app):
    set_read_only(True)
    try:
        unit_of_work.end_read()  # nothing queued: nothing to say
        record_event("case.view", SYSTEM, subject_type="case")
        with pytest.raises(ReadOnlyWriteError):
            unit_of_work.end_read()
    finally:
        unit_of_work.rollback()
        db.remove()
        set_read_only(False)
