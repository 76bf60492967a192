"""A deployment of its own for tests that change keys: a fresh data dir and an empty
database (SQLite, or a PostgreSQL database of its own), so the session's app never sees it.
"""
from __future__ import annotations

import os

import pytest

from services.bootstrap import build_runtime
from services.core import runtime
from services.core.settings import Settings
from storage.db import session as db
from storage.models import Base
from tests.support.databases import PG_URL, fresh_database


class Deployment:
    """Start an instance with ``start(**settings)``: each start is a new process's runtime
    on the same database and data dir, installed as the current one."""

    def __init__(self, data_dir: str, database_url: str) -> None:
        self.data_dir, self.database_url = data_dir, database_url
        self.engines: list = []

    def start(self, **overrides) -> runtime.Runtime:
        db.remove()
        settings = Settings.from_env({"data_dir": self.data_dir,
                                      "database_url": self.database_url,
                                      "storage_url": "file://", "notifier": "log",
                                      "env": "development", **overrides})
        engine, rt = build_runtime(settings)
        if not self.engines:
            Base.metadata.create_all(engine)
        self.engines.append(engine)
        return rt


@pytest.fixture
def deployment(app, tmp_path):
    """Asks for ``app`` so the session's runtime and engine are put back afterwards."""
    if PG_URL:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = fresh_database(f"isolated_{worker}")
    else:
        url = f"sqlite:///{tmp_path / 'isolated.db'}"
    deployment = Deployment(str(tmp_path / "data"), url)
    yield deployment
    db.remove()
    for engine in deployment.engines:
        engine.dispose()
