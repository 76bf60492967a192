"""A session kept open by use, as a browser keeps it: ended after a quarter hour idle or at
its absolute end, and a fresh one-time code asked again before the acts that matter most."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from auth.roles import PROFILE
from services.accounts.sessions import LoginAttempt, check_otp
from services.audit.events import record_event
from services.core import unit_of_work
from storage.db import session as db, utcnow
from storage.domain_errors import TokenExpired, TokenRevoked, Unauthorized
from storage.models.accounts import Account, AuthSession
from storage.vocabulary import AccountStatus

IDLE_TIMEOUT = timedelta(minutes=15)
FRESH_OTP = timedelta(minutes=5)

_SESSION = (
    select(AuthSession.expires_at, AuthSession.revoked_at, AuthSession.last_used_at,
           AuthSession.otp_at, *PROFILE)
    .join(Account, Account.id == AuthSession.account_id)
    .where(AuthSession.id == bindparam("session_id"), Account.id == bindparam("account_id")))


def resume_session(session_id: uuid.UUID, account_id: uuid.UUID) -> Any:
    """The live session's row (the account's public profile with it), its use noted; a
    session idle past its timeout ends there, for its bearer tokens too."""
    live = db().connection().execute(
        _SESSION, {"session_id": session_id, "account_id": account_id}).first()
    if live is None:
        raise Unauthorized()
    now = utcnow()
    if live.revoked_at is not None or live.status != AccountStatus.ACTIVE:
        raise TokenRevoked()
    if live.expires_at <= now:
        raise TokenExpired()
    if live.last_used_at is not None and live.last_used_at + IDLE_TIMEOUT <= now:
        db().execute(update(AuthSession).where(AuthSession.id == session_id)
                     .values(revoked_at=now))
        record_event("auth.session_idle", live, subject_type="session",
                     subject_id=session_id, reason="idle timeout")
        unit_of_work.keep_on_refusal()
        raise TokenExpired()
    db().execute(update(AuthSession).where(AuthSession.id == session_id)
                 .values(last_used_at=now))
    return live


def otp_is_fresh(otp_at: Any) -> bool:
    return otp_at is not None and otp_at + FRESH_OTP > utcnow()


def confirm_fresh_otp(*, account: Account, session_id: uuid.UUID, otp_at: Any,
                      otp: str | None, ip: str | None) -> None:
    """Pass when the session's last one-time code is at most five minutes old; else take
    `otp` (401 otp_required without one, invalid_otp for a wrong or replayed one)."""
    if otp_is_fresh(otp_at):
        return
    check_otp(LoginAttempt(login=account.email or "", password="", otp=otp or None, ip=ip),
              account, action="auth.reauthenticate")
    db().execute(update(AuthSession).where(AuthSession.id == session_id)
                 .values(otp_at=utcnow()))
    record_event("auth.reauthenticate", account, subject_type="session",
                 subject_id=session_id)
