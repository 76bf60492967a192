"""The opaque list cursor: what it may carry, and what the query schema refuses."""
from __future__ import annotations

import base64
import json

import pytest
from marshmallow import ValidationError

from schemas.base import PageArgs
from storage import cursors


def _token(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_cursor_carries_its_key_back():
    key = ["2026-03-02T10:15:00.123456+00:00", "0b5e1c4e-9a3e-4c39-9a55-6f7f2b1c1d11", 7]
    token = cursors.encode(key)
    assert "=" not in token and cursors.decode(token) == key


@pytest.mark.parametrize("token", [
    "garbage!", "%%%", "\x00", _token([]), _token({"x": 1}), _token("seq"), _token([1.5]),
    _token([True]), _token([None, "x"]), _token([["nested"]]),
    base64.urlsafe_b64encode(b"\xff\xfe").decode()])
def test_anything_else_is_not_a_cursor(token):
    with pytest.raises(ValueError):
        cursors.decode(token)
    with pytest.raises(ValidationError) as refused:
        PageArgs().load({"cursor": token})
    assert refused.value.messages == {"cursor": ["Not a valid cursor."]}


def test_the_page_arguments_default_and_bound():
    assert PageArgs().load({}) == {"limit": 20, "cursor": None}
    assert PageArgs().load({"cursor": ""}) == {"limit": 20, "cursor": ""}
    with pytest.raises(ValidationError) as refused:
        PageArgs().load({"cursor": "A" * 201})
    assert refused.value.messages == {"cursor": ["Longer than maximum length 200."]}
