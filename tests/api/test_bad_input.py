"""Hostile input on the foundation's routes: a 4xx problem with a stable code, nothing stored."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import func, select

from api.app import create_app
from storage.db import session as db
from storage.models import Account
from tests.support.http import bearer

GOOD = {"email": "x@example.org", "password": "Kyiv-Reunion-2026", "full_name": "X"}


def _accounts() -> int:
    count = db().execute(select(func.count()).select_from(Account)).scalar_one()
    db.remove()
    return count


def _assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code and body["status"] == status
    assert body["type"].endswith("/" + code) and body["title"] and body["detail"]
    text = response.get_data(as_text=True)
    for leak in ("Traceback", "sqlalchemy", "SELECT", "Exception", "File \""):
        assert leak not in text
    return body


@pytest.mark.parametrize("data,ctype,status,code", [
    (b'{"email": "x@example.org",', "application/json", 400, "malformed_json"),
    (b"\xff\xfe{\x00}", "application/json", 400, "malformed_json"),
    (b'{"email": "\xc3\x28"}', "application/json", 400, "malformed_json"),
    (b"[" * 300_000 + b"]" * 300_000, "application/json", 413, "payload_too_large"),
    (b"[" * 50_000 + b"]" * 50_000, "application/json", 400, "malformed_json"),
    (b"email=x%40example.org&password=p", "application/x-www-form-urlencoded", 415,
     "unsupported_media_type"),
    (b"<xml/>", "text/xml", 415, "unsupported_media_type"),
    (json.dumps({**GOOD, "role": "admin"}).encode(), "application/json", 400, "validation_error"),
    (json.dumps({**GOOD, "email": 5}).encode(), "application/json", 400, "validation_error"),
    (json.dumps({**GOOD, "phone": "0441234567", "email": None}).encode(), "application/json",
     400, "validation_error"),
    (json.dumps([GOOD]).encode(), "application/json", 400, "validation_error"),
    (json.dumps({**GOOD, "full_name": "x" * 5000}).encode(), "application/json", 400,
     "validation_error"),
    (json.dumps({**GOOD, "email": "x'; DROP TABLE accounts;--@example.org"}).encode(),
     "application/json", 400, "validation_error"),
    (b"", "application/json", 400, "validation_error"),
])
def test_register_rejects(client, data, ctype, status, code):
    r = client.post("/v1/auth/register", data=data, content_type=ctype)
    _assert_problem(r, status, code)
    assert _accounts() == 0


def test_huge_json_body_is_413(client):
    body = json.dumps({**GOOD, "full_name": "x" * (400 * 1024)})
    _assert_problem(client.post("/v1/auth/register", data=body, content_type="application/json"),
                    413, "payload_too_large")
    assert _accounts() == 0


def test_unknown_field_is_named(client):
    r = client.post("/v1/auth/register", json={**GOOD, "is_admin": True})
    body = _assert_problem(r, 400, "validation_error")
    assert "is_admin" in body["errors"]


def test_404_405_and_trace(client):
    _assert_problem(client.get("/v1/nothing-here"), 404, "not_found")
    r = client.get("/v1/auth/login")
    _assert_problem(r, 405, "method_not_allowed")
    assert "POST" in r.headers["Allow"]
    _assert_problem(client.open("/v1/me", method="TRACE"), 405, "method_not_allowed")
    _assert_problem(client.post("/v1/admin/staff/not-a-uuid/disable"), 404, "not_found")


def test_unknown_query_parameter_is_rejected(client, make_staff):
    admin = make_staff("admin")
    r = client.get("/v1/admin/staff?limit=500", headers=bearer(admin["access_token"]))
    _assert_problem(r, 400, "validation_error")
    r = client.get("/v1/admin/staff?limit=abc", headers=bearer(admin["access_token"]))
    _assert_problem(r, 400, "validation_error")
    r = client.get("/v1/admin/staff?colour=red", headers=bearer(admin["access_token"]))
    _assert_problem(r, 400, "validation_error")


def _forge(claims: dict, key: str = "not-the-key", alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def test_forged_tampered_and_none_tokens(app, client, register_relative):
    _, _, tokens = register_relative()
    access = tokens["access_token"]
    claims = jwt.decode(access, options={"verify_signature": False})
    forged = _forge(claims)
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = access.split(".")[1]
    none_token = f"{header}.{payload}."
    head, _, sig = access.split(".")
    tampered_claims = {**claims, "role": "admin"}
    tampered_body = base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).rstrip(
        b"=").decode()
    tampered = f"{head}.{tampered_body}.{sig}"
    for token in (forged, none_token, tampered, "garbage", "a.b.c", ""):
        _assert_problem(client.get("/v1/me", headers=bearer(token)), 401, "unauthorized")
    _assert_problem(client.get("/v1/me"), 401, "unauthorized")
    _assert_problem(client.get("/v1/me", headers={"Authorization": "Basic eDp5"}), 401,
                    "unauthorized")


def test_expired_token(app, client, register_relative):
    _, _, tokens = register_relative()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims["exp"] = claims["iat"] - 1
    claims["nbf"] = claims["iat"] - 100
    key = app.config["JWT_SECRET_KEY"]
    expired = jwt.encode(claims, key, algorithm="HS256")
    _assert_problem(client.get("/v1/me", headers=bearer(expired)), 401, "token_expired")


def test_token_for_another_audience_is_refused(app, client, register_relative):
    _, _, tokens = register_relative()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims["aud"] = "kinpass-checkpoint"
    other = jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    _assert_problem(client.get("/v1/me", headers=bearer(other)), 401, "unauthorized")
    assert timedelta(minutes=15).total_seconds() == tokens["expires_in"]


def test_headers_on_every_response(client):
    for r in (client.get("/healthz"), client.get("/v1/me"), client.get("/openapi.json")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Request-Id"]
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/v1/me").headers["Cache-Control"] == "no-store"
    assert client.get("/healthz", headers={"X-Request-Id": "abc.DEF_1-2"}).headers[
        "X-Request-Id"] == "abc.DEF_1-2"
    generated = client.get("/healthz", headers={"X-Request-Id": "bad id\u2028<script>"})
    assert generated.headers["X-Request-Id"] != "bad id\u2028<script>"
    assert client.get("/healthz", headers={"X-Request-Id": "x" * 65}).headers[
        "X-Request-Id"] != "x" * 65


@pytest.mark.parametrize("language,title", [("ru", "Не найдено"), ("uk", "Не знайдено"),
                                            ("en", "Not found"), ("de", "Not found"),
                                            ("uk-UA,uk;q=0.9", "Не знайдено")])
def test_problems_are_localised(client, language, title):
    r = client.get("/v1/nowhere", headers={"Accept-Language": language})
    assert r.get_json()["title"] == title


def test_internal_error_says_nothing(app, base_config):
    other = create_app(base_config)

    @other.route("/__boom_for_test")
    def boom():
        raise RuntimeError("secret SELECT * FROM accounts")

    r = other.test_client().get("/__boom_for_test")
    body = _assert_problem(r, 500, "internal_error")
    assert set(body) == {"type", "title", "status", "detail", "code"}
