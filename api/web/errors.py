"""Refusals as console pages: the same settlement as the API's (rolled back, or kept where
the refusal is itself a change; every 401 and 403 audited), then a page a person reads."""
from __future__ import annotations

from typing import Any

from flask import Response, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from api.errors import HTTP_CODES, fail_closed, handle_unexpected, settle_refusal
from api.web.messages import refusal_text
from api.web.session_cookie import clear_session, keep_login_nonce
from services.core import unit_of_work
from storage.domain_errors import KinPassError

OTP_CODES = ("otp_required", "invalid_otp")
LOGIN = "console.auth.login"


def _replayed_fields() -> list[tuple[str, str]]:
    """The refused form's own fields, sent again with the fresh code."""
    return [(name, value) for name, value in request.form.items(multi=True)
            if name not in ("csrf_token", "otp")]


def _page(status: int, code: str, errors: Any = None) -> Response:
    message = refusal_text(code, request.blueprint)
    if request.endpoint == LOGIN:
        email = request.form.get("email", "") if status != 413 else ""  # 413: never read
        response = Response(render_template("console/login.html", message=message,
                                            email=email), status)
        keep_login_nonce(response)
        return response
    if code in OTP_CODES and g.get("caller") is not None and request.method == "POST":
        return Response(render_template("console/fresh_otp.html", message=message,
                                        fields=_replayed_fields(), action=request.path), status)
    if status == 401:
        if request.method == "GET":
            response = redirect(url_for(LOGIN), 303)
        else:
            response = Response(render_template("console/error.html", message=message), status)
        clear_session(response)
        return response
    return Response(render_template("console/error.html", message=message, errors=errors),
                    status)


def console_refusal(exc: KinPassError) -> Response:
    try:
        settle_refusal(exc.status, exc.code)
        unit_of_work.commit()
    except Exception:
        return fail_closed()
    response = _page(exc.status, exc.code, exc.errors)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def console_http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        return handle_unexpected(exc)
    status = 400 if status == 431 else status
    return console_refusal(type("HttpRefusal", (KinPassError,), {
        "status": status, "code": HTTP_CODES.get(status, "validation_error")})())
