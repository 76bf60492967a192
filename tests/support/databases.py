"""The database the suite runs on: SQLite by default, PostgreSQL when
KINPASS_TEST_DATABASE_URL names one; each xdist worker then gets databases of its own.

On PostgreSQL the app connects as it does in production: as a login role that owns nothing
(`<db>_server`), granted by storage.roles what the server needs, while the schema is laid by
the database's owner (the URL given). Tests that play the owner — a forger rewriting rows, the
cleanup between tests — take `owner_engine()`.
"""
from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from storage.db import make_engine, normalize_url, session as db
from storage.migrate import stamp
from storage.models import Base
from storage.roles import grant_server_role

PG_URL = os.environ.get("KINPASS_TEST_DATABASE_URL")

_OWNERS: dict[tuple[str | None, str | None], Engine] = {}


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


def server_role_url(owner_url: str) -> str:
    """The URL of ``owner_url``'s database for the login role ``<db>_server`` (created once
    per cluster; it owns nothing and holds no grant until `lay_schema`)."""
    url = make_url(owner_url)
    role = f"{url.database}_server"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                            {"r": role}).first():
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    admin.dispose()
    return url.set(username=role).render_as_string(hide_password=False)


def _key(url: URL) -> tuple[str | None, str | None]:
    return url.host, url.database


def lay_schema(owner_url: str, server_url: str) -> Engine:
    """Create the schema as the owner, as `kinpass migrate` would, and grant the server's role
    only what it needs; the owner's engine is what `owner_engine` gives afterwards."""
    owner = make_engine(owner_url)
    Base.metadata.create_all(owner)
    stamp(owner)
    with owner.begin() as connection:
        grant_server_role(connection, make_url(server_url).username or "")
    _OWNERS[_key(owner.url)] = owner
    return owner


def owner_engine(engine: Engine | None = None) -> Engine:
    """The owner's engine for the database ``engine`` (default: the bound session's) serves;
    on SQLite, and for databases laid otherwise, the engine itself."""
    if engine is None:
        engine = db().get_bind()
    return _OWNERS.get(_key(engine.url), engine)
