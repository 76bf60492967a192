"""App, client and database fixtures; the same suite runs on SQLite and on PostgreSQL.

Set KINPASS_TEST_DATABASE_URL=postgresql://user@host/db to run on PostgreSQL: each xdist
worker gets its own database, <db>_<worker>, created fresh for the session, laid out by that
URL's role (the owner) and served by a role that owns nothing (tests/support/databases.py).
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from sqlalchemy import text

from api.app import create_app
from services.core import runtime
from storage.db import bind_engine, session as db
from storage.migrate import stamp
from storage.models import Base
from tests.support.accounts import (
    PASSWORD,
    create_staff,
    outbox_messages,
    register_relative as register_relative_account,
)
from tests.support.databases import (
    PG_URL,
    fresh_database,
    lay_schema,
    owner_engine,
    server_role_url,
    worker_name,
)
from tests.support.http import closed_port_url as closed_port_url_of_loopback
from tests.support.s3 import moto_server


@pytest.fixture(scope="session")
def owner_database_url(tmp_path_factory) -> str:
    """The database as its owner reaches it (on SQLite, the one file everything opens)."""
    if PG_URL:
        return fresh_database(worker_name())
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'kinpass.db'}"


@pytest.fixture(scope="session")
def database_url(owner_database_url) -> str:
    """What the app connects with: on PostgreSQL the restricted server role."""
    return server_role_url(owner_database_url) if PG_URL else owner_database_url


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def base_config(data_dir, database_url) -> dict:
    return {"data_dir": str(data_dir), "database_url": database_url,
            "notifier": f"file:{data_dir / 'outbox.jsonl'}", "storage_url": "file://",
            "env": "development"}


@pytest.fixture(scope="session")
def app(base_config, owner_database_url, database_url):
    """The schema comes from the models here; tests/storage/test_migrations.py proves the
    Alembic migrations build the very same schema."""
    if PG_URL:
        lay_schema(owner_database_url, database_url)
    application = create_app(base_config)
    if not PG_URL:
        engine = application.extensions["kinpass"].engine
        Base.metadata.create_all(engine)
        stamp(engine)
    return application


@pytest.fixture(autouse=True)
def _fresh_state(request):
    """Each test starts with its session-wide app bound and every table empty."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    ext = application.extensions["kinpass"]
    runtime.install(ext.runtime)
    bind_engine(ext.engine)
    yield
    db.remove()
    bind_engine(ext.engine)
    runtime.install(ext.runtime)
    # The shared HMAC key stays, like the KEK file in the data dir: every app instance a
    # test makes must find the one the session's app already uses.
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)
              if t.name != "service_secrets"]
    with owner_engine(ext.engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            # The audit tables refuse TRUNCATE by trigger (and to the server's role by
            # privilege); the owner, a superuser here, sets triggers aside for this one
            # transaction.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
    db.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def outbox(data_dir):
    path = data_dir / "outbox.jsonl"
    path.write_text("")
    return lambda to=None: outbox_messages(path, to)


@pytest.fixture
def register_relative(client, outbox):
    """Register, verify and log in a relative; returns (login, password, tokens)."""
    counter = iter(range(10_000))

    def make(email: str | None = None, language: str = "ru", password: str = PASSWORD):
        email = email or f"mother{next(counter)}@example.org"
        tokens = register_relative_account(client, outbox, email, language=language,
                                           password=password)
        return email, password, tokens

    return make


@pytest.fixture
def make_staff(client):
    """Create a staff account through the service and log in with TOTP; returns tokens."""
    counter = iter(range(10_000))

    def make(role: str, email: str | None = None) -> dict:
        return create_staff(client, role, email or f"{role}{next(counter)}@kinpass.example")

    return make


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Endpoint URL of a moto server on 127.0.0.1 (free port), with fake credentials set."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_client(s3_server):
    return boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")


@pytest.fixture
def s3_bucket(s3_client) -> str:
    name = f"kinpass-test-{secrets.token_hex(6)}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def closed_port_url() -> str:
    """An http URL on loopback where nothing listens."""
    return closed_port_url_of_loopback()
