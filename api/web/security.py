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
from storage.domain_errors import Forbidden, KinPassError, Unauthorized
from storage.vocabulary import Role

# The console is for staff who work at a desk; relatives and checkpoints have their own apps.
CONSOLE_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN})
# Scripts, styles and images from this server only: no inline script or style, no eval.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# A page showing a document carries its images inside itself (api/web/document_pages.py).
DOCUMENT_CSP = CSP.replace("img-src 'self'", "img-src 'self' data:")
# An original downloaded: never run, framed or styled as a page of this origin.
ORIGINAL_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"
PAGE_HEADERS = (("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
                ("Cross-Origin-Opener-Policy", "same-origin"),
                ("Cross-Origin-Resource-Policy", "same-origin"))


class CsrfRefused(Forbidden):
    """A post without this session's token: never acted on."""


def check_csrf() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_matches(
            request.form.get("csrf_token")):
        try:
            console_caller()  # a signed-in caller's refusal is hers in the log, not anonymous
        except KinPassError:
            pass
        raise CsrfRefused()


def answer_policy(policy: str) -> None:
    """This answer's Content-Security-Policy in place of CSP (one of the policies above)."""
    assert policy in (DOCUMENT_CSP, ORIGINAL_CSP), policy
    g.console_csp = policy


def page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = g.get("console_csp", CSP)
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


def require_fresh_otp() -> None:
    """The act needs a one-time code given within the last five minutes: an older one makes
    the page ask for a fresh code (input `otp`) before anything is done."""
    caller = g.caller
    confirm_fresh_otp(account=caller.account, session_id=caller.session_id,
                      otp_at=g.console_session.otp_at, otp=request.form.get("otp"),
                      ip=request.remote_addr)


def fresh_otp(view: Callable) -> Callable:
    """Declare that every use of the route needs a fresh one-time code (require_fresh_otp),
    under its role decorator."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_fresh_otp()
        return view(*args, **kwargs)

    wrapper._kinpass_fresh_otp = True  # type: ignore[attr-defined]
    return wrapper
