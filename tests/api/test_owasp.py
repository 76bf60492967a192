"""OWASP API Security Top 10 (2023), one test (or one parametrized family) per risk."""
from __future__ import annotations

import base64
import json
import uuid

import jwt
import pyotp
import pytest

from services.accounts import staff as accounts
from services.audit.events import SYSTEM
from services.core import unit_of_work
from storage.db import session as db
from storage.domain_errors import InvalidCiphertext
from storage.keys import KmsKeyProvider, kms_client
from tests.support import documents as docs
from tests.support.assurance import (
    ROLES,
    Callers,
    app_routes,
    assert_problem,
    collected_routes,
    served_document,
    snapshot,
)
from tests.support.http import bearer
from tests.support.world import World

ROUTES = collected_routes()
DOCUMENT = served_document()
REFRESH_ENDPOINTS = {"accounts.refresh"}
REASON = {"X-Access-Reason": "OWASP assurance check of document access"}


@pytest.fixture
def world(client, register_relative, make_staff) -> World:
    return World(client, register_relative, make_staff)


# API1: broken object-level authorization ------------------------------------------------

def test_api1_bola_matrix(client, world):
    owner, case_id, _ = world.approved_case()
    authorization = world.travel(case_id)
    draft = docs.open_case(client, owner.token)
    document = docs.upload(client, owner.token, draft, docs.jpeg(2_000))
    pending = docs.declare(client, owner.token, draft, docs.jpeg(1_000)).get_json()
    other = world.relative()
    attempts = [
        ("GET", f"/v1/cases/{case_id}", None), ("GET", f"/v1/cases/{draft}", None),
        ("PATCH", f"/v1/cases/{draft}", {"relationship": "father"}),
        ("POST", f"/v1/cases/{draft}/submit", None), ("POST", f"/v1/cases/{draft}/withdraw", None),
        ("POST", f"/v1/cases/{draft}/documents", {"kind": "photo", "content_type": "image/png",
                                                  "size": 10, "sha256": "0" * 64}),
        ("GET", f"/v1/cases/{case_id}/authorizations", None),
        ("GET", f"/v1/documents/{document['id']}", None),
        ("DELETE", f"/v1/documents/{document['id']}", None),
        ("GET", f"/v1/authorizations/{authorization['id']}/qr.png", None),
        ("GET", f"/v1/authorizations/{authorization['id']}/qr.svg", None),
    ]
    before = snapshot()
    for method, path, body in attempts:
        r = client.open(path, method=method, json=body, headers=other.headers)
        assert_problem(r, 404, "not_found")
    r = client.put(pending["upload"]["url"], data=docs.jpeg(1_000), content_type="image/jpeg",
                   headers=other.headers)
    assert_problem(r, 404, "not_found")
    assert snapshot() == before
    for method, path, _ in attempts[:2] + attempts[6:8] + attempts[9:]:
        assert client.open(path, method=method, headers=owner.headers).status_code == 200, path


# API2: broken authentication -------------------------------------------------------------

def test_api2_broken_authentication(app, client, register_relative):
    _, _, tokens = register_relative()
    r = client.post("/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert r.status_code == 200
    fresh = r.get_json()
    assert_problem(client.post("/v1/auth/refresh", headers=bearer(tokens["refresh_token"])),
                   401, "token_revoked")
    assert_problem(client.get("/v1/me", headers=bearer(fresh["access_token"])), 401,
                   "token_revoked")
    _, _, tokens = register_relative()
    assert client.post("/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204
    assert_problem(client.get("/v1/cases", headers=bearer(tokens["access_token"])), 401,
                   "token_revoked")
    assert_problem(client.post("/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401,
                   "token_revoked")
    _, _, tokens = register_relative()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    unsigned = f"{none_header}.{tokens['access_token'].split('.')[1]}."
    assert_problem(client.get("/v1/cases", headers=bearer(unsigned)), 401, "unauthorized")
    expired = jwt.encode({**claims, "exp": claims["iat"] - 1, "nbf": claims["iat"] - 60},
                         app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert_problem(client.get("/v1/cases", headers=bearer(expired)), 401, "token_expired")
    assert_problem(client.get("/v1/cases", headers=bearer(tokens["refresh_token"])), 401,
                   "unauthorized")


def test_api2_staff_need_totp(client):
    created = accounts.create_staff(email="owasp-officer@kinpass.example", full_name="Officer",
                                    role="officer", actor=SYSTEM)
    unit_of_work.commit()
    db.remove()
    login = {"login": created["email"], "password": created["password"]}
    assert_problem(client.post("/v1/auth/login", json=login), 401, "otp_required")
    assert_problem(client.post("/v1/auth/login", json={**login, "otp": "000000"}), 401,
                   "invalid_otp")
    otp = pyotp.TOTP(created["totp_secret"]).now()
    assert client.post("/v1/auth/login", json={**login, "otp": otp}).status_code == 200
    assert_problem(client.post("/v1/auth/login", json={**login, "otp": otp}), 401, "invalid_otp")


# API3: broken object property level authorization ---------------------------------------

STAFF_ONLY = {"checks", "match_candidates", "linked_prisoner", "decisions", "applicant_account",
              "prisoner_id", "prisoner", "notes", "score", "account_id"}


@pytest.mark.parametrize("field,value", [("status", "approved"), ("id", str(uuid.UUID(int=9))),
                                         ("account_id", str(uuid.UUID(int=9))),
                                         ("prisoner_id", str(uuid.UUID(int=9))),
                                         ("status_history", []), ("created_at", "2020-01-01")])
def test_api3_mass_assignment_is_refused(client, world, field, value):
    relative = world.relative()
    case_id = docs.open_case(client, relative.token)
    before = snapshot()
    r = client.patch(f"/v1/cases/{case_id}", json={field: value}, headers=relative.headers,
                     content_type="application/merge-patch+json")
    body = assert_problem(r, 400, "validation_error")
    assert field in json.dumps(body["errors"])
    assert snapshot() == before


def test_api3_relative_view_has_no_staff_properties(client, world):
    relative, case_id, prisoner_id = world.approved_case()
    world.travel(case_id)
    r = client.get(f"/v1/cases/{case_id}", headers=relative.headers)
    assert r.status_code == 200
    view = r.get_json()
    assert not STAFF_ONLY & set(view)
    staff_view = client.get(f"/v1/admin/cases/{case_id}", headers=world.officer).get_json()
    registry_number = staff_view["linked_prisoner"]["registry_number"]
    text = r.get_data(as_text=True)
    assert registry_number not in text and prisoner_id.hex not in text.replace("-", "")
    listed = client.get("/v1/cases", headers=relative.headers).get_json()["items"]
    assert all(not STAFF_ONLY & set(item) for item in listed)


# API4: unrestricted resource consumption -----------------------------------------------

def test_api4_resource_limits(app, client, world):
    relative = world.relative()
    settings = app.extensions["kinpass"].settings
    huge = {"relationship": "mother", "applicant": {"surname": "x" * settings.max_json_bytes}}
    assert_problem(client.post("/v1/cases", json=huge, headers=relative.headers), 413,
                   "payload_too_large")
    assert_problem(client.get("/v1/cases?limit=101", headers=relative.headers), 400,
                   "validation_error")
    assert client.get("/v1/cases?limit=100", headers=relative.headers).status_code == 200
    case_id = docs.open_case(client, relative.token)
    limit = app.extensions["kinpass"].runtime.settings.max_upload_bytes
    r = client.post(f"/v1/cases/{case_id}/documents", headers=relative.headers, json={
        "kind": "passport", "content_type": "image/jpeg", "size": limit + 1,
        "sha256": "0" * 64})
    assert_problem(r, 413, "payload_too_large")
    with docs.max_upload(app, 4_000):
        document = docs.declare(client, relative.token, case_id, docs.jpeg(3_000)).get_json()
        r = docs.put(client, relative.token, document, docs.jpeg(5_000))
        assert_problem(r, 413, "payload_too_large")
    assert docs.document_row(document["id"]).status == "pending_upload"


# API5: broken function level authorization ---------------------------------------------

@pytest.fixture
def callers(register_relative, make_staff) -> Callers:
    return Callers(register_relative, make_staff)


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_api5_function_level_authorization(client, callers, route):
    content_type = (route.content_types or ("application/json",))[0]
    kwargs = {"data": b"{}" if content_type == "application/json" else b"x",
              "content_type": content_type} if route.method in ("POST", "PUT", "PATCH") else {}
    if route.public:
        r = client.open(route.path(), method=route.method, **kwargs)
        assert r.status_code not in (401, 403), (route, r.status_code)
        return
    assert_problem(client.open(route.path(), method=route.method, **kwargs), 401,
                   "unauthorized")
    for role in ROLES:
        r = client.open(route.path(), method=route.method, headers=callers.headers(role),
                        **kwargs)
        if role in route.roles and route.endpoint in REFRESH_ENDPOINTS:
            assert_problem(r, 401, "unauthorized")  # an access token where a refresh one goes
        elif role in route.roles:
            assert r.status_code not in (401, 403), (route, role, r.status_code)
        else:
            assert_problem(r, 403, "forbidden")


def test_api5_every_route_declares_its_roles_in_the_document():
    for route in ROUTES:
        operation = route.operation(DOCUMENT)
        if route.public:
            assert {"bearerAuth": []} not in (operation.get("security") or []), route
        else:
            assert operation["security"] == [{"bearerAuth": []}], route
            assert operation["description"].endswith(", ".join(sorted(route.roles))), route


# API6: unrestricted access to sensitive business flows -----------------------------------

def test_api6_registration_and_code_sends_are_limited(client):
    body = {"email": "flood@example.org", "password": "Kyiv-Reunion-2026", "full_name": "F"}
    answers = [client.post("/v1/auth/register", json=body).status_code for _ in range(5)]
    answers += [client.post("/v1/auth/resend", json={"login": body["email"]}).status_code
                for _ in range(2)]
    assert answers[0] == 202 and 429 in answers
    r = client.post("/v1/auth/resend", json={"login": body["email"]})
    assert_problem(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0


def test_api6_login_lockout(client, register_relative):
    email, password, _ = register_relative()
    for _ in range(10):
        assert_problem(client.post("/v1/auth/login", json={"login": email, "password": "wrong-1"}),
                       401, "invalid_credentials")
    r = client.post("/v1/auth/login", json={"login": email, "password": password})
    assert_problem(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0


def test_api6_issuance_preconditions(world):
    _, case_id, _ = world.approved_case()
    before = snapshot()
    world.issue(case_id, {"kind": "pickup", "handover_id": world.handover()["id"]}, expect=409)
    _, in_review, _ = world.approved_case(status="in_review")
    world.issue(in_review, {"kind": "travel", "valid_from": "2030-01-01T00:00:00Z",
                            "valid_until": "2030-01-02T00:00:00Z"}, expect=409)
    after = snapshot()
    assert after[0]["authorizations"] == before[0]["authorizations"]


# API7: server side request forgery -------------------------------------------------------

URLISH = ("url", "uri", "href", "endpoint", "callback", "webhook", "link", "host")


def _properties(schema: dict, components: dict, seen: set) -> list[tuple[str, dict]]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        schema = components[name]
    found = []
    for key, prop in (schema.get("properties") or {}).items():
        found.append((key, prop))
        found += _properties(prop, components, seen)
    for part in ("items", "additionalProperties"):
        if isinstance(schema.get(part), dict):
            found += _properties(schema[part], components, seen)
    return found


def test_api7_no_input_is_a_url():
    components = DOCUMENT["components"]["schemas"]
    inputs = []
    for route in ROUTES:
        operation = route.operation(DOCUMENT)
        for content in (operation.get("requestBody") or {}).get("content", {}).values():
            inputs += _properties(content.get("schema", {}), components, set())
        inputs += [(p["name"], p.get("schema", {})) for p in operation.get("parameters", [])]
    assert len(inputs) > 20
    for name, prop in inputs:
        assert prop.get("format") not in ("uri", "url", "uri-reference", "hostname"), name
        assert not any(word in name.lower() for word in URLISH), name


# API8: security misconfiguration ---------------------------------------------------------

@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "GET"], ids=str)
def test_api8_headers(client, callers, route):
    r = client.get(route.path(), headers={**callers.admitted(route), **REASON,
                                          "Origin": "https://evil.example"})
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    if route.rule.startswith("/v1"):
        assert r.headers["Cache-Control"] == "no-store"
    assert "Server" not in r.headers and "X-Powered-By" not in r.headers
    assert not [h for h in r.headers.keys() if h.lower().startswith("access-control-")]
    preflight = client.options(route.path(), headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


# API9: improper inventory management -----------------------------------------------------

def test_api9_inventory_is_the_document(app):
    served = {(r.spec_path, r.method) for r in ROUTES}
    documented = {(path, method.upper()) for path, item in DOCUMENT["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    assert served == documented - {("/openapi.json", "GET")}
    assert set(map(str, ROUTES)) == set(map(str, app_routes(app)))
    assert not [p for p in DOCUMENT["paths"] if p.startswith(("/v0", "/v2", "/internal", "/debug"))]


# API10: unsafe consumption of APIs (object store and KMS answers) ------------------------

def test_api10_replaced_object_bytes_are_never_served(app, client, world):
    docs.empty_local_store(app)
    relative = world.relative()
    case_id = docs.open_case(client, relative.token)
    document = docs.upload(client, relative.token, case_id, docs.jpeg(150_000))
    docs.move_case(case_id, "submitted")
    objects = app.extensions["kinpass"].runtime.objects
    (key,) = docs.stored_keys()
    objects.put_stream(key, [docs.MARKER + b"\xff\xd8\xff\xe0" + b"\x00" * 150_000])
    r = client.get(f"/v1/admin/documents/{document['id']}/content",
                   headers={**world.officer, **REASON})
    assert r.mimetype == "application/problem+json", r.status_code
    assert docs.MARKER not in r.get_data()
    assert r.status_code in (410, 422, 503)


def test_api10_kms_answer_for_another_context_fails(s3_server):
    kms = kms_client(s3_server, "us-east-1")
    key_id = kms.create_key(Description="kinpass assurance KEK")["KeyMetadata"]["KeyId"]
    provider = KmsKeyProvider(key_id, kms)
    wrapped = provider.wrap(b"k" * 32, b"document:one")
    assert provider.unwrap(wrapped, b"document:one") == b"k" * 32
    with pytest.raises(InvalidCiphertext):
        provider.unwrap(wrapped, b"document:two")
    spliced = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(InvalidCiphertext):
        provider.unwrap(spliced, b"document:one")
