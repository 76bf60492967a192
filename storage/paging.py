"""Keyset pagination with opaque cursors (base64url of the last row's sort key)."""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal, tuple_

from storage.db import session as db
from storage.domain_errors import ValidationFailed


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID)
             else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, columns: Sequence[Any]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise ValueError
        out = []
        for value, column in zip(raw, columns, strict=True):
            python_type = column.type.python_type
            if python_type is datetime:
                out.append(datetime.fromisoformat(value))
            elif python_type is uuid.UUID:
                out.append(uuid.UUID(value))
            elif python_type is int:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError
                out.append(value)
            else:
                out.append(str(value))
        return out
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError, NotImplementedError):
        raise ValidationFailed(errors={"cursor": ["Not a valid cursor."]}) from None


def paginate(query: Select, columns: Sequence[Any], cursor: str | None,
             limit: int) -> tuple[list[Any], str | None]:
    """Ascending by columns; returns the page and the cursor of the next one (or None)."""
    if cursor:
        values = _decode(cursor, columns)
        query = query.where(tuple_(*columns) > tuple_(
            *[literal(v, type_=c.type) for v, c in zip(values, columns, strict=True)]))
    rows = db().execute(query.order_by(*columns).limit(limit + 1)).scalars().all()
    if len(rows) <= limit:
        return list(rows), None
    rows = rows[:limit]
    last = rows[-1]
    return list(rows), _encode([getattr(last, c.key) for c in columns])
