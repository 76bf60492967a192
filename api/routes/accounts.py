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
    made = registration.register_account(**body, ip=request.remote_addr)
    return {"status": "verification_sent", "registration": made}


@blp.route("/auth/verify", methods=["POST"])
@blp.arguments(VerifyIn)
@blp.response(200, StatusOut)
def verify(body):
    registration.verify_account(**body)
    return {"status": AccountStatus.ACTIVE}


@blp.route("/auth/resend", methods=["POST"])
@blp.arguments(ResendIn)
@blp.response(202, StatusOut)
def resend(body):
    registration.resend_code(login=body["login"], ip=request.remote_addr)
    return {"status": "verification_sent"}


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, TokenPairOut)
def login(body):
    return sessions.login(sessions.LoginAttempt(**body, ip=request.remote_addr))


@blp.route("/auth/unlock", methods=["POST"])
@blp.arguments(UnlockIn)
@blp.response(200, TokenPairOut)
def unlock(body):
    code = body.pop("code")
    return sessions.unlock_login(sessions.LoginAttempt(**body, ip=request.remote_addr), code)


@blp.route("/auth/refresh", methods=["POST"])
@roles_required(*ANY_ROLE, refresh=True)
@blp.response(200, TokenPairOut)
def refresh():
    caller = current_caller()
    return sessions.refresh_session(account=caller.account, session_id=caller.session_id,
                                    jti=caller.claims["jti"])


@blp.route("/auth/logout", methods=["POST"])
@roles_required(*ANY_ROLE)
@blp.response(204)
def logout():
    caller = current_caller()
    sessions.logout_session(account=caller.account, session_id=caller.session_id)


@blp.route("/me", methods=["GET"])
@reads_only
@roles_required(*ANY_ROLE)
@blp.response(200, MeOut)
def me():
    return current_caller().profile


@blp.route("/auth/password/forgot", methods=["POST"])
@blp.arguments(ResendIn)
@blp.response(202, StatusOut)
def forgot_password(body):
    recovery.forgot_password(login=body["login"], ip=request.remote_addr)
    return {"status": "reset_sent"}


@blp.route("/auth/password/reset", methods=["POST"])
@blp.arguments(ResetIn)
@blp.response(200, StatusOut)
def reset_password(body):
    recovery.reset_password(**body, ip=request.remote_addr)
    return {"status": "password_reset"}


@blp.route("/me/password", methods=["POST"])
@roles_required(*ANY_ROLE)
@blp.arguments(PasswordChangeIn)
@blp.response(204)
def change_password(body):
    caller = current_caller()
    recovery.change_password(account=caller.account, session_id=caller.session_id, **body)


@blp.route("/me/sessions", methods=["GET"])
@reads_only
@roles_required(*ANY_ROLE)
@blp.response(200, SessionsOut)
def list_sessions():
    caller = current_caller()
    return {"items": [{"id": s.id, "created_at": s.created_at, "last_used_at": s.last_used_at,
                       "current": s.id == caller.session_id}
                      for s in sessions.list_sessions(account=caller.account)]}


@blp.route("/me/sessions/<uuid:session_id>", methods=["DELETE"])
@roles_required(*ANY_ROLE)
@blp.response(204)
def end_session(session_id):
    sessions.end_session(account=current_caller().account, session_id=session_id)


@blp.route("/me/sessions", methods=["DELETE"])
@roles_required(*ANY_ROLE)
@blp.response(204)
def end_every_session():
    sessions.end_every_session(account=current_caller().account)


@blp.route("/me", methods=["DELETE"])
@roles_required(*ANY_ROLE)
@blp.arguments(PasswordIn)
@blp.response(204)
def erase_me(body):
    erase_account(account=current_caller().account, password=body["password"])
