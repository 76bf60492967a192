"""Every error leaves as RFC 9457 problem+json with a stable code; nothing else leaks."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, g, json, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from api.problem_texts import texts
from services.audit.events import Actor
from services.audit.refusals import record_refusal
from services.core import unit_of_work
from storage.db import is_read_only, session as db, set_read_only
from storage.domain_errors import DatabaseUnavailable, KinPassError
from storage.vocabulary import DEFAULT_LANGUAGE, Language

log = logging.getLogger("kinpass.errors")


HTTP_CODES = {400: "validation_error", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 410: "gone",
              413: "payload_too_large", 415: "unsupported_media_type",
              429: "rate_limited", 431: "validation_error", 503: "service_unavailable"}


def request_language() -> str:
    best = request.accept_languages.best_match(list(Language)) if request else None
    return best or DEFAULT_LANGUAGE


def problem_type(code: str) -> str:
    """The problem's `type` URI, under the configured issuer."""
    issuer = current_app.extensions["kinpass"].runtime.settings.issuer
    return f"{issuer.rstrip('/')}/problems/{code}"


def problem(status: int, code: str, *, errors: Any = None, extra: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    title, detail = texts(code, request_language())
    body: dict[str, Any] = {"type": problem_type(code), "title": title, "status": status,
                            "detail": detail, "code": code}
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _record_refusal(status: int, code: str) -> None:
    """Every 401 and 403 answer is in the audit log (anonymous ones counted, see
    services.audit.refusals)."""
    caller = g.get("caller")
    record_refusal(Actor(caller.account_id, caller.role) if caller else None,
                   endpoint=(request.endpoint or request.path)[:64], status=status, code=code,
                   method=request.method)


def settle_refusal(status: int, code: str) -> None:
    """Undo the refused request's changes, unless the refusal is itself a change that must
    persist, and log every 401 and 403; the caller commits."""
    if is_read_only():  # the read ends here; the refusal is written in a unit of its own
        set_read_only(False)
        unit_of_work.rollback()
    unit = unit_of_work.current()
    already_audited = unit.keeps_refusal and unit.events
    if not unit.keeps_refusal:
        unit_of_work.rollback()
    if status in (401, 403) and not already_audited:
        _record_refusal(status, code)


def refusal_problem(exc: KinPassError) -> Response:
    return problem(exc.status, exc.code, errors=exc.errors, extra=exc.extra,
                   headers=exc.headers)


def fail_closed() -> Response:
    """The refusal could not be recorded: nothing is kept, and nothing more is said."""
    log.exception("could not record refusal", extra={"request_id": g.get("request_id")})
    unit_of_work.rollback()
    return problem(503, "service_unavailable")


def handle_domain_error(exc: KinPassError) -> Response:
    try:
        settle_refusal(exc.status, exc.code)
        unit_of_work.commit()
    except Exception:
        return fail_closed()
    return refusal_problem(exc)


def handle_http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        return handle_unexpected(exc)
    code = HTTP_CODES.get(status, "validation_error")
    headers = {}
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return handle_domain_error(type("HttpProblem", (KinPassError,),
                                    {"status": status if status != 431 else 400,
                                     "code": code})(headers=headers))


def handle_unexpected(exc: BaseException) -> Response:
    try:
        unit_of_work.rollback()
    except Exception:  # the connection itself is gone
        db.remove()
    if isinstance(exc, (OperationalError, DBAPIError)) and _connection_problem(exc):
        log.error("database unavailable", extra={"request_id": g.get("request_id")})
        return problem(503, DatabaseUnavailable.code)
    log.exception("unhandled error", extra={"request_id": g.get("request_id")})
    return problem(500, "internal_error")


# The database is out of reach or too busy: connection failures, shutdowns, exhausted
# resources and timeouts (PostgreSQL SQLSTATE classes), a locked or missing file (SQLite).
PG_UNAVAILABLE = ("08", "53", "57P", "57014")
SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o")


def _connection_problem(exc: BaseException) -> bool:
    """A dependency failure (503), as against a bug in a statement (500)."""
    if getattr(exc, "connection_invalidated", False):
        return True
    if not isinstance(exc, OperationalError):
        return False
    orig = getattr(exc, "orig", None)
    if hasattr(orig, "sqlstate"):
        state = orig.sqlstate
        return state is None or state.startswith(PG_UNAVAILABLE)
    return any(sign in str(orig).lower() for sign in SQLITE_UNAVAILABLE)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(KinPassError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
