"""Counting the SQL statements a request sends: a page's budget must not grow with it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from storage.db import read_engine


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    """Every statement sent through `engine` and its read-only engine (PostgreSQL's)."""
    seen: list[str] = []
    engines = [engine, *filter(None, [read_engine(engine)])]

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    for each in engines:
        event.listen(each, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for each in engines:
            event.remove(each, "before_cursor_execute", count)
