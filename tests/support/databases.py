"""The database the suite runs on: SQLite by default, PostgreSQL when
KINPASS_TEST_DATABASE_URL names one; each xdist worker then gets databases of its own."""
from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import normalize_url

PG_URL = os.environ.get("KINPASS_TEST_DATABASE_URL")


def worker_name() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def fresh_database(suffix: str) -> str:
    """URL of an empty PostgreSQL database ``<db>_<suffix>``, dropped and created anew."""
    url = make_url(normalize_url(PG_URL))
    name = f"{url.database}_{suffix}".replace("-", "_")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)
