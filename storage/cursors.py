"""The opaque list cursor: base64url (unpadded) of a JSON list of the last row's sort key.

Only its form is known here; what each value means is the list's business (storage.paging).
"""
from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

CURSOR_MAX = 200


def encode(values: Sequence[str | int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode(cursor: str) -> list[str | int]:
    """The sort key a cursor carries: a non-empty list of strings and integers (ValueError
    for anything else)."""
    try:
        raw: Any = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValueError("not a cursor") from None
    if (not isinstance(raw, list) or not raw
            or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in raw)):
        raise ValueError("not a cursor")
    return raw
