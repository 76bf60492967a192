"""Signing in and the sessions it opens: login under its limits, unlock by code, refresh
rotation, logout, and one's own list of sessions."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from auth import passwords, totp
from auth.ratelimit import refusal
from auth.tokens import issue_pair, new_jti, refresh_ttl
from services.accounts.contacts import (
    QUARTER,
    contact_kind,
    find_by_login,
    keyed,
    limit_sends,
    live_codes,
    match_code,
    normalize_login,
    send_code,
)
from services.audit.events import record_event
from services.core import runtime, unit_of_work
from storage.db import session as db, utcnow
from storage.domain_errors import (
    AccountDisabled,
    Forbidden,
    InvalidCode,
    InvalidCredentials,
    InvalidOtp,
    NotFound,
    OtpRequired,
    RateLimited,
    TokenRevoked,
)
from storage.models.accounts import Account, AuthSession, ContactCode
from storage.vocabulary import AccountStatus, AuditOutcome, CodePurpose

LOGIN_FAILURES_PER_LOGIN, LOGIN_FAILURES_PER_IP = 10, 100


def totp_context(account_id: uuid.UUID) -> bytes:
    return b"totp:" + account_id.bytes


@dataclass(frozen=True)
class LoginAttempt:
    login: str
    password: str
    otp: str | None
    ip: str | None


@dataclass(frozen=True)
class _Slots:
    """The attempt, counted before it is judged; a login that succeeds gives its counts
    back."""

    login_key: str
    ip_key: str | None
    at: float

    def release(self) -> None:
        limiter = runtime.get().limiter
        limiter.release(self.login_key, QUARTER, self.at)
        if self.ip_key:
            limiter.release(self.ip_key, QUARTER, self.at)


def _refused(attempt: LoginAttempt, account: Account | None, error: Exception,
             reason: str, action: str = "auth.login") -> Exception:
    record_event(action, account, subject_type="account",
                 subject_id=account.id if account else None, outcome=AuditOutcome.FAILURE,
                 reason=reason)
    unit_of_work.keep_on_refusal()
    return error


def _usable(attempt: LoginAttempt) -> Account | None:
    """The account, if the password is its own and it may sign in; always one hash's work."""
    account = find_by_login(attempt.login)
    right = passwords.verify_password(account.password_hash if account else None,
                                      attempt.password)
    if not right or account is None or account.status == AccountStatus.PENDING_VERIFICATION:
        return None
    return account


def _lockout(attempt: LoginAttempt, account: Account | None) -> Exception:
    """Past the per-login limit: the owner, with the right password, is sent an unlock code;
    anyone else is only refused."""
    if account is None or account.status != AccountStatus.ACTIVE:
        return _refused(attempt, account, refusal(QUARTER), "login limit")
    login = normalize_login(attempt.login)
    try:
        limit_sends([login], attempt.ip)
    except RateLimited:
        return _refused(attempt, account, refusal(QUARTER), "login limit")
    send_code(purpose=CodePurpose.UNLOCK, channel=contact_kind(login), to=login,
              language=account.language, template="unlock_code", account_id=account.id)
    return _refused(attempt, account, refusal(QUARTER, unlock="code_sent"),
                    "login limit; unlock code sent")


def _open_session(account: Account, password: str) -> AuthSession:
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    now = utcnow()
    auth_session = AuthSession(account_id=account.id, refresh_jti=new_jti(),
                               last_used_at=now, expires_at=now + refresh_ttl(account),
                               otp_at=now if account.is_staff else None)
    db().add(auth_session)
    db().flush()
    return auth_session


def login(attempt: LoginAttempt) -> dict[str, Any]:
    """A new session and its token pair."""
    account, auth_session = sign_in(attempt)
    return issue_pair(account, auth_session)


def sign_in(attempt: LoginAttempt,
            admit: frozenset[str] | None = None) -> tuple[Account, AuthSession]:
    """Open a session for the attempt's account. Each attempt is counted in the same atomic
    step that checks it against the limit. With `admit`, an account of another role is
    refused (403) once its password is known to be right."""
    limiter = runtime.get().limiter
    slots = _Slots(keyed("login", normalize_login(attempt.login)),
                   keyed("login-ip", attempt.ip) if attempt.ip else None, time.time())
    if slots.ip_key and limiter.hit(slots.ip_key, QUARTER, slots.at) > LOGIN_FAILURES_PER_IP:
        raise _refused(attempt, None, refusal(QUARTER), "address limit")
    over_login_limit = limiter.hit(slots.login_key, QUARTER, slots.at) > LOGIN_FAILURES_PER_LOGIN
    account = _usable(attempt)
    if over_login_limit:
        raise _lockout(attempt, account)
    if account is None:
        raise _refused(attempt, find_by_login(attempt.login), InvalidCredentials(),
                       "bad credentials")
    if account.status == AccountStatus.DISABLED:
        raise _refused(attempt, account, AccountDisabled(), "disabled")
    if admit is not None and account.role not in admit:
        raise _refused(attempt, account, Forbidden(), f"role {account.role} not admitted")
    if account.is_staff:
        check_otp(attempt, account)
    slots.release()
    auth_session = _open_session(account, attempt.password)
    record_event("auth.login", account, subject_type="account", subject_id=account.id)
    return account, auth_session


def unlock_login(attempt: LoginAttempt, code: str) -> dict[str, Any]:
    """Sign in past the per-login limit with a code sent to the verified contact; the
    per-address limit still holds."""
    limiter = runtime.get().limiter
    at = time.time()
    ip_key = keyed("login-ip", attempt.ip) if attempt.ip else None
    if ip_key and limiter.hit(ip_key, QUARTER, at) > LOGIN_FAILURES_PER_IP:
        raise _refused(attempt, None, refusal(QUARTER), "address limit")
    account = _usable(attempt)
    candidates = live_codes(CodePurpose.UNLOCK, ContactCode.account_id == account.id,
                            ContactCode.channel == contact_kind(
                                normalize_login(attempt.login))) if account else []
    if match_code(candidates, code) is None:
        raise _refused(attempt, account, InvalidCode(), "unlock: wrong code")
    assert account is not None
    if account.status == AccountStatus.DISABLED:
        raise _refused(attempt, account, AccountDisabled(), "disabled")
    if account.is_staff:
        check_otp(attempt, account)
    if ip_key:
        limiter.release(ip_key, QUARTER, at)
    auth_session = _open_session(account, attempt.password)
    record_event("auth.unlock", account, subject_type="account", subject_id=account.id)
    return issue_pair(account, auth_session)


def check_otp(attempt: LoginAttempt, account: Account, action: str = "auth.login") -> None:
    """A staff account's TOTP code, each accepted once."""
    if not attempt.otp:
        raise _refused(attempt, account, OtpRequired(), "otp required", action)
    secret = runtime.get().keys.unwrap(account.totp_secret_wrapped,
                                       totp_context(account.id)).decode()
    step = totp.matching_step(secret, attempt.otp)
    claimed = step is not None and db().execute(
        update(Account).where(Account.id == account.id, Account.totp_last_step < step)
        .values(totp_last_step=step)).rowcount == 1
    if not claimed:
        raise _refused(attempt, account, InvalidOtp(), "invalid or replayed otp", action)


def refresh_session(*, account: Account, session_id: uuid.UUID, jti: str) -> dict[str, Any]:
    """Rotate the refresh token; a replayed one kills the whole session (reuse detection)."""
    auth_session = db().execute(select(AuthSession).where(AuthSession.id == session_id)
                                .with_for_update()).scalar_one()
    if auth_session.refresh_jti != jti:
        auth_session.revoked_at = utcnow()
        record_event("auth.refresh", account, subject_type="account", subject_id=account.id,
                     outcome=AuditOutcome.DENIED, reason="refresh token reused; session revoked")
        unit_of_work.keep_on_refusal()
        raise TokenRevoked()
    auth_session.refresh_jti = new_jti()
    auth_session.last_used_at = utcnow()
    record_event("auth.refresh", account, subject_type="account", subject_id=account.id)
    return issue_pair(account, auth_session)


def logout_session(*, account: Account, session_id: uuid.UUID) -> None:
    revoke_sessions(account_id=account.id, only=session_id)
    record_event("auth.logout", account, subject_type="account", subject_id=account.id)


def revoke_sessions(*, account_id: uuid.UUID, only: uuid.UUID | None = None,
                    keep: uuid.UUID | None = None) -> int:
    """End the account's live sessions (one, or all but one, or all)."""
    stmt = update(AuthSession).where(AuthSession.account_id == account_id,
                                     AuthSession.revoked_at.is_(None))
    if only is not None:
        stmt = stmt.where(AuthSession.id == only)
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    return db().execute(stmt.values(revoked_at=utcnow())).rowcount


def list_sessions(*, account: Account) -> list[AuthSession]:
    """The account's live sessions, newest first."""
    return list(db().execute(
        select(AuthSession).where(AuthSession.account_id == account.id,
                                  AuthSession.revoked_at.is_(None),
                                  AuthSession.expires_at > utcnow())
        .order_by(AuthSession.created_at.desc(), AuthSession.id)).scalars())


def end_session(*, account: Account, session_id: uuid.UUID) -> None:
    if revoke_sessions(account_id=account.id, only=session_id) != 1:
        raise NotFound()
    record_event("auth.session_revoke", account, subject_type="session",
                 subject_id=session_id)


def end_every_session(*, account: Account) -> None:
    count = revoke_sessions(account_id=account.id)
    record_event("auth.sign_out_everywhere", account, subject_type="account",
                 subject_id=account.id, reason=f"{count} sessions")
