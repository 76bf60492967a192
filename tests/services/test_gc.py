"""`kinpass gc`: expired uploads, orphaned objects, crashed writes, retention; idempotent."""
from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner

from api.cli import main
from services.core import runtime, unit_of_work
from services.maintenance.gc import collect_garbage
from storage.db import session as db, utcnow
from storage.models.audit import AuditEvent
from storage.models.cases import Case, Document
from tests.support.documents import (
    declare,
    document_row,
    empty_local_store,
    jpeg,
    move_case,
    open_case,
    stored_keys,
    upload,
)


@pytest.fixture(autouse=True)
def _no_objects(app):
    empty_local_store(app)


@pytest.fixture
def relative(register_relative):
    return register_relative()[2]["access_token"]


def _gc(now=None) -> dict:
    result = collect_garbage(now=now)
    unit_of_work.commit()
    db.remove()
    return result


def _age(key: str, hours: float) -> None:
    path = runtime.get().objects.root / key
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_expired_pending_uploads_go(client, relative):
    case_id = open_case(client, relative)
    pending = declare(client, relative, case_id, jpeg()).get_json()
    fresh = declare(client, relative, case_id, jpeg()).get_json()
    stored = upload(client, relative, case_id, jpeg())
    row = db().get(Document, uuid.UUID(pending["id"]))
    row.upload_expires_at = utcnow() - timedelta(minutes=1)
    unit_of_work.commit()
    db.remove()
    assert _gc()["expired_uploads"] == 1
    assert document_row(pending["id"]) is None
    assert document_row(fresh["id"]).status == "pending_upload"
    assert document_row(stored["id"]).status == "stored"
    assert _gc()["expired_uploads"] == 0


def test_orphans_go_once_old_enough(client, relative):
    case_id = open_case(client, relative)
    kept = upload(client, relative, case_id, jpeg())
    store = runtime.get().objects
    old_orphan, young_orphan = store.new_key(), store.new_key()
    store.put_stream(old_orphan, [b"ciphertext"])
    store.put_stream(young_orphan, [b"an upload in flight"])
    _age(old_orphan, 2)
    _age(document_row(kept["id"]).object_key, 2)
    assert _gc()["orphaned_objects"] == 1
    assert set(stored_keys()) == {young_orphan, document_row(kept["id"]).object_key}
    assert _gc()["orphaned_objects"] == 0


def test_leftovers_of_a_crashed_write_go(app):
    store = runtime.get().objects
    leftover = store.root / ".tmp" / "crashed-write"
    leftover.write_bytes(b"half an object")
    then = time.time() - 7200
    os.utime(leftover, (then, then))
    in_flight = store.root / ".tmp" / "writing-now"
    in_flight.write_bytes(b"...")
    assert _gc()["incomplete_writes"] == 1
    assert not leftover.exists() and in_flight.exists()
    in_flight.unlink()


def test_retention_shreds_documents_of_closed_cases(client, relative):
    closed = open_case(client, relative)
    doc = upload(client, relative, closed, jpeg())
    key = document_row(doc["id"]).object_key
    open_one = open_case(client, relative)
    other = upload(client, relative, open_one, jpeg())
    move_case(closed, "submitted", "in_review", "rejected")
    assert _gc()["retention_shredded"] == 0  # closed today: within retention
    days = runtime.get().settings.retention_days
    later = utcnow() + timedelta(days=days, hours=1)
    assert _gc(later)["retention_shredded"] == 1
    row = document_row(doc["id"])
    assert row.status == "shredded" and row.wrapped_dek is None
    assert key not in stored_keys()
    assert document_row(other["id"]).status == "stored"
    again = _gc(later)
    assert {name: again[name] for name in ("orphaned_objects", "incomplete_writes",
                                           "expired_uploads", "retention_shredded")} == {
        "orphaned_objects": 0, "incomplete_writes": 0, "expired_uploads": 0,
        "retention_shredded": 0}
    case = db().get(Case, uuid.UUID(closed))
    assert case.status == "rejected"
    events = db().query(AuditEvent).filter(AuditEvent.action == "gc.run").all()
    assert len(events) == 3 and {e.actor_role for e in events} == {"system"}
    shreds = db().query(AuditEvent).filter(AuditEvent.action == "document.shred").all()
    assert [(e.subject_id, e.actor_role) for e in shreds] == [(doc["id"], "system")]


def test_gc_command(app, base_config, monkeypatch):
    for name, value in (("KINPASS_DATA_DIR", base_config["data_dir"]),
                        ("KINPASS_DATABASE_URL", base_config["database_url"])):
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["gc"])
    assert result.exit_code == 0, result.output
    assert '"expired_uploads": 0' in result.output
