"""Who is calling: one decorator per route declares the roles it admits."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import g
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from sqlalchemy import select

from auth.tokens import JWT_ERRORS, translate_jwt_error
from storage.db import session as db, utcnow
from storage.errors import Forbidden, TokenRevoked, Unauthorized
from storage.models.accounts import ROLES, STAFF_ROLES, Account, AuthSession

ANY_ROLE = ROLES
STAFF = STAFF_ROLES
CASE_STAFF = ("officer", "supervisor")


@dataclass(frozen=True)
class Caller:
    account: Account
    session_id: uuid.UUID
    claims: dict[str, Any]


def authenticate(refresh: bool = False) -> Caller:
    """Verify the bearer token and that its session and account are still alive."""
    try:
        verify_jwt_in_request(refresh=refresh)
        claims = get_jwt()
        account_id = uuid.UUID(claims["sub"])
        session_id = uuid.UUID(claims["sid"])
    except JWT_ERRORS as exc:
        raise translate_jwt_error(exc) from None
    except (KeyError, ValueError, TypeError):
        raise Unauthorized() from None
    row = db().execute(
        select(AuthSession, Account).join(Account, Account.id == AuthSession.account_id)
        .where(AuthSession.id == session_id, Account.id == account_id)).first()
    if row is None:
        raise Unauthorized()
    auth_session, account = row
    if (auth_session.revoked_at is not None or account.status != "active"
            or auth_session.expires_at <= utcnow()):
        raise TokenRevoked()
    caller = Caller(account, session_id, dict(claims))
    g.caller = caller
    return caller


def roles_required(*roles: str, refresh: bool = False) -> Callable:
    """Admit a bearer of the given roles; 401 without a live token, 403 for other roles."""
    allowed = frozenset(roles)
    assert allowed <= set(ROLES), allowed

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = authenticate(refresh=refresh)
            if caller.account.role not in allowed:
                raise Forbidden()
            return view(*args, **kwargs)

        wrapper._kinpass_roles = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorator


def current_account() -> Account:
    return g.caller.account


def current_caller() -> Caller:
    return g.caller
