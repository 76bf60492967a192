"""What every `kinpass` command shares: the runtime from the environment (a configuration it
cannot start with is one line per problem on stderr and exit 2), migrating as the schema's
owner, one unit of work per command, JSON out."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from services.authorizations.sealing import seal_clear_tokens
from services.bootstrap import build_runtime
from services.core import unit_of_work
from services.core.runtime import Runtime
from services.core.settings import ConfigError, Settings
from storage.db import make_engine
from storage.domain_errors import KinPassError
from storage.migrate import upgrade
from storage.roles import grant_server_role, owns_audit_tables

log = logging.getLogger("kinpass.cli")


def load_runtime(*, create: bool = False) -> tuple[Engine, Runtime]:
    """The runtime from the environment; a configuration it cannot start with is one line on
    stderr per problem and exit 2, not a traceback. Only ``serve`` and ``migrate`` may
    create the data directory: any other command run from the wrong directory would
    otherwise make a second one, with keys of its own."""
    try:
        settings = Settings.from_env()
        settings.check_production()
        data_dir = Path(settings.data_dir).resolve()
        if not create and not data_dir.is_dir():
            raise ConfigError(f"no data directory at {data_dir} (KINPASS_DATA_DIR): run this "
                              "where the server runs, or set KINPASS_DATA_DIR")
        return build_runtime(settings)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(json.dumps({"error": problem}), err=True)
        sys.exit(2)
    except ValueError as exc:
        click.echo(json.dumps({"error": str(exc)}), err=True)
        sys.exit(2)


def migrate_as_owner(engine: Engine, settings: Settings) -> None:
    """Migrate as the schema's owner: with KINPASS_MIGRATION_DATABASE_URL on PostgreSQL, the
    owner's URL migrates and then grants the server's role only what it needs. Then, as the
    server, seal what a migration cannot (it holds no KEK): tokens issued before sealing."""
    _upgrade_as_owner(engine, settings)
    sealed = run_once(seal_clear_tokens)
    if sealed:
        log.info("sealed %d authorization tokens kept in clear", sealed)


def _upgrade_as_owner(engine: Engine, settings: Settings) -> None:
    if not settings.migration_database_url:
        upgrade(engine)
        if engine.dialect.name == "postgresql" and owns_audit_tables(engine):
            log.warning("the server's database role owns the audit tables: set "
                        "KINPASS_MIGRATION_DATABASE_URL to the owner and KINPASS_DATABASE_URL "
                        "to a role that owns nothing")
        return
    owner = make_engine(settings.migration_database_url)
    try:
        upgrade(owner)
        if owner.dialect.name == "postgresql":
            with owner.begin() as connection:
                grant_server_role(connection, engine.url.username or "")
    finally:
        owner.dispose()


def emit(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str, indent=2))


def run_once(use_case: Any) -> Any:
    """One command, one commit point; a domain refusal prints its code and exits 1."""
    try:
        result = use_case()
        unit_of_work.commit()
        return result
    except KinPassError as exc:
        unit_of_work.rollback()
        click.echo(json.dumps({"code": exc.code, "errors": exc.errors}, default=str), err=True)
        sys.exit(1)
