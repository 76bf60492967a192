"""The `kinpass` command: serve, staff, keys, audit, gc, prisoners. Audited as role `system`."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess

from api.app import build_runtime, create_app
from api.config import Settings
from services import unit_of_work
from services.accounts import create_staff
from services.audit import SYSTEM, verify_chain
from storage.db import session as db
from storage.errors import KinPassError
from storage.migrate import upgrade


def _runtime() -> Any:
    settings = Settings.from_env()
    settings.check_production()
    engine, rt = build_runtime(settings)
    return engine, rt


def _emit(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str, indent=2))


@click.group()
def main() -> None:
    """KinPass operations."""


@main.command()
def migrate() -> None:
    """Create or migrate the database."""
    engine, _ = _runtime()
    upgrade(engine)
    click.echo("database at head")


@main.command()
@click.option("--workers", type=int, default=lambda: int(os.environ.get("KINPASS_WORKERS", "3")))
def serve(workers: int) -> None:
    """Migrate, then serve the API with gunicorn on KINPASS_BIND."""
    engine, rt = _runtime()
    upgrade(engine)
    engine.dispose()
    metrics_dir = Path(rt.settings.data_dir) / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(mode=0o700, parents=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", rt.settings.bind)
            self.cfg.set("workers", workers)
            self.cfg.set("timeout", 120)
            self.cfg.set("graceful_timeout", 20)
            self.cfg.set("limit_request_line", 8190)
            self.cfg.set("limit_request_field_size", 8190)
            self.cfg.set("accesslog", None)
            self.cfg.set("forwarded_allow_ips", "127.0.0.1")
            self.cfg.set("child_exit", lambda _server, worker:
                         multiprocess.mark_process_dead(worker.pid))

        def load(self) -> Any:
            return create_app()

    Server().run()


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True)
@click.option("--full-name", default=None)
@click.option("--password", default=None)
def staff_create(email: str, role: str, full_name: str | None, password: str | None) -> None:
    engine, _ = _runtime()
    upgrade(engine)
    result = _run(lambda: create_staff(email=email, full_name=full_name, role=role,
                                       actor=SYSTEM, password=password))
    _emit(result)


def _run(use_case: Any) -> Any:
    """One command, one commit point; a domain refusal prints its code and exits 1."""
    try:
        result = use_case()
        unit_of_work.commit()
        return result
    except KinPassError as exc:
        unit_of_work.rollback()
        click.echo(json.dumps({"code": exc.code, "errors": exc.errors}, default=str), err=True)
        sys.exit(1)


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first broken seq."""
    _runtime()
    report = verify_chain(db())
    db.rollback()
    _emit({"ok": report.ok, "events": report.events,
           "head": {"seq": report.head_seq, "hash": report.head_hash},
           "first_bad_seq": report.first_bad_seq})
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
