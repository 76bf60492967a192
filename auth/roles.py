"""Who is calling: one decorator per route declares the roles it admits."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Any

from flask import g, request
from sqlalchemy import bindparam, select

from auth.tokens import verify_bearer
from storage.db import session as db, utcnow
from storage.domain_errors import Forbidden, TokenRevoked, Unauthorized
from storage.models.accounts import Account, AuthSession
from storage.vocabulary import AccountStatus, Role

ANY_ROLE = tuple(Role)

# Revocation is immediate, so every request reads its session, and with it the account's
# public profile (never its password hash or second factor).
PROFILE = (Account.id, Account.email, Account.phone, Account.full_name, Account.role,
           Account.language, Account.status, Account.created_at)
_LIVE_SESSION = (
    select(AuthSession.expires_at, AuthSession.revoked_at, *PROFILE)
    .join(Account, Account.id == AuthSession.account_id)
    .where(AuthSession.id == bindparam("session_id"), Account.id == bindparam("account_id")))


@dataclass
class Caller:
    session_id: uuid.UUID
    claims: dict[str, Any]
    profile: Any  # the row of PROFILE columns, read with the session

    @property
    def account_id(self) -> uuid.UUID:
        return self.profile.id

    @property
    def role(self) -> Role:
        return self.profile.role

    @cached_property
    def account(self) -> Account:
        """The account as a model, loaded only by the routes that need more than its
        public profile (to change it, or to act as it in a service)."""
        account = db().get(Account, self.account_id)
        if account is None:
            raise TokenRevoked()
        return account


def authenticate(refresh: bool = False) -> Caller:
    """Verify the bearer token and that its session and account are still alive."""
    claims = verify_bearer(request.headers.get("Authorization"), refresh=refresh)
    try:
        account_id = uuid.UUID(claims["sub"])
        session_id = uuid.UUID(claims["sid"])
    except (ValueError, TypeError, AttributeError):
        raise Unauthorized() from None
    live = db().connection().execute(
        _LIVE_SESSION, {"session_id": session_id, "account_id": account_id}).first()
    if live is None:
        raise Unauthorized()
    if (live.revoked_at is not None or live.status != AccountStatus.ACTIVE
            or live.expires_at <= utcnow()):
        raise TokenRevoked()
    caller = Caller(session_id, claims, live)
    g.caller = caller
    return caller


def roles_required(*roles: str, refresh: bool = False) -> Callable:
    """Admit a bearer of the given roles; 401 without a live token, 403 for other roles."""
    allowed = frozenset(roles)
    assert allowed <= set(Role), allowed

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if authenticate(refresh=refresh).role not in allowed:
                raise Forbidden()
            return view(*args, **kwargs)

        wrapper._kinpass_roles = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorator


def current_account() -> Account:
    return g.caller.account


def current_caller() -> Caller:
    return g.caller
