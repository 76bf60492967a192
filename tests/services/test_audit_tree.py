"""The Merkle tree over the log: stored subtrees against a plain RFC 9162 implementation,
proofs that verify, and the attacks a chain alone cannot see (a rewritten and re-chained log,
a truncated one, deleted checkpoints) caught from a head the auditor kept."""
from __future__ import annotations

import contextlib
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update

from api.cli import main as cli
from services.audit import events as audit, merkle, proofs, tree
from services.audit.events import SYSTEM, record_event
from services.audit.reading import EVENT_COLUMNS
from services.audit.tree_check import verify_audit_log, verify_trusted
from services.core import unit_of_work
from storage.db import session as db, utcnow
from storage.models import (
    AuditEvent,
    AuditHead,
    AuditTreeHead,
    AuditTreeNode,
    AuditWitnessReceipt,
)
from storage.models.audit import APPEND_ONLY_TABLES
from tests.support import rfc9162
from tests.support.databases import owner_engine
from tests.support.forgery import forge_log


def _append(n: int, per_commit: int = 1) -> None:
    for i in range(0, n, per_commit):
        for j in range(i, min(n, i + per_commit)):
            record_event("test.event", SYSTEM, subject_type="thing", subject_id=f"id-{j}")
        unit_of_work.commit()
    db.remove()


def _leaves() -> list[bytes]:
    hashes = db().execute(select(AuditEvent.hash).order_by(AuditEvent.seq)).scalars()
    return [merkle.leaf_hash(bytes.fromhex(h)) for h in hashes]


def _tree_head() -> dict:
    head = proofs.new_tree_head(SYSTEM)
    unit_of_work.commit()
    db.remove()
    return head


@contextlib.contextmanager
def _owner():
    """The database owner's connection, append-only triggers set aside (PostgreSQL)."""
    engine = owner_engine()
    db.remove()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield conn
    db.remove()


def test_the_stored_tree_is_the_rfc_tree(app):
    _append(7)
    _append(30, per_commit=7)  # several leaves in one append
    leaves = _leaves()
    assert len(leaves) == 37
    session = db()
    for size in (1, 2, 3, 8, 16, 17, 37):
        assert tree.root_at(session, size) == rfc9162.mth(leaves[:size]).hex()
        for seq in range(1, size + 1):
            leaf, path = tree.inclusion_proof(session, seq, size)
            assert leaf == leaves[seq - 1].hex()
            assert path == [h.hex() for h in rfc9162.path(seq - 1, leaves[:size])]
        for first in range(1, size):
            assert tree.consistency_proof(session, first, size) == [
                h.hex() for h in rfc9162.subproof(first, leaves[:size], True)]


def test_the_frontier_on_the_head_row_is_the_trees(app):
    _append(11, per_commit=4)
    head = db().get(AuditHead, 1)
    stored = {(n.level, n.index): n.hash for n in db().execute(select(AuditTreeNode)).scalars()}
    assert head.tree_frontier == b"".join(stored[node] for node in merkle.frontier(11))
    with _owner() as conn:  # lost (a head row from before the tree): read from the tree
        conn.execute(update(AuditHead).values(tree_frontier=None))
    _append(6, per_commit=3)
    leaves = _leaves()
    assert tree.root_at(db(), 17) == rfc9162.mth(leaves).hex()
    assert db().get(AuditHead, 1).tree_frontier == b"".join(
        bytes.fromhex(tree.root_at(db(), 16)) if node == (4, 0) else leaves[16]
        for node in merkle.frontier(17))


def test_proofs_verify_against_signed_heads(app):
    _append(5)
    old = _tree_head()
    _append(12)
    new = _tree_head()
    assert (old["tree_size"], new["tree_size"]) == (5, 18)
    consistency = proofs.consistency(SYSTEM, 5, 18)["consistency_path"]
    assert merkle.verify_consistency(5, 18, bytes.fromhex(old["root_hash"]),
                                     bytes.fromhex(new["root_hash"]),
                                     [bytes.fromhex(h) for h in consistency])
    assert not merkle.verify_consistency(5, 18, bytes.fromhex(new["root_hash"]),
                                         bytes.fromhex(new["root_hash"]),
                                         [bytes.fromhex(h) for h in consistency])
    proof = proofs.inclusion(SYSTEM, 3, 18)
    root = merkle.root_from_inclusion(2, 18, bytes.fromhex(proof["leaf_hash"]),
                                      [bytes.fromhex(h) for h in proof["audit_path"]])
    assert root.hex() == new["root_hash"]
    unit_of_work.rollback()


def test_a_head_is_signed_on_the_checkpoint_schedule(app):
    events = app.extensions["kinpass"].runtime.settings.audit_checkpoint_events
    _append(events, per_commit=100)
    heads = db().execute(select(AuditTreeHead)).scalars().all()
    assert [h.tree_size for h in heads] == [events]
    assert heads[0].root_hash == rfc9162.mth(_leaves()[:events]).hex()


def test_events_rewritten_under_an_untouched_tree_are_named(app):
    _append(6)
    with _owner() as conn:
        row = {c: v for c, v in conn.execute(select(
            *[getattr(AuditEvent, c) for c in EVENT_COLUMNS]).where(AuditEvent.seq == 6))
            .one()._mapping.items()}
        row["reason"] = "forged"
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 6).values(
            reason="forged", hash=audit.chain_hash(row["prev_hash"], row)))
        conn.execute(update(AuditHead).values(hash=audit.chain_hash(row["prev_hash"], row)))
    report = verify_audit_log(SYSTEM)
    unit_of_work.rollback()
    assert not report.ok and report.first_bad_seq == 6


def _check(head: dict):
    report = verify_trusted(SYSTEM, head)
    unit_of_work.rollback()
    return report


def test_a_rewritten_rechained_log_without_its_checkpoints_is_caught(app):
    _append(6)
    audit.checkpoint_now(SYSTEM)
    unit_of_work.commit()
    kept = _tree_head()
    _append(3)
    assert _check(kept).ok
    with _owner() as conn:
        forge_log(conn, 2)
    report = verify_audit_log(SYSTEM)  # the log alone cannot tell any more ...
    unit_of_work.rollback()
    assert report.ok
    report = _check(kept)  # ... the head the auditor kept can
    assert not report.ok and report.first_bad_size == kept["tree_size"]


def test_a_truncated_log_is_caught(app):
    _append(6)
    kept = _tree_head()
    with _owner() as conn:
        forge_log(conn, 5, keep=4)
    report = verify_audit_log(SYSTEM)
    unit_of_work.rollback()
    assert report.ok
    report = _check(kept)
    assert not report.ok and report.first_bad_seq == 5


def test_a_forged_trusted_head_is_refused(app):
    _append(3)
    kept = _tree_head()
    forged = {**kept, "root_hash": "ab" * 32}
    report = _check(forged)
    assert not report.ok and "signature" in report.problem


def test_the_command_line_names_what_breaks(app, base_config, monkeypatch, tmp_path):
    monkeypatch.setenv("KINPASS_DATA_DIR", base_config["data_dir"])
    monkeypatch.setenv("KINPASS_DATABASE_URL", base_config["database_url"])
    _append(4)
    result = CliRunner().invoke(cli, ["audit", "tree-head"])
    assert result.exit_code == 0, result.output
    saved = tmp_path / "head.json"
    saved.write_text(result.output)
    _append(2)
    result = CliRunner().invoke(cli, ["audit", "verify", "--trusted-head", str(saved)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True
    with _owner() as conn:
        forge_log(conn, 3)
    assert CliRunner().invoke(cli, ["audit", "verify"]).exit_code == 0
    result = CliRunner().invoke(cli, ["audit", "verify", "--trusted-head", str(saved)])
    assert result.exit_code == 1
    assert json.loads(result.output)["first_bad_size"] == 4
    saved.write_text("[1, 2]")
    result = CliRunner().invoke(cli, ["audit", "verify", "--trusted-head", str(saved)])
    assert result.exit_code == 2


def test_postgresql_refuses_truncate_and_changes_to_every_audit_table(app):
    engine = db().get_bind()
    if engine.dialect.name != "postgresql":
        pytest.skip("the triggers are PostgreSQL's; SQLite relies on the chain and the tree")
    engine = owner_engine()  # they hold even for the owner, who has every privilege
    _append(3)
    audit.checkpoint_now(SYSTEM)  # a checkpoint and a tree head
    unit_of_work.commit()
    head_id = db().execute(select(AuditTreeHead.id)).scalar_one()
    db().add(AuditWitnessReceipt(head_id=head_id, accepted_at=utcnow()))
    db().commit()
    db.remove()
    for table in APPEND_ONLY_TABLES:
        for sql in (f"TRUNCATE {table} CASCADE", f"DELETE FROM {table}"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
                conn.execute(text(sql))
    report = verify_audit_log(SYSTEM)
    unit_of_work.rollback()
    assert report.ok and report.events == 4  # nothing was changed
