"""Session tokens (flask-jwt-extended, HS256 pinned) and their checks."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import jwt as pyjwt
from flask import Flask
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    exceptions as jwt_errors,
)

from storage.errors import TokenExpired, TokenRevoked, Unauthorized
from storage.models.accounts import Account, AuthSession

ACCESS_TTL = timedelta(minutes=15)
RELATIVE_REFRESH_TTL = timedelta(days=30)
STAFF_REFRESH_TTL = timedelta(hours=12)
AUDIENCE = "kinpass-api"

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


def translate_jwt_error(exc: Exception) -> Exception:
    """The library's failures in the contract's words: expired, revoked, or unauthorized."""
    if isinstance(exc, pyjwt.ExpiredSignatureError):
        return TokenExpired()
    if isinstance(exc, jwt_errors.RevokedTokenError):
        return TokenRevoked()
    return Unauthorized()


JWT_ERRORS = (jwt_errors.JWTExtendedException, pyjwt.PyJWTError)
