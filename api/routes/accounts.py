from __future__ import annotations

from flask import request

from api.blueprint import Blueprint, reads_only
from auth.roles import ANY_ROLE, current_caller, roles_required
from schemas.accounts import (
    LoginIn,
    MeOut,
    RegisteredOut,
    RegisterIn,
    ResendIn,
    StatusOut,
    TokenPairOut,
    UnlockIn,
    VerifyIn,
)
from services.accounts import registration, sessions
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
