"""Engine, the request-scoped session and the column types every model shares."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import CheckConstraint, DateTime, String, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator, Uuid

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_read_only: ContextVar[bool] = ContextVar("kinpass_read_only", default=False)
_answered: ContextVar[bool] = ContextVar("kinpass_answered", default=False)
_readers: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


class ReadOnlyWriteError(RuntimeError):
    """A unit of work declared read-only tried to change something."""


def set_read_only(flag: bool) -> None:
    """Declare whether the transactions begun from here on only read.

    They go through the database's read engine, where every statement is its own
    transaction: on SQLite without the write lock (WAL), so reads from every worker run side
    by side and cost no BEGIN or ROLLBACK; on PostgreSQL read-only (:func:`_read_engine`).
    Where there is no read engine (an in-memory SQLite), a reading transaction begins with
    `BEGIN` rather than `BEGIN IMMEDIATE`. Either way a write inside one fails loudly
    instead of racing.
    """
    _read_only.set(flag)


def is_read_only() -> bool:
    return _read_only.get()


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC on the way out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EnumText(TypeDecorator):
    """A StrEnum member kept as its value in a VARCHAR, read back as the member; the column's
    CHECK constraint (:func:`one_of`) keeps the database to the same values."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    @property
    def python_type(self) -> type:
        return self.enum

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum(value)


def one_of(table: str, column: str, values: Iterable[str]) -> CheckConstraint:
    """CHECK (column IN (...)), named ``ck_<table>_<column>`` as the migrations name it."""
    words = list(values)
    assert all(word.replace("_", "").replace("/", "").isalnum() for word in words), words
    listed = ", ".join(f"'{word}'" for word in words)
    return CheckConstraint(f"{column} IN ({listed})", name=f"ck_{table}_{column}")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime(), uuid.UUID: Uuid()}


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalize_url(url: str) -> str:
    """A plain postgresql:// URL works as written: it means psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        _create_private(path)
        engine = _sqlite_engine(url, reader=False, **kwargs)
        if path and path != ":memory:":
            _readers[engine] = _sqlite_engine(url, reader=True)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20,
                           connect_args={"connect_timeout": 5}, **kwargs)
    _count_uses(engine)
    _readers[engine] = _read_engine(url)
    return engine


def _sqlite_engine(url: str, *, reader: bool, **kwargs: Any) -> Engine:
    """SQLite's engine, or its read engine: there every statement is its own transaction
    (no BEGIN, no ROLLBACK; WAL gives each its snapshot, and never waits for a writer) and a
    write fails loudly."""
    if reader:
        kwargs["isolation_level"] = "AUTOCOMMIT"
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                           **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins, so a
        # read-then-write sequence holds one snapshot.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    if not reader:
        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers queue on the database lock from the start instead of failing
            # with SQLITE_BUSY when a read snapshot turns out to be stale.
            read_only = _read_only.get()
            conn.info["read_only"] = read_only
            # Through SQLAlchemy, not the driver, so a busy database fails as a wrapped error.
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _sqlite_guard(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if ((reader or conn.info.get("read_only"))
                and statement.lstrip()[:7].upper().startswith(WRITES)):
            raise ReadOnlyWriteError(statement.split(None, 1)[0])

    _count_uses(engine)
    return engine


def _read_engine(url: str) -> Engine:
    """PostgreSQL's engine for read-only units: every statement is its own read-only
    transaction (autocommit, the connection's default set once when it opens), so a read
    costs its statements and nothing else — no BEGIN, no SET, no ROLLBACK. (SQLite has
    none: its reads already begin without the write lock.)"""
    engine = create_engine(url, pool_size=10, max_overflow=20, isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 5,
                                         "options": "-c default_transaction_read_only=on"})
    _count_uses(engine)
    return engine


def read_engine(engine: Engine) -> Engine | None:
    return _readers.get(engine)


def _count_uses(engine: Engine) -> None:
    @event.listens_for(engine, "after_cursor_execute")
    def _used(*_args: Any) -> None:
        _answered.set(True)


def start_attempt() -> None:
    """A request (or its retry) begins: no statement of it has been answered yet."""
    _answered.set(False)


def may_retry(exc: DBAPIError) -> bool:
    """Whether a request can safely run again after `exc`: its very first statement met a
    connection that had died (a restarted database), so nothing of it reached the database.
    The pool no longer holds a connection from before the failure; there is no ping before
    each checkout."""
    return bool(exc.connection_invalidated) and not _answered.get()


def _create_private(path: str | None) -> None:
    """The database holds personal data: only the service account may read the file."""
    if not path or path == ":memory:" or os.path.exists(path):
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


class RoutedSession(Session):
    """A read-only unit reads through the read engine when there is one."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        reader = self.info.get("read_engine")
        if reader is not None and _read_only.get():
            return reader
        return super().get_bind(*args, **kwargs)


session = scoped_session(sessionmaker(class_=RoutedSession, expire_on_commit=False))


def bind_engine(engine: Engine) -> None:
    session.remove()
    session.configure(bind=engine, info={"read_engine": _readers.get(engine)})
