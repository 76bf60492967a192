"""Accounts and sessions: registration, verification, login, refresh, logout, staff."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update

from auth import passwords, totp
from auth.ratelimit import ensure_below, hit_within
from auth.tokens import issue_pair, new_jti, refresh_ttl
from services.audit.events import record_event
from services.core import runtime, unit_of_work
from services.messages.outbox import notify
from storage.db import session as db, utcnow
from storage.domain_errors import (
    AccountDisabled,
    AccountNotVerified,
    Conflict,
    InvalidCode,
    InvalidCredentials,
    InvalidOtp,
    NotFound,
    OtpRequired,
    RateLimited,
    TokenRevoked,
    ValidationFailed,
)
from storage.keys import wrapped_kid
from storage.models.accounts import Account, AuthSession, VerificationCode
from storage.paging import Page, paginate
from storage.vocabulary import (
    DEFAULT_LANGUAGE,
    STAFF_ROLES,
    AccountStatus,
    AuditOutcome,
    Role,
)

CODE_TTL = timedelta(minutes=15)
CODE_TRIES = 5
HOUR, QUARTER = 3600, 900
LOGIN_FAILURES_PER_LOGIN, LOGIN_FAILURES_PER_IP = 10, 100
SENDS_PER_CONTACT, SENDS_PER_IP = 5, 100


def normalize_login(login: str) -> str:
    login = login.strip()
    return login.lower() if "@" in login else login


def _keyed(kind: str, value: str) -> str:
    digest = hmac.new(runtime.get().pepper, value.encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:40]}"


def _find_by_login(login: str) -> Account | None:
    login = normalize_login(login)
    column = Account.email if "@" in login else Account.phone
    return db().execute(select(Account).where(column == login)).scalar_one_or_none()


def _check_password_policy(password: str) -> None:
    problem = passwords.password_problem(password)
    if problem:
        raise ValidationFailed(errors={"password": [problem]})


def _code_hash(account_id: uuid.UUID, code: str) -> str:
    return hmac.new(runtime.get().pepper, f"{account_id}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _totp_context(account_id: uuid.UUID) -> bytes:
    return b"totp:" + account_id.bytes


def _send_code(account: Account) -> None:
    """A new code kills every earlier one."""
    now = utcnow()
    db().execute(update(VerificationCode).where(VerificationCode.account_id == account.id,
                                                VerificationCode.used_at.is_(None))
                 .values(used_at=now))
    code = f"{secrets.randbelow(10**6):06d}"
    db().add(VerificationCode(account_id=account.id, code_hash=_code_hash(account.id, code),
                              expires_at=now + CODE_TTL))
    notify(account.email or account.phone, "verification_code", account.language, code=code,
           account_id=account.id)


def _limit_sends(contact: str, ip: str | None) -> None:
    limiter = runtime.get().limiter
    try:
        hit_within(limiter, _keyed("send", contact), SENDS_PER_CONTACT, HOUR)
        if ip:
            hit_within(limiter, _keyed("send-ip", ip), SENDS_PER_IP, HOUR)
    except RateLimited:
        unit_of_work.keep_on_refusal()  # the attempt counts
        raise


def register_account(*, email: str | None, phone: str | None, password: str, full_name: str,
                     language: str | None, ip: str | None) -> None:
    """Same outcome whether or not the contact is known: a code, or a notice, is sent."""
    if not email and not phone:
        raise ValidationFailed(errors={"email": ["Give an email or a phone number."]})
    _check_password_policy(password)
    email = email.strip().lower() if email else None
    _limit_sends(email or phone, ip)
    clauses = [c for c in (Account.email == email if email else None,
                           Account.phone == phone if phone else None) if c is not None]
    existing = db().execute(select(Account).where(or_(*clauses))).scalars().all()
    if len(existing) > 1 or (existing and existing[0].status != AccountStatus.PENDING_VERIFICATION):
        for account in existing:
            notify(email or phone, "already_registered", account.language)
            record_event("account.register", None, subject_type="account",
                         subject_id=account.id, outcome=AuditOutcome.FAILURE,
                         reason="already registered")
        return
    if existing:
        account = existing[0]
        account.password_hash = passwords.hash_password(password)
        account.full_name, account.language = full_name, language or account.language
        account.email, account.phone = email or account.email, phone or account.phone
    else:
        account = Account(email=email, phone=phone, full_name=full_name, role=Role.RELATIVE,
                          language=language or DEFAULT_LANGUAGE,
                          status=AccountStatus.PENDING_VERIFICATION,
                          password_hash=passwords.hash_password(password))
        db().add(account)
        db().flush()
    _send_code(account)
    record_event("account.register", account, subject_type="account", subject_id=account.id)


def resend_code(*, login: str, ip: str | None) -> None:
    _limit_sends(normalize_login(login), ip)
    account = _find_by_login(login)
    if account is not None and account.status == AccountStatus.PENDING_VERIFICATION:
        _send_code(account)
        record_event("account.resend_code", account, subject_type="account",
                     subject_id=account.id)


def verify_account(*, login: str, code: str) -> None:
    account = _find_by_login(login)
    now = utcnow()
    live = None
    if account is not None and account.status == AccountStatus.PENDING_VERIFICATION:
        live = db().execute(
            select(VerificationCode).where(VerificationCode.account_id == account.id,
                                           VerificationCode.used_at.is_(None),
                                           VerificationCode.expires_at > now,
                                           VerificationCode.attempts < CODE_TRIES)
            .order_by(VerificationCode.created_at.desc()).limit(1)
            .with_for_update()).scalar_one_or_none()
    if live is None:
        raise InvalidCode()
    if not hmac.compare_digest(live.code_hash, _code_hash(account.id, code)):
        live.attempts += 1
        record_event("account.verify", account, subject_type="account", subject_id=account.id,
                     outcome=AuditOutcome.FAILURE, reason="wrong code")
        unit_of_work.keep_on_refusal()
        raise InvalidCode()
    live.used_at = now
    account.status = AccountStatus.ACTIVE
    record_event("account.verify", account, subject_type="account", subject_id=account.id)


@dataclass(frozen=True)
class LoginAttempt:
    login: str
    password: str
    otp: str | None
    ip: str | None


def _login_failed(attempt: LoginAttempt, account: Account | None, error: type,
                  reason: str) -> Exception:
    limiter = runtime.get().limiter
    limiter.hit(_keyed("login", normalize_login(attempt.login)), QUARTER)
    if attempt.ip:
        limiter.hit(_keyed("login-ip", attempt.ip), QUARTER)
    record_event("auth.login", account, subject_type="account",
                 subject_id=account.id if account else None, outcome=AuditOutcome.FAILURE,
                 reason=reason)
    unit_of_work.keep_on_refusal()
    return error()


def login(attempt: LoginAttempt) -> dict[str, Any]:
    limiter = runtime.get().limiter
    ensure_below(limiter, _keyed("login", normalize_login(attempt.login)),
                 LOGIN_FAILURES_PER_LOGIN, QUARTER)
    if attempt.ip:
        ensure_below(limiter, _keyed("login-ip", attempt.ip), LOGIN_FAILURES_PER_IP, QUARTER)
    account = _find_by_login(attempt.login)
    if not passwords.verify_password(account.password_hash if account else None,
                                     attempt.password):
        raise _login_failed(attempt, account, InvalidCredentials, "bad credentials")
    assert account is not None
    if account.status == AccountStatus.PENDING_VERIFICATION:
        raise _login_failed(attempt, account, AccountNotVerified, "not verified")
    if account.status == AccountStatus.DISABLED:
        raise _login_failed(attempt, account, AccountDisabled, "disabled")
    if account.is_staff:
        _check_otp(attempt, account)
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(attempt.password)
    auth_session = AuthSession(account_id=account.id, refresh_jti=new_jti(),
                               expires_at=utcnow() + refresh_ttl(account))
    db().add(auth_session)
    db().flush()
    record_event("auth.login", account, subject_type="account", subject_id=account.id)
    return issue_pair(account, auth_session)


def _check_otp(attempt: LoginAttempt, account: Account) -> None:
    if not attempt.otp:
        raise _login_failed(attempt, account, OtpRequired, "otp required")
    secret = runtime.get().keys.unwrap(account.totp_secret_wrapped,
                                       _totp_context(account.id)).decode()
    step = totp.matching_step(secret, attempt.otp)
    claimed = step is not None and db().execute(
        update(Account).where(Account.id == account.id, Account.totp_last_step < step)
        .values(totp_last_step=step)).rowcount == 1
    if not claimed:
        raise _login_failed(attempt, account, InvalidOtp, "invalid or replayed otp")


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
    record_event("auth.refresh", account, subject_type="account", subject_id=account.id)
    return issue_pair(account, auth_session)


def logout_session(*, account: Account, session_id: uuid.UUID) -> None:
    db().execute(update(AuthSession).where(AuthSession.id == session_id,
                                           AuthSession.revoked_at.is_(None))
                 .values(revoked_at=utcnow()))
    record_event("auth.logout", account, subject_type="account", subject_id=account.id)


def create_staff(*, email: str, full_name: str | None, role: str, actor: Any,
                 password: str | None = None) -> dict[str, Any]:
    if role not in STAFF_ROLES:
        raise ValidationFailed(errors={"role": [f"Must be one of: {', '.join(STAFF_ROLES)}."]})
    email = email.strip().lower()
    if password is None:
        password = secrets.token_urlsafe(18)
    _check_password_policy(password)
    if db().execute(select(Account.id).where(Account.email == email)).first():
        raise Conflict()
    secret = totp.new_secret()
    account = Account(id=uuid.uuid4(), email=email, full_name=full_name or email, role=role,
                      language=DEFAULT_LANGUAGE, status=AccountStatus.ACTIVE,
                      password_hash=passwords.hash_password(password))
    account.totp_secret_wrapped = runtime.get().keys.wrap(secret.encode(),
                                                          _totp_context(account.id))
    db().add(account)
    db().flush()
    record_event("staff.create", actor, subject_type="account", subject_id=account.id,
                 reason=f"role {role}")
    return {"id": account.id, "email": email, "role": role, "password": password,
            "totp_secret": secret, "totp_uri": totp.provisioning_uri(secret, email)}


def list_staff(*, cursor: str | None, limit: int) -> Page[Account]:
    """Staff accounts, oldest first."""
    return paginate(select(Account).where(Account.role != Role.RELATIVE),
                    [Account.created_at, Account.id], cursor, limit)


def disable_staff(*, account_id: uuid.UUID, actor: Any) -> Account:
    account = db().get(Account, account_id)
    if account is None or not account.is_staff:
        raise NotFound()
    account.status = AccountStatus.DISABLED
    db().execute(update(AuthSession).where(AuthSession.account_id == account.id,
                                           AuthSession.revoked_at.is_(None))
                 .values(revoked_at=utcnow()))
    record_event("staff.disable", actor, subject_type="account", subject_id=account.id)
    return account


def rewrap_totp_secrets() -> int:
    """Re-wrap every staff TOTP secret under the KEK that is active now (after a KEK
    rotation)."""
    keys = runtime.get().keys
    rows = [account for account in db().execute(
        select(Account).where(Account.totp_secret_wrapped.is_not(None))).scalars()
        if wrapped_kid(account.totp_secret_wrapped) != keys.active_kid]
    for account in rows:
        account.totp_secret_wrapped = keys.rewrap(account.totp_secret_wrapped,
                                                  _totp_context(account.id))
    db().flush()
    return len(rows)
