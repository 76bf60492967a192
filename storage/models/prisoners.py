from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Index, String, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, EnumText, one_of, utcnow
from storage.limits import NAME_MAX as TEXT_MAX, REGISTRY_NUMBER_MAX
from storage.vocabulary import PrisonerStatus

LATIN_MAX, KEY_MAX, BLOCKING_KEY_MAX = 200, 200, 255


class Prisoner(Base):
    """The Geneva Convention III Art. 122 record of one prisoner of war.

    ``*_key`` hold :func:`services.registry.romanize.name_key` of the names (script- and
    romanisation-independent), for exact name look-ups in the registry list.
    """

    __tablename__ = "prisoners"
    __table_args__ = (Index("ix_prisoners_birth_date", "birth_date"),
                      Index("ix_prisoners_created", "created_at", "id"),
                      Index("ix_prisoners_surname_key", "surname_key", "given_name_key"),
                      Index("ix_prisoners_given_name_key", "given_name_key"),
                      one_of("prisoners", "status", PrisonerStatus))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    registry_number: Mapped[str] = mapped_column(String(REGISTRY_NUMBER_MAX), unique=True)
    surname: Mapped[str] = mapped_column(String(TEXT_MAX))
    given_name: Mapped[str] = mapped_column(String(TEXT_MAX))
    patronymic: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    surname_latin: Mapped[str] = mapped_column(String(LATIN_MAX))
    given_name_latin: Mapped[str] = mapped_column(String(LATIN_MAX))
    patronymic_latin: Mapped[str | None] = mapped_column(String(LATIN_MAX))
    surname_key: Mapped[str] = mapped_column(String(KEY_MAX))
    given_name_key: Mapped[str] = mapped_column(String(KEY_MAX))
    patronymic_key: Mapped[str | None] = mapped_column(String(KEY_MAX))
    birth_date: Mapped[date]
    birth_place: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    unit: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    rank: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    service_number: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    status: Mapped[PrisonerStatus] = mapped_column(EnumText(PrisonerStatus, 20),
                                                   default=PrisonerStatus.HELD)
    captured_on: Mapped[date | None]
    mother_name: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    father_name: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrisonerBlockingKey(Base):
    """Candidate retrieval for matching: a few short keys per prisoner, looked up by index.

    The (key, prisoner_id) index covers the look-up, so retrieval never reads the table. It is
    a derived index written only by services.registry.prisoners (replaced whenever a name or
    the birth date changes), with no foreign key: a per-row referential check would double the
    cost of the ~20 rows each imported prisoner adds. Whatever deletes a prisoner deletes his keys.
    """

    __tablename__ = "prisoner_blocking_keys"

    prisoner_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(BLOCKING_KEY_MAX), primary_key=True)

    __table_args__ = (Index("ix_prisoner_blocking_keys_key", "key", "prisoner_id"),)


def _copy_rows(connection: Connection, table: str, columns: list[str],
               rows: Iterable[Iterable[Any]]) -> None:
    """PostgreSQL's COPY FROM STDIN through psycopg, one row a tuple of column values."""
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def bulk_insert_prisoners(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert whole prisoner rows (a value for every column) at driver speed: COPY on
    PostgreSQL, an executemany elsewhere. A registry number that is taken raises
    IntegrityError either way."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(Prisoner.__table__), rows)
        return
    columns = [column.name for column in Prisoner.__table__.columns]
    try:
        _copy_rows(connection, "prisoners", columns,
                   ([row[name] for name in columns] for row in rows))
    except connection.dialect.dbapi.IntegrityError as exc:
        raise IntegrityError("COPY prisoners", None, exc) from exc


def bulk_insert_blocking_keys(connection: Connection,
                              rows: Iterable[tuple[uuid.UUID, str]]) -> None:
    """Append (prisoner_id, key) rows at driver speed: COPY on PostgreSQL, a bare executemany
    on SQLite (the Uuid column is 32 hex digits there) — an import writes ~20 per prisoner."""
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, "prisoner_blocking_keys", ["prisoner_id", "key"], rows)
        return
    connection.exec_driver_sql(
        "INSERT INTO prisoner_blocking_keys (prisoner_id, key) VALUES (?, ?)",
        [(prisoner_id.hex, key) for prisoner_id, key in rows])


def prepare_bulk_load(connection: Connection) -> None:
    """Tune the transaction of a registry import.

    SQLite's default 2 MiB page cache thrashes on the key index of a large registry; a bigger
    one (allocated only as used) keeps a 100,000-row import several times faster.

    On PostgreSQL an import runs the same statements once per batch, so psycopg prepares them
    on the server, and after five runs PostgreSQL may settle on a generic plan — one made
    while the table was still small, or had no statistics yet (nothing is analysed before the
    import commits). For the batch's ``registry_number IN (...)`` look-up that plan can be a
    sequential scan testing each row against the thousand parameters one by one, so each
    batch costs rows × 1000 comparisons: 100,000 rows imported in minutes instead of seconds.
    Custom plans (for this transaction only) are made with the batch's values, as a one-off
    query would be.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA cache_size = -262144")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
