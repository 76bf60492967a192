"""The checkpoint app's sign-in and its two acts, on the console's session cookie.

The app's page and files are served by files.py; these JSON endpoints are what its
script calls: the session (and its CSRF token), sign-in with email, password and one-time
code for role `checkpoint` only, sign-out, and verify and redeem on the signed-in session.
No bearer token ever reaches the page: the session lives in an HttpOnly `__Host-` cookie, a
shift long (the staff session's absolute end) and ended sooner by the console's idle rule.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, jsonify, request
from marshmallow import ValidationError

from api.idempotency import idempotent
from api.web.blueprint import ConsoleBlueprint
from api.web.checkpoint.files import CSP
from api.web.security import console_caller
from api.web.session_cookie import (
    clear_session,
    csrf_matches,
    csrf_token,
    keep_login_nonce,
    read_session,
    write_session,
)
from auth.roles import current_account, current_caller
from schemas.checkpoint import RedeemOut, TokenIn, VerifyOut
from services.accounts import sessions
from services.authorizations import checkpoint as checkpoint_tokens
from storage.domain_errors import (
    Forbidden,
    MalformedJson,
    TokenExpired,
    TokenRevoked,
    Unauthorized,
    ValidationFailed,
)
from storage.vocabulary import Role

JSON = None  # the API's body rules: JSON only, at most its size, read whole before the view
CSRF_HEADER = "X-CSRF-Token"
ADMITTED = frozenset({Role.CHECKPOINT})

blp = ConsoleBlueprint("checkpoint_web", __name__, url_prefix="/checkpoint")


class CsrfRefused(Forbidden):
    """A post without this session's token (or the sign-in form's): never acted on."""


@blp.before_request
def check_csrf() -> None:
    if request.method == "POST" and not csrf_matches(request.headers.get(CSRF_HEADER)):
        raise CsrfRefused()


@blp.after_request
def headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def checkpoint_role(view: Callable) -> Callable:
    """Admit a live checkpoint session: none is 401, another role 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        caller = console_caller()
        if caller is None:
            raise Unauthorized()
        if caller.role not in ADMITTED:
            raise Forbidden()
        return view(*args, **kwargs)

    wrapper._kinpass_roles = ADMITTED  # type: ignore[attr-defined]
    return wrapper


def _body(schema: Any) -> dict:
    raw = request.get_json(silent=True)
    if raw is None:
        raise MalformedJson()
    try:
        return schema.load(raw)
    except ValidationError as exc:
        raise ValidationFailed(errors=exc.messages) from None


def _session_answer(expires_at: Any) -> dict:
    return {"signed_in": expires_at is not None, "csrf_token": csrf_token(),
            "shift_ends_at": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if expires_at else None}


@blp.route("/session", methods=["GET"])
def session_state():
    """Whether this browser holds a live checkpoint session, and the token its posts carry."""
    expires_at = None
    if read_session() is not None:
        try:
            caller = console_caller()
        except (Unauthorized, TokenExpired, TokenRevoked):  # ended: sign in again
            caller = None
        if caller is not None and caller.role in ADMITTED:
            expires_at = g.console_session.expires_at
    response = jsonify(_session_answer(expires_at))
    if expires_at is None:
        keep_login_nonce(response)
    return response


@blp.route("/login", methods=["POST"], content_types=JSON)
def login():
    """Email, password and one-time code, on the API's login limits; checkpoints only."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise MalformedJson()
    fields = {name: body.get(name) if isinstance(body.get(name), str) else ""
              for name in ("email", "password", "otp")}
    account, auth_session = sessions.sign_in(sessions.LoginAttempt(
        login=fields["email"][:254], password=fields["password"][:128],
        otp=fields["otp"].strip()[:10] or None, ip=request.remote_addr), admit=ADMITTED)
    # The new session's CSRF token comes from GET /checkpoint/session with the new cookie.
    response = jsonify({"signed_in": True,
                        "shift_ends_at": auth_session.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")})
    write_session(response, auth_session.id, account.id)
    return response


@blp.route("/logout", methods=["POST"], content_types=JSON)
@checkpoint_role
def logout():
    """End the session on the server; the cookie goes with it."""
    sessions.logout_session(account=current_account(), session_id=current_caller().session_id)
    response = Response(status=204)
    clear_session(response)
    return response


@blp.route("/verify", methods=["POST"], content_types=JSON)
@checkpoint_role
def verify():
    """POST /v1/checkpoint/verify, on the session cookie."""
    verdict = checkpoint_tokens.verify_authorization(_body(TokenIn())["token"],
                                                     current_account())
    return jsonify(VerifyOut().dump({"result": verdict.result,
                                     "authorization": verdict.summary()}))


@blp.route("/redeem", methods=["POST"], content_types=JSON)
@checkpoint_role
@idempotent
def redeem():
    """POST /v1/checkpoint/redeem, on the session cookie, with the same Idempotency-Key rule."""
    return jsonify(RedeemOut().dump(checkpoint_tokens.redeem_authorization(
        _body(TokenIn())["token"], current_account())))
