"""Every role against one route of each area of the contract's role table.

A role outside its area gets 403 forbidden; no token gets 401 unauthorized; inside its area
the answer is the route's own (200, or 404 for an id that names nothing).
"""
from __future__ import annotations

import uuid

import pytest

from tests.support.http import bearer

ROLES = ("relative", "officer", "supervisor", "auditor", "checkpoint", "admin")
NOBODY = str(uuid.uuid4())
REASON = {"X-Access-Reason": "role matrix check of access control"}

# (method, path, json body, extra headers, {role: expected status}); roles not named: 403
AREAS = [
    ("GET", "/v1/me", None, {}, dict.fromkeys(ROLES, 200)),
    ("GET", "/v1/cases", None, {}, {"relative": 200}),
    ("GET", f"/v1/documents/{NOBODY}", None, {}, {"relative": 404}),
    ("GET", f"/v1/authorizations/{NOBODY}/qr.png", None, {},
     {"relative": 404, "officer": 404, "supervisor": 404}),
    ("GET", "/v1/admin/prisoners", None, {}, {"officer": 200, "supervisor": 200}),
    ("GET", "/v1/admin/cases", None, {}, {"officer": 200, "supervisor": 200}),
    ("GET", f"/v1/admin/documents/{NOBODY}/content", None, REASON,
     {"officer": 404, "supervisor": 404}),
    ("GET", "/v1/admin/handovers", None, {}, {"officer": 200, "supervisor": 200}),
    ("POST", f"/v1/admin/authorizations/{NOBODY}/revoke", {"reason": "lost phone, re-issue"}, {},
     {"officer": 404, "supervisor": 404}),
    ("POST", "/v1/checkpoint/verify", {"token": "garbage"}, {}, {"checkpoint": 200}),
    ("GET", "/v1/audit/events", None, {}, {"auditor": 200}),
    ("GET", "/v1/admin/staff", None, {}, {"admin": 200}),
]


@pytest.fixture
def tokens(register_relative, make_staff) -> dict[str, str]:
    result = {"relative": register_relative()[2]["access_token"]}
    for role in ROLES[1:]:
        result[role] = make_staff(role)["access_token"]
    return result


def test_role_matrix(client, tokens):
    failures = []
    for method, path, body, headers, allowed in AREAS:
        anonymous = client.open(path, method=method, json=body, headers=headers)
        if anonymous.status_code != 401 or anonymous.get_json()["code"] != "unauthorized":
            failures.append((path, "anonymous", anonymous.status_code))
        for role in ROLES:
            r = client.open(path, method=method, json=body,
                            headers={**headers, **bearer(tokens[role])})
            expected = allowed.get(role, 403)
            if r.status_code != expected:
                failures.append((method, path, role, r.status_code, expected))
            elif expected == 403 and r.get_json()["code"] != "forbidden":
                failures.append((method, path, role, r.get_json()["code"]))
    assert failures == []


def test_public_endpoints_need_no_token(client):
    for path in ("/healthz", "/openapi.json", "/.well-known/jwks.json", "/v1/encryption-keys",
                 "/v1/authorizations/revocations", "/v1/audit/keys"):
        assert client.get(path).status_code == 200, path
