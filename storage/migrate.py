"""Alembic, driven from code: `kinpass serve` and the tests migrate the same way."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

import migrations

SCRIPT_DIR = Path(migrations.__file__).resolve().parent


def alembic_config(connection: object = None) -> Config:
    config = Config(str(SCRIPT_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(SCRIPT_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def stamp(engine: Engine, revision: str = "head") -> None:
    """Mark a schema built from the models as being at `revision`."""
    with engine.begin() as connection:
        command.stamp(alembic_config(connection), revision)
