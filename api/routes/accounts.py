from __future__ import annotations

from flask import request

from api.blueprint import Blueprint, reads_only
from auth.roles import ANY_ROLE, current_caller, roles_required
from schemas.accounts import (
    LoginIn,
    MeOut,
    PasswordChangeIn,
    PasswordIn,
    RegisteredOut,
    RegisterIn,
    ResendIn,
    ResetIn,
    SessionsOut,
    StatusOut,
    TokenPairOut,
    UnlockIn,
    VerifyIn,
)
from services.accounts import recovery, registration, sessions
from services.workflow.erasure import erase_account
from storage.vocabulary import AccountStatus

blp = Blueprint("accounts", __name__, url_prefix="/v1", description="Accounts and sessions")


@blp.route("/auth/register", methods=["POST"])
@blp.arguments(RegisterIn)
@blp.response(202, RegisteredOut)
def register(body):
    """Register a relative's account.

    Give an email or an E.164 phone (or both), a password and a full name. A 6-digit
    code is sent to each contact; the answer is the same whether or not the contact is
    already known, and carries `registration`, to pass back to `verify`.
    """
    made = registration.register_account(**body, ip=request.remote_addr)
    return {"status": "verification_sent", "registration": made}


@blp.route("/auth/verify", methods=["POST"])
@blp.arguments(VerifyIn)
@blp.response(200, StatusOut, example={"status": "active"})
def verify(body):
    """Verify a contact with its code.

    The account becomes active; a wrong, dead or unknown code is 400 `invalid_code`. A
    code dies after 5 wrong tries or 15 minutes.
    """
    registration.verify_account(**body)
    return {"status": AccountStatus.ACTIVE}


@blp.route("/auth/resend", methods=["POST"])
@blp.arguments(ResendIn)
@blp.response(202, StatusOut, example={"status": "verification_sent"})
def resend(body):
    """Send a fresh verification code.

    The new code kills the earlier one; the answer is the same for any login.
    """
    registration.resend_code(login=body["login"], ip=request.remote_addr)
    return {"status": "verification_sent"}


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, TokenPairOut)
def login(body):
    """Sign in: a token pair.

    A wrong login or password is 401 `invalid_credentials`. Staff also give `otp` (401
    `otp_required` without it, 401 `invalid_otp` for a wrong or replayed one); an
    unverified account is 403 `account_not_verified`.
    """
    return sessions.login(sessions.LoginAttempt(**body, ip=request.remote_addr))


@blp.route("/auth/unlock", methods=["POST"])
@blp.arguments(UnlockIn)
@blp.response(200, TokenPairOut)
def unlock(body):
    """Sign in past a targeted lockout with the unlock code.

    The owner gives her login, password and the code sent to her contact; the per-address
    limit still applies.
    """
    code = body.pop("code")
    return sessions.unlock_login(sessions.LoginAttempt(**body, ip=request.remote_addr), code)


@blp.route("/auth/refresh", methods=["POST"])
@roles_required(*ANY_ROLE, refresh=True)
@blp.response(200, TokenPairOut)
def refresh():
    """Exchange a refresh token for a new pair.

    Send the refresh token as the bearer. The used refresh token dies; presenting it
    again is 401 `token_revoked` and revokes the whole session.
    """
    caller = current_caller()
    return sessions.refresh_session(account=caller.account, session_id=caller.session_id,
                                    jti=caller.claims["jti"])


@blp.route("/auth/logout", methods=["POST"])
@roles_required(*ANY_ROLE)
@blp.response(204)
def logout():
    """Sign out: end the session.

    The session's access and refresh tokens die at once.
    """
    caller = current_caller()
    sessions.logout_session(account=caller.account, session_id=caller.session_id)


@blp.route("/me", methods=["GET"])
@reads_only
@roles_required(*ANY_ROLE)
@blp.response(200, MeOut)
def me():
    """The calling account.

    Its id, contacts, name, roles, language, status and creation time.
    """
    return current_caller().profile


@blp.route("/auth/password/forgot", methods=["POST"])
@blp.arguments(ResendIn)
@blp.response(202, StatusOut)
def forgot_password(body):
    """Ask for a password reset code.

    A code is sent to the contact when it belongs to an account; the answer is the same
    either way.
    """
    recovery.forgot_password(login=body["login"], ip=request.remote_addr)
    return {"status": "reset_sent"}


@blp.route("/auth/password/reset", methods=["POST"])
@blp.arguments(ResetIn)
@blp.response(200, StatusOut)
def reset_password(body):
    """Set a new password with a reset code.

    Every session of the account ends; staff also give a fresh `otp`.
    """
    recovery.reset_password(**body, ip=request.remote_addr)
    return {"status": "password_reset"}


@blp.route("/me/password", methods=["POST"])
@roles_required(*ANY_ROLE)
@blp.arguments(PasswordChangeIn)
@blp.response(204)
def change_password(body):
    """Change one's password.

    The current password is required; every other session ends.
    """
    caller = current_caller()
    recovery.change_password(account=caller.account, session_id=caller.session_id, **body)


@blp.route("/me/sessions", methods=["GET"])
@reads_only
@roles_required(*ANY_ROLE)
@blp.response(200, SessionsOut)
def list_sessions():
    """One's sessions.

    Each signed-in device: when it started and was last used, and which is this one.
    """
    caller = current_caller()
    return {"items": [{"id": s.id, "created_at": s.created_at, "last_used_at": s.last_used_at,
                       "current": s.id == caller.session_id}
                      for s in sessions.list_sessions(account=caller.account)]}


@blp.route("/me/sessions/<uuid:session_id>", methods=["DELETE"])
@roles_required(*ANY_ROLE)
@blp.response(204)
def end_session(session_id):
    """End one session.

    Its access and refresh tokens stop working at once.
    """
    sessions.end_session(account=current_caller().account, session_id=session_id)


@blp.route("/me/sessions", methods=["DELETE"])
@roles_required(*ANY_ROLE)
@blp.response(204)
def end_every_session():
    """Sign out everywhere.

    Every session of the account ends, this one included.
    """
    sessions.end_every_session(account=current_caller().account)


@blp.route("/me", methods=["DELETE"])
@roles_required(*ANY_ROLE)
@blp.arguments(PasswordIn)
@blp.response(204)
def erase_me(body):
    """Erase one's account (relatives).

    With the password: open cases are withdrawn, their documents shredded, the account's
    contacts and sessions deleted.
    """
    erase_account(account=current_caller().account, password=body["password"])
