"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Base
from tests.conftest import PG_URL, _worker_database


def _fresh_engine(tmp_path):
    if PG_URL:
        return make_engine(_worker_database("migrations"))
    return make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")


def test_migrations_match_models(tmp_path):
    engine = _fresh_engine(tmp_path)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(tmp_path):
    engine = _fresh_engine(tmp_path)
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
