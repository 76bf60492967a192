"""Who may see a console page, and what every console answer carries: the role decorator,
the fresh-code rule, the CSRF check and the security headers."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, request

from api.web.session_cookie import csrf_matches, read_session
from auth.roles import Caller
from services.accounts.session_checks import confirm_fresh_otp, resume_session
from storage.domain_errors import Forbidden, Unauthorized
from storage.vocabulary import Role

# The console is for staff who work at a desk; relatives and checkpoints have their own apps.
CONSOLE_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN})
# Scripts, styles and images from this server only: no inline script or style, no eval.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
PAGE_HEADERS = (("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
                ("Cross-Origin-Opener-Policy", "same-origin"),
                ("Cross-Origin-Resource-Policy", "same-origin"))


class CsrfRefused(Forbidden):
    """A post without this session's token: never acted on."""


def check_csrf() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_matches(
            request.form.get("csrf_token")):
        raise CsrfRefused()


def page_headers(response: Response) -> Response:
    for name, value in PAGE_HEADERS:
        response.headers[name] = value
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def console_caller() -> Caller | None:
    """The signed-in staff member of this request, if any (the session is resumed once)."""
    if "caller" not in g:
        found = read_session()
        if found is None:
            return None
        live = resume_session(*found)
        g.caller = Caller(found[0], {}, live)
        g.console_session = live
    return g.caller


def web_role(*roles: str) -> Callable:
    """Admit a signed-in staff member of the given roles: without a live session the page
    sends her to sign in (401); another role is 403."""
    allowed = frozenset(roles)
    assert allowed <= CONSOLE_ROLES, allowed

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = console_caller()
            if caller is None:
                raise Unauthorized()
            if caller.role not in allowed:
                raise Forbidden()
            return view(*args, **kwargs)

        wrapper._kinpass_roles = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorator


def fresh_otp(view: Callable) -> Callable:
    """The act needs a one-time code given within the last five minutes: an older one makes
    the page ask for a fresh code (input `otp`) before anything is done."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        caller = g.caller
        confirm_fresh_otp(account=caller.account, session_id=caller.session_id,
                          otp_at=g.console_session.otp_at, otp=request.form.get("otp"),
                          ip=request.remote_addr)
        return view(*args, **kwargs)

    wrapper._kinpass_fresh_otp = True  # type: ignore[attr-defined]
    return wrapper
