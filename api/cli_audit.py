"""`kinpass audit`: verify the log (against a kept tree head), sign heads, hash identifiers."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

import click

from api.cli_runtime import emit, load_runtime, run_once
from services.audit.events import SYSTEM, checkpoint_now, searchable_hash
from services.audit.proofs import new_tree_head
from services.audit.tree_check import verify_audit_log, verify_trusted


@click.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option("--trusted-head", "trusted_head", type=click.File("rb"), default=None,
              help="A tree head saved from GET /v1/audit/tree-heads/latest: the log must "
                   "still hold it and extend it")
def audit_verify(trusted_head: Any) -> None:
    """Walk the hash chain and the Merkle tree against the signed checkpoints and tree heads
    (and a head kept elsewhere); exit 1 naming the first seq or size that breaks."""
    load_runtime()
    if trusted_head is not None:
        try:
            head = json.load(trusted_head)
        except (ValueError, UnicodeDecodeError):
            head = None
        if not isinstance(head, dict):
            click.echo(json.dumps({"error": "the trusted head is not a JSON object"}), err=True)
            sys.exit(2)
        record = run_once(lambda: verify_trusted(SYSTEM, head))
        emit(asdict(record))
        sys.exit(0 if record.ok else 1)
    report = run_once(lambda: verify_audit_log(SYSTEM))
    emit({"ok": report.ok, "events": report.events,
           "head": {"seq": report.head_seq, "hash": report.head_hash},
           "first_bad_seq": report.first_bad_seq})
    sys.exit(0 if report.ok else 1)


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the log's current head now (checkpoints are also made every N events)."""
    load_runtime()
    checkpoint = run_once(lambda: checkpoint_now(SYSTEM))
    emit({"seq": checkpoint.seq, "hash": checkpoint.hash,
           "at": checkpoint.at.strftime("%Y-%m-%dT%H:%M:%SZ"), "jws": checkpoint.jws})


@audit.command("tree-head")
def audit_tree_head() -> None:
    """Sign a tree head over the whole log now and print it (what an auditor keeps)."""
    load_runtime()
    emit(run_once(lambda: new_tree_head(SYSTEM)))


@audit.command("hash")
@click.argument("value")
def audit_hash(value: str) -> None:
    """The searchable HMAC of an identifier (a document number), as the log holds it."""
    load_runtime()
    click.echo(run_once(lambda: searchable_hash(value)))
