"""Session tokens: HS256 only, our audience and issuer, inside their lifetime, of their kind."""
from __future__ import annotations

import time
import uuid

import jwt as pyjwt
import pytest
from flask import Flask

from auth.tokens import AUDIENCE, init_tokens, verify_bearer
from storage.domain_errors import TokenExpired, Unauthorized

SECRET = b"k" * 64
ISSUER = "https://kinpass.test"


@pytest.fixture(scope="module")
def flask_app() -> Flask:
    application = Flask("tokens")
    init_tokens(application, SECRET, ISSUER)
    return application


def token(secret: bytes = SECRET, algorithm: str = "HS256", **overrides) -> str:
    now = int(time.time())
    claims = {"exp": now + 600, "iat": now, "nbf": now, "iss": ISSUER, "aud": AUDIENCE,
              "sub": str(uuid.uuid4()), "sid": str(uuid.uuid4()), "type": "access",
              "jti": uuid.uuid4().hex, **overrides}
    claims = {k: v for k, v in claims.items() if v is not None}
    return pyjwt.encode(claims, secret, algorithm=algorithm)


def verify(flask_app: Flask, header: str | None, **kwargs) -> dict:
    with flask_app.app_context():
        return verify_bearer(header, **kwargs)


def test_a_good_access_token_gives_its_claims(flask_app):
    claims = verify(flask_app, f"Bearer {token(sub='abc')}")
    assert claims["sub"] == "abc" and claims["type"] == "access"


def test_a_refresh_token_is_only_good_where_a_refresh_is_asked_for(flask_app):
    refresh = token(type="refresh")
    assert verify(flask_app, f"Bearer {refresh}", refresh=True)["type"] == "refresh"
    with pytest.raises(Unauthorized):
        verify(flask_app, f"Bearer {refresh}")
    with pytest.raises(Unauthorized):
        verify(flask_app, f"Bearer {token()}", refresh=True)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc",
                                    "bearer x.y.z", "Bearer a b", "Token x.y.z"])
def test_malformed_headers_are_unauthorized(flask_app, header):
    with pytest.raises(Unauthorized):
        verify(flask_app, header)


@pytest.mark.parametrize("forged", [
    {"secret": b"another-secret" * 5},
    {"algorithm": "HS512"},
    {"iss": "https://elsewhere.test"},
    {"aud": "another-api"},
    {"nbf": int(time.time()) + 3600},
    {"sid": None},
    {"type": None},
])
def test_forged_or_foreign_tokens_are_unauthorized(flask_app, forged):
    with pytest.raises(Unauthorized):
        verify(flask_app, f"Bearer {token(**forged)}")


def test_an_unsigned_token_is_unauthorized(flask_app):
    now = int(time.time())
    unsigned = pyjwt.encode({"exp": now + 60, "iat": now, "nbf": now, "iss": ISSUER,
                             "aud": AUDIENCE, "sub": "x", "sid": "y", "type": "access"},
                            None, algorithm="none")
    with pytest.raises(Unauthorized):
        verify(flask_app, f"Bearer {unsigned}")


def test_an_expired_token_says_so(flask_app):
    with pytest.raises(TokenExpired):
        verify(flask_app, f"Bearer {token(exp=int(time.time()) - 1)}")


def test_a_token_verified_while_fresh_expires_all_the_same(flask_app, monkeypatch):
    fresh = token(exp=int(time.time()) + 2)
    assert verify(flask_app, f"Bearer {fresh}")
    later = time.time() + 5
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(TokenExpired):
        verify(flask_app, f"Bearer {fresh}")
