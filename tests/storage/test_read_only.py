"""Read-only units of work: no write lock on SQLite, READ ONLY on PostgreSQL, and a write
inside one fails instead of racing."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from storage.db import ReadOnlyWriteError, is_read_only, session as db, set_read_only
from storage.models.accounts import Account


@pytest.fixture
def read_only(app):
    set_read_only(True)
    yield
    db.remove()
    set_read_only(False)


def _insert_account() -> None:
    db().execute(text(
        "INSERT INTO accounts (id, full_name, role, language, status, password_hash,"
        " totp_last_step, created_at) VALUES ('00000000000000000000000000000001', 'X',"
        " 'relative', 'en', 'active', 'x', 0, CURRENT_TIMESTAMP)"))


def test_reads_work_in_a_read_only_unit(read_only):
    assert is_read_only()
    assert db().execute(select(func.count()).select_from(Account)).scalar_one() == 0
    db().commit()


def test_a_write_in_a_read_only_unit_is_refused(read_only):
    with pytest.raises((ReadOnlyWriteError, DBAPIError)) as caught:
        _insert_account()
    if isinstance(caught.value, DBAPIError):
        assert "read-only" in str(caught.value.orig)
    db().rollback()
    set_read_only(False)
    assert db().execute(select(func.count()).select_from(Account)).scalar_one() == 0


def test_writes_work_again_once_the_flag_is_cleared(app):
    set_read_only(False)
    _insert_account()
    db().commit()
    assert db().execute(select(func.count()).select_from(Account)).scalar_one() == 1


def test_sqlite_reader_does_not_wait_for_a_writer(app):
    engine = app.extensions["kinpass"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    writer = engine.connect()
    writer.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE: the write lock is held from here
    held = threading.Event()
    elapsed: list[float] = []

    def read() -> None:
        held.wait()
        set_read_only(True)
        started = time.perf_counter()
        db().execute(select(func.count()).select_from(Account)).scalar_one()
        db().commit()
        elapsed.append(time.perf_counter() - started)
        db.remove()

    thread = threading.Thread(target=read)
    thread.start()
    held.set()
    thread.join(timeout=10)
    writer.rollback()
    writer.close()
    assert elapsed and elapsed[0] < 2, elapsed
