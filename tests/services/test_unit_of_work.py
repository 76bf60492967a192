"""The unit of work: one commit point, typed queues, nothing leaves before the commit."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from services.audit.events import SYSTEM, record_event
from services.core import unit_of_work
from services.messages.outbox import notify
from storage.db import ReadOnlyWriteError, session as db
from storage.domain_errors import ServiceUnavailable
from storage.models.audit import AuditEvent
from storage.models.prisoners import Prisoner


def _events(action: str) -> int:
    return db().scalar(select(func.count()).select_from(AuditEvent)
                       .where(AuditEvent.action == action))


def _sent(data_dir) -> list[dict]:
    path = data_dir / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_commit_writes_events_then_sends_messages_then_runs_hooks(app, data_dir):
    seen = []
    before = len(_sent(data_dir))
    record_event("test.unit", SYSTEM, subject_type="test")
    notify("a@example.org", "verification_code", "uk", code="123456")
    unit_of_work.after_commit(lambda: seen.append(len(_sent(data_dir))))
    assert len(_sent(data_dir)) == before and seen == []
    unit_of_work.commit()
    assert _events("test.unit") == 1
    assert len(_sent(data_dir)) == before + 1
    message = _sent(data_dir)[-1]
    assert message["to"] == "a@example.org" and message["code"] == "123456"
    assert message["language"] == "uk"
    assert seen == [len(_sent(data_dir))]  # the hook ran after the message left
    assert not unit_of_work.current().pending


def test_rollback_forgets_events_messages_and_hooks(app, data_dir):
    seen = []
    before = len(_sent(data_dir))
    record_event("test.rolled_back", SYSTEM)
    notify("b@example.org", "verification_code", "en", code="654321")
    unit_of_work.after_commit(lambda: seen.append(1))
    unit_of_work.keep_on_refusal()
    unit_of_work.rollback()
    assert not unit_of_work.current().pending
    assert not unit_of_work.current().keeps_refusal
    unit_of_work.commit()
    assert _events("test.rolled_back") == 0
    assert len(_sent(data_dir)) == before and seen == []


def test_an_unwritable_log_commits_nothing_and_sends_nothing(app, data_dir, monkeypatch):
    def broken_journal(session, entries):
        raise ServiceUnavailable("audit log unavailable")

    monkeypatch.setattr(unit_of_work._writers, "journal", broken_journal)
    before = len(_sent(data_dir))
    db().add(Prisoner(registry_number="UOW-1", surname="Іванов", given_name="Іван",
                      surname_latin="IVANOV", given_name_latin="IVAN", surname_key="IVANOV",
                      given_name_key="IVAN", status="held"))
    record_event("test.unlogged", SYSTEM)
    notify("c@example.org", "verification_code", "en", code="111111")
    with pytest.raises(ServiceUnavailable):
        unit_of_work.commit()
    monkeypatch.undo()
    assert db().scalar(select(Prisoner).where(Prisoner.registry_number == "UOW-1")) is None
    assert _events("test.unlogged") == 0 and len(_sent(data_dir)) == before


def test_a_failing_hook_does_not_undo_the_commit(app):
    seen = []

    def broken() -> None:
        raise OSError("object store gone")

    record_event("test.hooked", SYSTEM)
    unit_of_work.after_commit(broken)
    unit_of_work.after_commit(lambda: seen.append("after"))
    unit_of_work.commit()
    assert _events("test.hooked") == 1 and seen == ["after"]


def test_end_read_refuses_queued_writes(app):
    unit_of_work.end_read()
    record_event("test.read_only", SYSTEM)
    with pytest.raises(ReadOnlyWriteError):
        unit_of_work.end_read()
    unit_of_work.rollback()


def test_release_snapshot_keeps_queued_events_and_refuses_changes(app):
    record_event("test.snapshot", SYSTEM)
    unit_of_work.release_snapshot()
    assert [e.action for e in unit_of_work.current().events] == ["test.snapshot"]
    notify("d@example.org", "verification_code", "en", code="222222")
    with pytest.raises(ReadOnlyWriteError):
        unit_of_work.release_snapshot()
    unit_of_work.rollback()
    db().add(Prisoner(registry_number="UOW-2", surname="Петров", given_name="Петро",
                      surname_latin="PETROV", given_name_latin="PETRO", surname_key="PETROV",
                      given_name_key="PETRO", status="held"))
    with pytest.raises(ReadOnlyWriteError):
        unit_of_work.release_snapshot()
    unit_of_work.rollback()
