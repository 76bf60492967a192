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
