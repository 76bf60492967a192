"""The database a benchmark runs on: SQLite in its data dir, or a fresh PostgreSQL one
named by KINPASS_BENCH_DATABASE_URL."""
from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import normalize_url


def bench_database(data_dir: str) -> str:
    url = os.environ.get("KINPASS_BENCH_DATABASE_URL")
    if not url:
        return f"sqlite:///{data_dir}/bench.db"
    parsed = make_url(normalize_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return parsed.render_as_string(hide_password=False)


AUDIT_TABLES = ("audit_witness_receipts", "audit_tree_heads", "audit_checkpoints",
                "audit_tree_nodes", "audit_events", "audit_head")


def clear_audit(engine) -> None:
    """Empty the audit tables between rounds (on PostgreSQL their append-only triggers are
    set aside for this one transaction, as the bench's superuser may)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in AUDIT_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
