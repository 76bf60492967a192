"""Session tokens on every request: verified signatures are remembered per token, but the
lifetime, the kind and the session are checked again each time."""
from __future__ import annotations

import time

import jwt
import pytest

from auth import tokens
from storage.domain_errors import TokenExpired, Unauthorized
from tests.support.http import bearer


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_remembered_token_still_expires(app, client, register_relative, monkeypatch):
    _, _, pair = register_relative()
    access = pair["access_token"]
    assert client.get("/v1/me", headers=bearer(access)).status_code == 200  # now remembered
    later = _claims(access)["exp"] + 1
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    r = client.get("/v1/me", headers=bearer(access))
    assert r.status_code == 401 and r.get_json()["code"] == "token_expired"


def test_a_remembered_refresh_token_is_no_access_token(app, register_relative):
    _, _, pair = register_relative()
    header = f"Bearer {pair['refresh_token']}"
    with app.test_request_context():
        assert tokens.verify_bearer(header, refresh=True)["type"] == "refresh"
        with pytest.raises(Unauthorized):
            tokens.verify_bearer(header)


def test_a_refused_token_is_not_remembered(app, register_relative):
    _, _, pair = register_relative()
    claims = _claims(pair["access_token"])
    claims["exp"] = int(time.time()) - 1
    expired = jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    tokens._verified_claims.cache_clear()
    with app.test_request_context():
        for _ in range(2):
            with pytest.raises(TokenExpired):
                tokens.verify_bearer(f"Bearer {expired}")
    assert tokens._verified_claims.cache_info().currsize == 0


def test_the_caller_gets_a_copy_of_the_claims(app, register_relative):
    _, _, pair = register_relative()
    header = f"Bearer {pair['access_token']}"
    with app.test_request_context():
        tokens.verify_bearer(header)["sub"] = "someone else"
        assert tokens.verify_bearer(header)["sub"] == _claims(pair["access_token"])["sub"]


def test_revocation_is_seen_by_the_next_request(client, register_relative):
    _, _, pair = register_relative()
    access = pair["access_token"]
    assert client.get("/v1/me", headers=bearer(access)).status_code == 200
    assert client.post("/v1/auth/logout", headers=bearer(access),
                       json={"refresh_token": pair["refresh_token"]}).status_code == 204
    r = client.get("/v1/me", headers=bearer(access))
    assert r.status_code == 401 and r.get_json()["code"] == "token_revoked"
