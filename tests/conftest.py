"""App, client and database fixtures; the same suite runs on SQLite and on PostgreSQL.

Set KINPASS_TEST_DATABASE_URL=postgresql://user@host/db to run on PostgreSQL: each xdist
worker gets its own database, <db>_<worker>, created fresh for the session.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pyotp
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from services.core import runtime
from storage.db import bind_engine, normalize_url, session as db
from storage.migrate import stamp
from storage.models import Base

PG_URL = os.environ.get("KINPASS_TEST_DATABASE_URL")


def _worker_database(worker_id: str) -> str:
    url = make_url(normalize_url(PG_URL))
    name = f"{url.database}_{worker_id}".replace("-", "_")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if PG_URL:
        return _worker_database(os.environ.get("PYTEST_XDIST_WORKER", "main"))
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'kinpass.db'}"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def base_config(data_dir, database_url) -> dict:
    return {"data_dir": str(data_dir), "database_url": database_url,
            "notifier": f"file:{data_dir / 'outbox.jsonl'}", "storage_url": "file://",
            "env": "development"}


@pytest.fixture(scope="session")
def app(base_config):
    """The schema comes from the models here; tests/storage/test_migrations.py proves the
    Alembic migrations build the very same schema."""
    application = create_app(base_config)
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
    with ext.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
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

    def messages(to: str | None = None) -> list[dict]:
        lines = [json.loads(line) for line in path.read_text().splitlines() if line]
        return [m for m in lines if to is None or m["to"] == to]

    return messages


@pytest.fixture
def register_relative(client, outbox):
    """Register, verify and log in a relative; returns (login, password, tokens)."""
    counter = iter(range(10_000))

    def make(email: str | None = None, language: str = "ru", password: str = "Kyiv-Reunion-2026"):
        email = email or f"mother{next(counter)}@example.org"
        r = client.post("/v1/auth/register", json={
            "email": email, "password": password, "full_name": "Мария Иванова",
            "language": language})
        assert r.status_code == 202, r.get_json()
        code = outbox(email)[-1]["code"]
        assert client.post("/v1/auth/verify", json={"login": email, "code": code}).status_code == 200
        r = client.post("/v1/auth/login", json={"login": email, "password": password})
        assert r.status_code == 200, r.get_json()
        return email, password, r.get_json()

    return make


@pytest.fixture
def make_staff(client):
    """Create a staff account through the service and log in with TOTP; returns tokens."""
    from services.accounts import staff as accounts
    from services.audit.events import SYSTEM
    from services.core import unit_of_work

    counter = iter(range(10_000))

    def make(role: str, email: str | None = None) -> dict:
        email = email or f"{role}{next(counter)}@kinpass.example"
        created = accounts.create_staff(email=email, full_name=role.title(), role=role,
                                        actor=SYSTEM)
        unit_of_work.commit()
        db.remove()
        otp = pyotp.TOTP(created["totp_secret"]).now()
        r = client.post("/v1/auth/login", json={"login": email, "password": created["password"],
                                                "otp": otp})
        assert r.status_code == 200, r.get_json()
        return {**created, **r.get_json()}

    return make


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# A real S3/KMS-speaking server (moto's server mode) on loopback, reached with real boto3.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Endpoint URL of a moto server on 127.0.0.1 (free port), with fake credentials set."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAKE_AWS_ENV.items():
            mp.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
