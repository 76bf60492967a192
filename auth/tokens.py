"""Session tokens: issued with flask-jwt-extended, verified with PyJWT; HS256 pinned."""
from __future__ import annotations

import time
import uuid
from datetime import timedelta
from functools import lru_cache
from typing import Any

import jwt as pyjwt
from flask import Flask, current_app
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token

from storage.domain_errors import TokenExpired, Unauthorized
from storage.models.accounts import Account, AuthSession

ACCESS_TTL = timedelta(minutes=15)
RELATIVE_REFRESH_TTL = timedelta(days=30)
STAFF_REFRESH_TTL = timedelta(hours=12)
AUDIENCE = "kinpass-api"
REQUIRED_CLAIMS = ("exp", "iat", "nbf", "iss", "aud", "sub", "sid", "type")

jwt_manager = JWTManager()


def init_tokens(app: Flask, secret: bytes, issuer: str) -> None:
    app.config.update(
        JWT_SECRET_KEY=secret, JWT_ALGORITHM="HS256", JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_ACCESS_TOKEN_EXPIRES=ACCESS_TTL, JWT_TOKEN_LOCATION=["headers"],
        JWT_ENCODE_AUDIENCE=AUDIENCE, JWT_DECODE_AUDIENCE=AUDIENCE,
        JWT_ENCODE_ISSUER=issuer, JWT_DECODE_ISSUER=issuer, JWT_DECODE_LEEWAY=0,
        JWT_ENCODE_NBF=True, JWT_ERROR_MESSAGE_KEY="detail",
    )
    jwt_manager.init_app(app)


@lru_cache(maxsize=4096)
def _verified_claims(token: str, secret: bytes, issuer: str) -> dict[str, Any]:
    """Signature, audience, issuer and lifetime, checked once per token: a client sends the
    same access token with every request of its quarter hour. Failures are not kept."""
    claims = pyjwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE,
                          issuer=issuer, options={"require": list(REQUIRED_CLAIMS)})
    if not _well_typed(claims):
        raise pyjwt.InvalidTokenError("a claim of the wrong type")
    return claims


def _well_typed(claims: dict[str, Any]) -> bool:
    """The claims as this server issues them: whole seconds, and strings for the rest (a
    token signed with the right key may still carry anything)."""
    times = all(type(claims[name]) is int for name in ("exp", "iat", "nbf"))
    texts = all(type(claims[name]) is str for name in ("sub", "sid", "type"))
    return times and texts and type(claims.get("jti", "")) is str


def verify_bearer(authorization: str | None, *, refresh: bool = False) -> dict[str, Any]:
    """The claims of a session token from an `Authorization: Bearer` header: HS256 only,
    our audience and issuer, inside its lifetime, and of the kind asked for."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "Bearer" or not token or " " in token:
        raise Unauthorized()
    config = current_app.config
    try:
        claims = _verified_claims(token, config["JWT_SECRET_KEY"], config["JWT_DECODE_ISSUER"])
    except pyjwt.ExpiredSignatureError:
        raise TokenExpired() from None
    except (pyjwt.PyJWTError, TypeError, ValueError, OverflowError):
        raise Unauthorized() from None
    if claims["exp"] <= time.time():  # verified earlier, expired since
        raise TokenExpired()
    if claims["type"] != ("refresh" if refresh else "access"):
        raise Unauthorized()
    return dict(claims)


def refresh_ttl(account: Account) -> timedelta:
    return STAFF_REFRESH_TTL if account.is_staff else RELATIVE_REFRESH_TTL


def new_jti() -> str:
    return uuid.uuid4().hex


def issue_pair(account: Account, session: AuthSession) -> dict[str, Any]:
    claims = {"sid": str(session.id), "role": account.role}
    access = create_access_token(identity=str(account.id), additional_claims=claims,
                                 expires_delta=ACCESS_TTL)
    refresh = create_refresh_token(identity=str(account.id),
                                   additional_claims={**claims, "jti": session.refresh_jti},
                                   expires_delta=refresh_ttl(account))
    # "Bearer" is the RFC 6750 token type, not a secret.
    return {"access_token": access, "refresh_token": refresh,
            "token_type": "Bearer",  # nosec B105
            "expires_in": int(ACCESS_TTL.total_seconds())}
