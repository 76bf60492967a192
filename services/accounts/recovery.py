"""Recovery: a password reset by a code sent to a verified contact, and a password change;
each ends the sessions it must and tells the account's contact."""
from __future__ import annotations

from auth import passwords
from services.accounts.contacts import (
    contact_kind,
    find_by_login,
    limit_sends,
    live_codes,
    match_code,
    normalize_login,
    rehearse_code,
    send_code,
)
from services.accounts.registration import check_password_policy
from services.accounts.sessions import LoginAttempt, check_otp, revoke_sessions
from services.audit.events import record_event
from services.core import unit_of_work
from services.messages.outbox import notify
from storage.domain_errors import InvalidCode, InvalidCredentials, KinPassError
from storage.models.accounts import Account, ContactCode
from storage.vocabulary import DEFAULT_LANGUAGE, AccountStatus, AuditOutcome, CodePurpose


def _tell_password_changed(account: Account) -> None:
    for contact in (account.email, account.phone):
        if contact:
            notify(contact, "password_changed", account.language)


def forgot_password(*, login: str, ip: str | None) -> None:
    """A reset code to a verified contact; the same work and answer for any login."""
    login = normalize_login(login)
    limit_sends([login], ip)
    passwords.spend_hash_work()
    account = find_by_login(login)
    if account is None or account.status != AccountStatus.ACTIVE:
        rehearse_code(purpose=CodePurpose.RESET, channel=contact_kind(login), to=login,
                      language=account.language if account else DEFAULT_LANGUAGE,
                      template="password_reset_code")
        record_event("account.password_forgot", None, subject_type="account",
                     subject_id=account.id if account else None,
                     outcome=AuditOutcome.FAILURE, reason="no active account")
        return
    send_code(purpose=CodePurpose.RESET, channel=contact_kind(login), to=login,
              language=account.language, template="password_reset_code",
              account_id=account.id)
    record_event("account.password_forgot", account, subject_type="account",
                 subject_id=account.id)


def reset_password(*, login: str, code: str, password: str, otp: str | None,
                   ip: str | None) -> None:
    login = normalize_login(login)
    check_password_policy(password)
    account = find_by_login(login)
    candidates = live_codes(CodePurpose.RESET, ContactCode.account_id == account.id,
                            ContactCode.channel == contact_kind(login)) if account else []
    matched = match_code(candidates, code) if account else None
    if account is None or account.status != AccountStatus.ACTIVE or matched is None:
        if candidates:
            record_event("account.password_reset", account, subject_type="account",
                         subject_id=account.id if account else None,
                         outcome=AuditOutcome.FAILURE, reason="wrong code")
            unit_of_work.keep_on_refusal()
        raise InvalidCode()
    if account.is_staff:
        try:
            check_otp(LoginAttempt(login=login, password=password, otp=otp, ip=ip), account,
                      action="account.password_reset")
        except KinPassError:
            matched.used_at = None  # the code stays good for a retry with the right otp
            raise
    account.password_hash = passwords.hash_password(password)
    count = revoke_sessions(account_id=account.id)
    _tell_password_changed(account)
    record_event("account.password_reset", account, subject_type="account",
                 subject_id=account.id, reason=f"{count} sessions revoked")


def change_password(*, account: Account, session_id: object, current_password: str,
                    new_password: str) -> None:
    """Every other session of the account ends; this one stays."""
    if not passwords.verify_password(account.password_hash, current_password):
        record_event("account.password_change", account, subject_type="account",
                     subject_id=account.id, outcome=AuditOutcome.FAILURE,
                     reason="wrong current password")
        unit_of_work.keep_on_refusal()
        raise InvalidCredentials()
    check_password_policy(new_password, "new_password")
    account.password_hash = passwords.hash_password(new_password)
    count = revoke_sessions(account_id=account.id, keep=session_id)
    _tell_password_changed(account)
    record_event("account.password_change", account, subject_type="account",
                 subject_id=account.id, reason=f"{count} other sessions revoked")
