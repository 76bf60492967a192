"""Which database failures are the dependency's (503 database_unavailable) and which are a
bug in a statement (500 internal_error): classified from real driver errors."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from api.errors import _connection_problem
from storage.db import make_engine


def _error(engine, statement: str) -> OperationalError:
    with pytest.raises(OperationalError) as caught, engine.connect() as conn:
        conn.execute(text(statement))
    return caught.value


def test_a_missing_table_is_a_bug_not_an_outage(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert not _connection_problem(_error(engine, "SELECT * FROM no_such_table"))


def test_a_locked_sqlite_database_is_an_outage(tmp_path):
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        assert _connection_problem(_error(engine, "SELECT * FROM t"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_an_unreachable_postgresql_is_an_outage():
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/x",
                           connect_args={"connect_timeout": 2})
    assert _connection_problem(_error(engine, "SELECT 1"))


def test_a_postgresql_statement_timeout_is_an_outage(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    engine = make_engine(database_url)
    with pytest.raises(OperationalError) as caught, engine.connect() as conn:
        conn.execute(text("SET statement_timeout = 10"))
        conn.execute(text("SELECT pg_sleep(1)"))
    assert caught.value.orig.sqlstate == "57014"
    assert _connection_problem(caught.value)
    engine.dispose()
