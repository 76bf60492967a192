"""The `kinpass` command: serve, staff, keys, audit, gc, prisoners. Audited as role `system`."""
from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess, values
from rq import SimpleWorker
from sqlalchemy import Engine

from api.app import create_app
from api.jobs import run_pending_checks
from clients.reference import Client, UploadFailed
from services.accounts.staff import create_staff
from services.audit.events import SYSTEM, checkpoint_now, searchable_hash
from services.audit.reading import verify_log
from services.authorizations.offline import verify_offline
from services.authorizations.signing_keys import rotate_signing_key
from services.bootstrap import build_runtime
from services.core import unit_of_work
from services.core.runtime import Runtime
from services.core.settings import ConfigError, Settings
from services.maintenance.gc import collect_garbage
from services.maintenance.key_rotation import rotate_kek
from services.registry.prisoner_import import import_prisoners
from services.workflow.jobs import checks_queue
from storage.domain_errors import KinPassError
from storage.migrate import upgrade
from storage.vocabulary import VerificationResult


def _runtime() -> tuple[Engine, Runtime]:
    """The runtime from the environment; a configuration it cannot start with is one line on
    stderr and exit 2, not a traceback."""
    try:
        settings = Settings.from_env()
        settings.check_production()
        return build_runtime(settings)
    except (ConfigError, ValueError) as exc:
        click.echo(json.dumps({"error": str(exc)}), err=True)
        sys.exit(2)


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
@click.option("--workers", type=int, default=None, help="Default: KINPASS_WORKERS")
def serve(workers: int | None) -> None:
    """Migrate, then serve the API with gunicorn on KINPASS_BIND."""
    engine, rt = _runtime()
    if workers is None:
        workers = rt.settings.workers
    upgrade(engine)
    engine.dispose()
    metrics_dir = Path(rt.settings.data_dir) / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(mode=0o700, parents=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    # prometheus_client picks its value store when first imported, which was before the
    # directory was known: pick again, before any worker counts a request.
    values.ValueClass = values.get_value_class()

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
    """Walk the hash chain against the signed checkpoints; exit 1 naming the first broken seq."""
    _runtime()
    report = _run(lambda: verify_log(SYSTEM))
    _emit({"ok": report.ok, "events": report.events,
           "head": {"seq": report.head_seq, "hash": report.head_hash},
           "first_bad_seq": report.first_bad_seq})
    sys.exit(0 if report.ok else 1)


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the log's current head now (checkpoints are also made every N events)."""
    _runtime()
    checkpoint = _run(lambda: checkpoint_now(SYSTEM))
    _emit({"seq": checkpoint.seq, "hash": checkpoint.hash,
           "at": checkpoint.at.strftime("%Y-%m-%dT%H:%M:%SZ"), "jws": checkpoint.jws})


@audit.command("hash")
@click.argument("value")
def audit_hash(value: str) -> None:
    """The searchable HMAC of an identifier (a document number), as the log holds it."""
    _runtime()
    click.echo(_run(lambda: searchable_hash(value)))


@main.group()
def prisoners() -> None:
    """The prisoner registry."""


@prisoners.command("import")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Validate and count; change nothing.")
def prisoners_import(csv_file: Any, dry_run: bool) -> None:
    """Create or update registry records from a UTF-8 CSV file, keyed on registry_number."""
    engine, _ = _runtime()
    upgrade(engine)
    report = _run(lambda: import_prisoners(csv_file, actor=SYSTEM, dry_run=dry_run,
                                           max_bytes=None))
    _emit(asdict(report))
    sys.exit(1 if report.skipped else 0)


@main.group()
def keys() -> None:
    """Authorization-signing keys."""


@keys.command("rotate")
@click.option("--kek", is_flag=True,
              help="Rotate the key-encryption key instead: every wrapped data key and server "
                   "key is re-wrapped under the new one; content is not touched.")
def keys_rotate(kek: bool) -> None:
    """Make a new active signing key; retired keys stay in the JWKS while their tokens live."""
    engine, _ = _runtime()
    upgrade(engine)
    if kek:
        _emit(_run(lambda: rotate_kek(SYSTEM)))
        return
    _emit({"signing_key": _run(lambda: rotate_signing_key(SYSTEM))})


@main.group()
def checkpoint() -> None:
    """Checkpoint tools that need no server."""


@checkpoint.command("verify-offline")
@click.option("--jwks", "jwks_file", type=click.File("rb"), required=True,
              help="A saved copy of /.well-known/jwks.json")
@click.option("--revocations", "revocations_file", type=click.File("rb"), required=True,
              help="A saved copy of /v1/authorizations/revocations")
@click.option("--issuer", default=None, help="Also require this iss (KINPASS_ISSUER)")
@click.argument("token")
def checkpoint_verify_offline(jwks_file: Any, revocations_file: Any, issuer: str | None,
                              token: str) -> None:
    """Verify TOKEN with saved keys and revocations; exit 0 only when it is valid."""
    try:
        outcome = verify_offline(token, json.load(jwks_file), json.load(revocations_file),
                                 issuer=issuer)
    except (ValueError, AttributeError) as exc:
        click.echo(json.dumps({"error": f"unusable revocation list or JWKS: {exc}"}), err=True)
        sys.exit(2)
    _emit({"result": outcome.result, "claims": outcome.claims,
           "revocations_issued_at": outcome.revocations_issued_at, "notes": outcome.notes})
    sys.exit(0 if outcome.result == VerificationResult.VALID else 1)


@main.command()
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker(burst: bool) -> None:
    """Run the case checks queued on Redis (KINPASS_REDIS_URL)."""
    _runtime()
    queue = checks_queue()
    if queue is None:
        click.echo(json.dumps({"error": "KINPASS_REDIS_URL is not set"}), err=True)
        sys.exit(2)
    SimpleWorker([queue], connection=queue.connection).work(burst=burst)


@main.group()
def checks() -> None:
    """Automated case checks."""


@checks.command("run")
def checks_run() -> None:
    """Check every case still waiting in `submitted` (after a worker or Redis outage)."""
    engine, _ = _runtime()
    upgrade(engine)
    _emit({"checked": run_pending_checks()})


@main.command()
def gc() -> None:
    """Remove expired uploads and orphaned objects; shred documents past retention."""
    engine, _ = _runtime()
    upgrade(engine)
    _emit(_run(collect_garbage))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--case", "case_id", required=True, help="The case's id")
@click.option("--kind", required=True, help="passport, birth_certificate, ...")
@click.option("--token", envvar="KINPASS_TOKEN", required=True,
              help="A relative's access token (or KINPASS_TOKEN)")
@click.option("--url", envvar="KINPASS_URL", default="http://127.0.0.1:8000", show_default=True)
@click.option("--client-side", is_flag=True, help="Seal the file on this side (HPKE)")
@click.option("--content-type", default=None, help="Default: read from the file's bytes")
def upload(file: Path, *, case_id: str, kind: str, token: str, url: str, client_side: bool,
           content_type: str | None) -> None:
    """Reference client: add a document to a case and upload FILE, streaming."""
    try:
        document = Client(url, token).upload(file, case_id=case_id, kind=kind,
                                             client_side=client_side, content_type=content_type)
    except UploadFailed as exc:
        click.echo(json.dumps({"status": exc.status, "problem": exc.problem},
                              ensure_ascii=False), err=True)
        sys.exit(1)
    except (ValueError, OSError) as exc:
        click.echo(json.dumps({"error": str(exc)}), err=True)
        sys.exit(2)
    _emit(document)


if __name__ == "__main__":
    main()
