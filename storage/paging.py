"""Keyset pagination: a page of rows ascending by their sort key, and the cursor after it."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, literal, tuple_

from storage import cursors
from storage.db import session as db
from storage.domain_errors import ValidationFailed

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next (None on the last page)."""

    items: list[T]
    next_cursor: str | None

    def map(self, build: Callable[[list[T]], list[U]]) -> Page[U]:
        """The same page with its items built anew, all at once (one read for the page)."""
        return Page(build(self.items), self.next_cursor)


def _plain(value: Any) -> str | int:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if isinstance(value, uuid.UUID) else value


def _typed(value: str | int, column: Any) -> Any:
    """A cursor's value as the column's type, within what the database can compare (a
    forged cursor names a naive time, a year past 9999 or an integer past 64 bits)."""
    python_type = column.type.python_type
    if python_type is int:
        if not isinstance(value, int) or not INT64_MIN <= value <= INT64_MAX:
            raise ValueError
        return value
    if not isinstance(value, str):
        raise ValueError
    if python_type is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError
        return moment.astimezone(UTC)
    return uuid.UUID(value) if python_type is uuid.UUID else value


def _key(cursor: str, columns: Sequence[Any]) -> list[Any]:
    try:
        values = cursors.decode(cursor)
        if len(values) != len(columns):
            raise ValueError
        return [_typed(v, c) for v, c in zip(values, columns, strict=True)]
    except (ValueError, OverflowError, NotImplementedError):
        raise ValidationFailed(errors={"cursor": ["Not a valid cursor."]}) from None


def paginate(query: Select, columns: Sequence[Any], cursor: str | None,
             limit: int, *, descending: bool = False) -> Page[Any]:
    """The page of ``query`` after ``cursor``, ascending by ``columns`` (a unique key), or
    descending."""
    if cursor:
        values = _key(cursor, columns)
        key = tuple_(*columns)
        after = tuple_(*[literal(v, type_=c.type) for v, c in zip(values, columns, strict=True)])
        query = query.where(key < after if descending else key > after)
    order = [column.desc() for column in columns] if descending else list(columns)
    rows = list(db().execute(query.order_by(*order).limit(limit + 1)).scalars().all())
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, cursors.encode([_plain(getattr(rows[-1], c.key)) for c in columns]))
