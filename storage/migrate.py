"""Alembic, driven from code: `kinpass serve` and the tests migrate the same way."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

import migrations

SCRIPT_DIR = Path(migrations.__file__).resolve().parent


def alembic_config(connection: object = None) -> Config:
    config = Config(str(SCRIPT_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(SCRIPT_DIR))
    config.attributes["connection"] = connection
    return config


class ForeignKeyViolationError(RuntimeError):
    """A migration left rows that point at nothing; it was rolled back."""


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # A pragma outside any transaction (it is a no-op inside one), on the driver's connection.
    connection.connection.driver_connection.execute(
        f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run the migrations to ``revision`` in one transaction.

    SQLite alters a table by rebuilding it (Alembic's batch mode), and with foreign keys on,
    dropping the old copy of a referenced table would delete, cascade or null what refers to
    it; so they are off while the migrations run and checked, all of them, before the commit.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.begin():
                step(alembic_config(connection), revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise ForeignKeyViolationError(f"migrating to {revision}")
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)


def stamp(engine: Engine, revision: str = "head") -> None:
    """Mark a schema built from the models as being at `revision`."""
    with engine.begin() as connection:
        command.stamp(alembic_config(connection), revision)
