"""What an authenticated read costs the database on PostgreSQL: every round trip counted,
BEGIN and ROLLBACK included; a dead pooled connection is found on use, not pinged for."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from storage.db import read_engine
from tests.support.cases import open_case
from tests.support.http import bearer


@pytest.fixture
def pg_app(app):
    if app.extensions["kinpass"].engine.dialect.name != "postgresql":
        pytest.skip("round trips are counted on PostgreSQL")
    return app


@contextmanager
def round_trips(*engines):
    """Every statement sent, and every BEGIN, COMMIT and ROLLBACK the driver sends on its own
    (psycopg opens a transaction with a BEGIN of its own before the first statement)."""
    seen: list[str] = []

    def statement(_conn, _cursor, sql, *_args):
        seen.append(sql)

    def begun(conn):
        if not conn.connection.dbapi_connection.autocommit:
            seen.append("BEGIN")

    def ended(kind):
        return lambda conn: seen.append(kind) if conn.connection.dbapi_connection.info \
            .transaction_status != 0 else None

    listeners = [("before_cursor_execute", statement), ("begin", begun),
                 ("rollback", ended("ROLLBACK")), ("commit", ended("COMMIT"))]
    for engine in engines:
        for name, fn in listeners:
            event.listen(engine, name, fn)
    try:
        yield seen
    finally:
        for engine in engines:
            for name, fn in listeners:
                event.remove(engine, name, fn)


def test_a_case_read_is_two_round_trips(pg_app, client, register_relative):
    engine = pg_app.extensions["kinpass"].engine
    reader = read_engine(engine)
    assert reader is not None and not engine.pool._pre_ping and not reader.pool._pre_ping
    token = register_relative()[2]["access_token"]
    case = open_case(client, token)
    assert client.get(f"/v1/cases/{case['id']}", headers=bearer(token)).status_code == 200
    with round_trips(engine, reader) as seen:
        r = client.get(f"/v1/cases/{case['id']}", headers=bearer(token))
    assert r.status_code == 200 and r.get_json()["id"] == case["id"]
    assert len(seen) <= 2, seen
    with round_trips(engine, reader) as seen:
        assert client.get("/v1/me", headers=bearer(token)).status_code == 200
    assert len(seen) == 1, seen


def test_a_logout_is_seen_by_the_very_next_read(pg_app, client, register_relative):
    tokens = register_relative()[2]
    case = open_case(client, tokens["access_token"])
    assert client.get(f"/v1/cases/{case['id']}",
                      headers=bearer(tokens["access_token"])).status_code == 200
    assert client.post("/v1/auth/logout", headers=bearer(tokens["access_token"]),
                       json={"refresh_token": tokens["refresh_token"]}).status_code in (200, 204)
    r = client.get(f"/v1/cases/{case['id']}", headers=bearer(tokens["access_token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"


def test_connections_killed_under_the_pool_are_survived(pg_app, client, register_relative):
    """As after a database restart: every pooled connection is dead, none is pinged; the
    first request to meet one is run again once on a fresh connection and answers."""
    engine = pg_app.extensions["kinpass"].engine
    tokens = register_relative()[2]
    case = open_case(client, tokens["access_token"])
    for _ in range(2):
        assert client.get(f"/v1/cases/{case['id']}",
                          headers=bearer(tokens["access_token"])).status_code == 200
        with engine.connect() as conn:
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'")).scalar_one()
        assert killed >= 1
        r = client.get(f"/v1/cases/{case['id']}", headers=bearer(tokens["access_token"]))
        assert r.status_code == 200, r.get_json()
        r = client.post("/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
        assert r.status_code == 200, r.get_json()
        tokens = r.get_json()
    # Connections killed here and not met again stay in the pools: leave none to the teardown.
    for pool in (engine, read_engine(engine)):
        if pool is not None:
            pool.dispose()
