"""Hostile input on every route the app serves (the registration route's own cases are in
test_bad_input.py): each answer is a 4xx problem with a stable code and no internals, and
nothing is stored — no row in any table, no audit event other than an access refusal.

Requests go out as a live account of a role the route admits, so the refusal comes from
the input and not from the role check; ids in paths name nothing.
"""
from __future__ import annotations

import json

import pytest

from tests.support.assurance import (
    Callers,
    assert_problem,
    collected_routes,
    served_document,
    snapshot,
)

ROUTES = collected_routes()
DOCUMENT = served_document()
# Routes that read a body (a route that takes none, like logout, never parses one).
BODY_ROUTES = [r for r in ROUTES if "requestBody" in r.operation(DOCUMENT)]
ID_ROUTES = [r for r in ROUTES if r.has_ids]
LIST_ROUTES = [r for r in ROUTES if not r.has_ids and any(
    p["name"] == "limit" and p["in"] == "query" for p in r.operation(DOCUMENT).get(
        "parameters", []))]

BODIES = {
    "malformed": (b'{"surname": "x",', "application/json"),
    "non_utf8": (b'{"surname": "\xff\xfe\xc3\x28"}', "application/json"),
    "utf16": ('{"surname": "x"}'.encode("utf-16"), "application/json"),
    "deeply_nested": (b"[" * 50_000 + b"]" * 50_000, "application/json"),
    "deeply_nested_objects": (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "application/json"),
    "huge": (b'{"surname": "' + b"x" * (600 * 1024) + b'"}', "application/json"),
    "form_encoded": (b"surname=x&role=admin", "application/x-www-form-urlencoded"),
    "multipart": (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n",
                  "multipart/form-data; boundary=b"),
    "xml": (b"<?xml version='1.0'?><a>&xxe;</a>", "application/xml"),
    "unknown_field": (json.dumps({"zz_not_a_field": True, "is_admin": True}).encode(),
                      "application/json"),
    "wrong_type_array": (b"[1, 2, 3]", "application/json"),
    "wrong_type_string": (b'"just a string"', "application/json"),
    "wrong_type_number": (b"1e308", "application/json"),
    "wrong_type_null": (b"null", "application/json"),
    "nul_bytes": (json.dumps({"surname": "a\u0000b", "zz\u0000": 1}).encode(),
                  "application/json"),
    "duplicate_keys": (b'{"zz": 1, "zz": 2}', "application/json"),
}

BAD_IDS = {
    "traversal": "..%2F..%2Fetc%2Fpasswd",
    "traversal_plain": "..",
    "nul": "%00",
    "nul_suffix": "00000000-0000-0000-0000-000000000007%00",
    "sql": "1'%20OR%20'1'='1",
    "huge": "9" * 5000,
    "unicode": "%E2%80%AE%F0%9F%92%A3",
    "not_uuid": "not-a-uuid",
}


@pytest.fixture
def callers(register_relative, make_staff) -> Callers:
    return Callers(register_relative, make_staff)


def _unchanged(before) -> None:
    assert snapshot() == before


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_hostile_bodies_change_nothing(client, callers, route):
    headers = callers.admitted(route)
    before = snapshot()
    for name, (data, content_type) in BODIES.items():
        r = client.open(route.path(), method=route.method, data=data,
                        content_type=content_type, headers=headers)
        try:
            assert_problem(r)
        except AssertionError as exc:
            raise AssertionError(f"{route} {name}: {exc}") from None
    _unchanged(before)


@pytest.mark.parametrize("route", ID_ROUTES, ids=str)
def test_bad_ids_are_not_found(client, callers, route):
    headers = callers.admitted(route)
    before = snapshot()
    for name, bad in BAD_IDS.items():
        r = client.open(route.path(bad), method=route.method, headers=headers)
        try:
            assert_problem(r, 404, "not_found")
        except AssertionError as exc:
            raise AssertionError(f"{route} {name}: {exc}") from None
    _unchanged(before)


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_trace_and_oversized_headers(client, callers, route):
    headers = callers.admitted(route)
    before = snapshot()
    assert_problem(client.open(route.path(), method="TRACE", headers=headers),
                   405, "method_not_allowed")
    big = {**headers, "X-Padding": "a" * 64 * 1024}
    assert_problem(client.open(route.path(), method=route.method, headers=big),
                   (400, 431), "validation_error")
    many = {**headers, **{f"X-Pad-{n}": "b" * 4000 for n in range(16)}}
    assert_problem(client.open(route.path(), method=route.method, headers=many),
                   (400, 431), "validation_error")
    _unchanged(before)


@pytest.mark.parametrize("route", LIST_ROUTES, ids=str)
def test_list_paging_is_bounded(client, callers, route):
    headers = callers.admitted(route)
    before = snapshot()
    for query in ("limit=101", "limit=0", "limit=-1", "limit=abc", "limit=1e3",
                  "limit=99999999999999999999", "cursor=not-a-cursor",
                  "cursor=" + "A" * 5000, "cursor=%00", "zz_unknown=1"):
        r = client.get(f"{route.rule}?{query}", headers=headers)
        try:
            assert_problem(r, 400, "validation_error")
        except AssertionError as exc:
            raise AssertionError(f"{route} {query}: {exc}") from None
    _unchanged(before)
