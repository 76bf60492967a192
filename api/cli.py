"""The `kinpass` command: serve, staff, keys, audit, gc, prisoners. Audited as role `system`."""
from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click
from prometheus_client import multiprocess, values
from rq import SimpleWorker
from sqlalchemy import Engine

from api.jobs import run_pending_checks
from api.sender import deliver_due, start_sender
from api.server import Server
from clients.reference import Client, UploadFailed
from services.accounts.staff import create_staff
from services.audit.events import SYSTEM, checkpoint_now, searchable_hash
from services.audit.proofs import new_tree_head
from services.audit.tree_check import verify_audit_log, verify_trusted
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
from storage.db import make_engine
from storage.domain_errors import KinPassError
from storage.migrate import upgrade
from storage.roles import grant_server_role, owns_audit_tables
from storage.vocabulary import STAFF_ROLES, VerificationResult

log = logging.getLogger("kinpass.cli")


def _runtime(*, create: bool = False) -> tuple[Engine, Runtime]:
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


def _migrate(engine: Engine, settings: Settings) -> None:
    """Migrate as the schema's owner: with KINPASS_MIGRATION_DATABASE_URL on PostgreSQL, the
    owner's URL migrates and then grants the server's role only what it needs."""
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


def _emit(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str, indent=2))


@click.group()
def main() -> None:
    """KinPass operations."""


@main.command()
def migrate() -> None:
    """Create or migrate the database."""
    engine, rt = _runtime(create=True)
    _migrate(engine, rt.settings)
    click.echo("database at head")


@main.command()
@click.option("--workers", type=int, default=None, help="Default: KINPASS_WORKERS")
@click.option("--bind", default=None, metavar="HOST:PORT", help="Default: KINPASS_BIND")
def serve(workers: int | None, bind: str | None) -> None:
    """Migrate, then serve the API on KINPASS_BIND (gunicorn, the KinPass worker)."""
    engine, rt = _runtime(create=True)
    settings = replace(rt.settings, bind=bind) if bind else rt.settings
    if workers is None:
        workers = settings.workers
    _migrate(engine, rt.settings)
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
    engine, rt = _runtime()
    _migrate(engine, rt.settings)
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
@click.option("--trusted-head", "trusted_head", type=click.File("rb"), default=None,
              help="A tree head saved from GET /v1/audit/tree-heads/latest: the log must "
                   "still hold it and extend it")
def audit_verify(trusted_head: Any) -> None:
    """Walk the hash chain and the Merkle tree against the signed checkpoints and tree heads
    (and a head kept elsewhere); exit 1 naming the first seq or size that breaks."""
    _runtime()
    if trusted_head is not None:
        try:
            head = json.load(trusted_head)
        except (ValueError, UnicodeDecodeError):
            head = None
        if not isinstance(head, dict):
            click.echo(json.dumps({"error": "the trusted head is not a JSON object"}), err=True)
            sys.exit(2)
        record = _run(lambda: verify_trusted(SYSTEM, head))
        _emit(asdict(record))
        sys.exit(0 if record.ok else 1)
    report = _run(lambda: verify_audit_log(SYSTEM))
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


@audit.command("tree-head")
def audit_tree_head() -> None:
    """Sign a tree head over the whole log now and print it (what an auditor keeps)."""
    _runtime()
    _emit(_run(lambda: new_tree_head(SYSTEM)))


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
    engine, rt = _runtime()
    _migrate(engine, rt.settings)
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
    engine, rt = _runtime()
    _migrate(engine, rt.settings)
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
    """Run the case checks queued on Redis (KINPASS_REDIS_URL) and deliver the outbox."""
    _runtime()
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
    engine, rt = _runtime()
    _migrate(engine, rt.settings)
    tried = 0
    while (batch := deliver_due()):
        tried += batch
    _emit({"tried": tried})


@main.group()
def checks() -> None:
    """Automated case checks."""


@checks.command("run")
def checks_run() -> None:
    """Check every case still waiting in `submitted` (after a worker or Redis outage)."""
    engine, rt = _runtime()
    _migrate(engine, rt.settings)
    _emit({"checked": run_pending_checks()})


@main.command()
def gc() -> None:
    """Remove expired uploads and orphaned objects; shred documents past retention."""
    engine, rt = _runtime()
    _migrate(engine, rt.settings)
    _emit(_run(collect_garbage))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--case", "case_id", required=True, help="The case's id")
@click.option("--kind", required=True, help="passport, birth_certificate, ...")
@click.option("--token", envvar="KINPASS_TOKEN", required=True,
              help="A relative's access token (or KINPASS_TOKEN)")
@click.option("--url", envvar="KINPASS_URL", default="http://127.0.0.1:8000", show_default=True,
              help="The KinPass server (or KINPASS_URL)")
@click.option("--client-side", is_flag=True, help="Seal the file on this side (HPKE)")
@click.option("--content-type", default=None, help="Default: read from the file's bytes")
@click.option("--resumable", is_flag=True,
              help="Send with tus in 1 MiB chunks, resuming after a dropped connection")
def upload(file: Path, *, case_id: str, kind: str, token: str, url: str, client_side: bool,
           content_type: str | None, resumable: bool) -> None:
    """Reference client: add a document to a case and upload FILE, streaming."""
    try:
        document = Client(url, token).upload(file, case_id=case_id, kind=kind,
                                             client_side=client_side, content_type=content_type,
                                             resumable=resumable)
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
