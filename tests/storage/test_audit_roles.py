"""Least privilege on PostgreSQL: `kinpass migrate` with KINPASS_MIGRATION_DATABASE_URL
migrates as the owner and leaves the server's role able to append to the audit tables and
read them, and to do nothing else to them; the suite's own app is served by such a role."""
from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from api.cli import main as cli
from storage.db import normalize_url
from storage.models.audit import APPEND_ONLY_TABLES
from storage.roles import owns_audit_tables
from tests.support.databases import PG_URL, fresh_database, owner_engine

pytestmark = pytest.mark.skipif(not PG_URL, reason="database roles are PostgreSQL's")


@pytest.fixture
def restricted(tmp_path, monkeypatch):
    """A database of its own, migrated by the CLI as the owner for a login role that owns
    nothing; yields (owner engine, server engine)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    owner_url = fresh_database(f"roles_{worker}")
    role = make_url(owner_url).database + "_server"
    owner = create_engine(normalize_url(owner_url), isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
            conn.execute(text(f'DROP OWNED BY "{role}"'))
        else:
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    server_url = make_url(owner_url).set(username=role).render_as_string(hide_password=False)
    monkeypatch.setenv("KINPASS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KINPASS_DATABASE_URL", server_url)
    monkeypatch.setenv("KINPASS_MIGRATION_DATABASE_URL", owner_url)
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    server = create_engine(normalize_url(server_url))
    yield owner, server
    server.dispose()
    owner.dispose()


def test_the_server_role_appends_and_reads_but_cannot_rewrite(restricted):
    owner, server = restricted
    with server.begin() as conn:  # what a request does: append, read, move the head
        conn.execute(text("INSERT INTO audit_tree_nodes (level, idx, hash) "
                          "VALUES (0, 0, '\\x00'::bytea)"))
        assert conn.execute(text("SELECT count(*) FROM audit_tree_nodes")).scalar() == 1
        conn.execute(text("INSERT INTO audit_head (id, seq, hash, checkpoint_seq) "
                          "VALUES (1, 0, 'x', 0)"))
        conn.execute(text("UPDATE audit_head SET seq = 1"))
        conn.execute(text("UPDATE accounts SET status = status"))
    columns = {"audit_events": "reason", "audit_checkpoints": "hash", "audit_tree_nodes": "hash",
               "audit_tree_heads": "root_hash", "audit_witness_receipts": "accepted_at"}
    assert set(columns) == set(APPEND_ONLY_TABLES)
    for table, column in columns.items():
        for sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}",
                    f"TRUNCATE {table}", f"ALTER TABLE {table} DISABLE TRIGGER ALL",
                    f"DROP TRIGGER {table}_no_truncate ON {table}"):
            with pytest.raises(DBAPIError, match=r"permission denied|must be owner"), \
                    server.begin() as conn:
                conn.execute(text(sql))
    with owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_tree_nodes")).scalar() == 1
        owned = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                                  "AND tableowner = :r"),
                             {"r": server.url.username}).scalar()
        assert owned == 0


def test_the_suite_serves_as_a_role_that_cannot_rewrite_the_log(app):
    """The whole PostgreSQL suite runs the app as the restricted role, as production does."""
    server = app.extensions["kinpass"].engine
    owner = owner_engine(server)
    assert server.url.username != owner.url.username
    assert not owns_audit_tables(server)
    columns = {"audit_events": "reason", "audit_checkpoints": "hash", "audit_tree_nodes": "hash",
               "audit_tree_heads": "root_hash", "audit_witness_receipts": "accepted_at"}
    for table, column in columns.items():
        for sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}",
                    f"TRUNCATE {table}", f"ALTER TABLE {table} DISABLE TRIGGER USER"):
            with pytest.raises(DBAPIError, match=r"permission denied|must be owner"), \
                    server.begin() as conn:
                conn.execute(text(sql))
    with server.begin() as conn:
        conn.execute(text("INSERT INTO audit_tree_nodes (level, idx, hash) "
                          "VALUES (0, 0, '\\x00'::bytea)"))
        assert conn.execute(text("SELECT count(*) FROM audit_tree_nodes")).scalar() == 1
