"""Counting the SQL statements a request sends: a page's budget must not grow with it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, update

from storage.db import read_engine, session as db, utcnow
from storage.models.accounts import AuthSession


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


def page_statements(app, client, path: str, add_rows, row_class: str,
                    rows_before: int = 0) -> list[int]:
    """The statements of two loads of a console list page, ``add_rows()`` (three rows)
    called before each; the page must show every row each time. The session's use is noted
    just before, so that neither load holds the write that notes it."""
    counts: list[int] = []
    for _ in range(2):
        add_rows()
        db().execute(update(AuthSession).values(last_used_at=utcnow()))
        db().commit()
        db.remove()
        with statements(app.extensions["kinpass"].engine) as seen:
            html = client.get(path).get_data(as_text=True)
        counts.append(len(seen))
        assert html.count(f'class="{row_class}"') == rows_before + 3 * len(counts)
    return counts
