"""The `kinpass` command: serve, migrate, staff, keys, prisoners, worker, messages, checks and
gc here; audit (api/cli_audit.py), checkpoint verify-offline and upload (api/cli_clients.py).
What they change is audited as role `system`."""
from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click
from prometheus_client import multiprocess, values
from rq import SimpleWorker

from api.cli_audit import audit
from api.cli_clients import checkpoint, upload
from api.cli_runtime import emit, load_runtime, migrate_as_owner, run_once
from api.jobs import run_pending_checks
from api.sender import deliver_due, start_sender
from api.server import Server
from services.accounts.staff import create_staff
from services.audit.events import SYSTEM
from services.authorizations.signing_keys import rotate_signing_key
from services.maintenance.gc import collect_garbage
from services.maintenance.key_rotation import rotate_kek
from services.registry.prisoner_import import import_prisoners
from services.workflow.jobs import checks_queue
from storage.vocabulary import STAFF_ROLES


@click.group()
def main() -> None:
    """KinPass operations."""


@main.command()
def migrate() -> None:
    """Create or migrate the database."""
    engine, rt = load_runtime(create=True)
    migrate_as_owner(engine, rt.settings)
    click.echo("database at head")


@main.command()
@click.option("--workers", type=int, default=None, help="Default: KINPASS_WORKERS")
@click.option("--bind", default=None, metavar="HOST:PORT", help="Default: KINPASS_BIND")
def serve(workers: int | None, bind: str | None) -> None:
    """Migrate, then serve the API on KINPASS_BIND (gunicorn, the KinPass worker)."""
    engine, rt = load_runtime(create=True)
    settings = replace(rt.settings, bind=bind) if bind else rt.settings
    if workers is None:
        workers = settings.workers
    migrate_as_owner(engine, rt.settings)
    engine.dispose()
    metrics_dir = Path(settings.data_dir) / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(mode=0o700, parents=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    # prometheus_client picks its value store when first imported, which was before the
    # directory was known: pick again, before any worker counts a request.
    values.ValueClass = values.get_value_class()

    # Each worker delivers the outbox itself, unless `kinpass worker` does it (with Redis).
    sender = None if settings.redis_url else start_sender
    Server(settings, workers, multiprocess.mark_process_dead, sender).run()


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("create")
@click.option("--email", required=True, help="The staff member's login")
@click.option("--role", required=True, type=click.Choice([role.value for role in STAFF_ROLES]),
              help="What the account may do")
@click.option("--full-name", default=None, help="Shown in the audit log and the console")
@click.option("--password", default=None,
              help="Default: a generated one, printed once with the TOTP secret")
def staff_create(email: str, role: str, full_name: str | None, password: str | None) -> None:
    """Create a staff account; prints its password and TOTP secret once."""
    engine, rt = load_runtime()
    migrate_as_owner(engine, rt.settings)
    result = run_once(lambda: create_staff(email=email, full_name=full_name, role=role,
                                       actor=SYSTEM, password=password))
    emit(result)


@main.group()
def prisoners() -> None:
    """The prisoner registry."""


@prisoners.command("import")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Validate and count; change nothing.")
def prisoners_import(csv_file: Any, dry_run: bool) -> None:
    """Create or update registry records from a UTF-8 CSV file, keyed on registry_number."""
    engine, rt = load_runtime()
    migrate_as_owner(engine, rt.settings)
    report = run_once(lambda: import_prisoners(csv_file, actor=SYSTEM, dry_run=dry_run,
                                           max_bytes=None))
    emit(asdict(report))
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
    engine, rt = load_runtime()
    migrate_as_owner(engine, rt.settings)
    if kek:
        emit(run_once(lambda: rotate_kek(SYSTEM)))
        return
    emit({"signing_key": run_once(lambda: rotate_signing_key(SYSTEM))})


@main.command()
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker(burst: bool) -> None:
    """Run the case checks queued on Redis (KINPASS_REDIS_URL) and deliver the outbox."""
    load_runtime()
    queue = checks_queue()
    if queue is None:
        click.echo(json.dumps({"error": "KINPASS_REDIS_URL is not set"}), err=True)
        sys.exit(2)
    if burst:
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        while deliver_due():
            pass
        return
    sender = start_sender()
    try:
        SimpleWorker([queue], connection=queue.connection).work()
    finally:
        sender.stop()


@main.group()
def messages() -> None:
    """The outbox of messages to relatives."""


@messages.command("send")
def messages_send() -> None:
    """Deliver every message that is due now, then stop (the sender does this continuously)."""
    engine, rt = load_runtime()
    migrate_as_owner(engine, rt.settings)
    tried = 0
    while (batch := deliver_due()):
        tried += batch
    emit({"tried": tried})


@main.group()
def checks() -> None:
    """Automated case checks."""


@checks.command("run")
def checksrun_once() -> None:
    """Check every case still waiting in `submitted` (after a worker or Redis outage)."""
    engine, rt = load_runtime()
    migrate_as_owner(engine, rt.settings)
    emit({"checked": run_pending_checks()})


@main.command()
def gc() -> None:
    """Remove expired uploads and orphaned objects; shred documents past retention."""
    engine, rt = load_runtime()
    migrate_as_owner(engine, rt.settings)
    emit(run_once(collect_garbage))


main.add_command(audit)
main.add_command(checkpoint)
main.add_command(upload)


if __name__ == "__main__":
    main()
