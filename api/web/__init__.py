"""The officer console: server-rendered pages under /console, on the API's sessions and
services."""
from __future__ import annotations

from flask import Flask, g
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from api.web import (
    audit_pages,
    auth_pages,
    authorization_pages,
    case_pages,
    document_pages,
    registry_pages,
    staff_pages,
)
from api.web.blueprint import console, limit_body
from api.web.errors import console_http_error, console_refusal
from api.web.i18n import init_i18n
from api.web.security import check_csrf, page_headers
from api.web.session_cookie import csrf_token
from api.web.vocabulary import NAMES, namer
from services.accounts.session_checks import otp_is_fresh
from storage.domain_errors import KinPassError

PAGES = (auth_pages.blp, case_pages.blp, authorization_pages.blp, document_pages.blp,
         registry_pages.blp, audit_pages.blp, staff_pages.blp)

console.before_request(limit_body)
console.before_request(check_csrf)
console.after_request(page_headers)
console.register_error_handler(KinPassError, console_refusal)
console.register_error_handler(HTTPException, console_http_error)
for pages in PAGES:
    console.register_blueprint(pages)


def csrf_field() -> Markup:
    """The hidden input every console form carries."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        escape(csrf_token()))


def otp_fresh() -> bool:
    """Whether this session's last one-time code is recent enough for the acts that need
    one."""
    live = g.get("console_session")
    return live is not None and otp_is_fresh(live.otp_at)


def init_console(app: Flask) -> None:
    app.register_blueprint(console)
    init_i18n(app)
    names = {name: namer(table) for name, table in NAMES.items()}
    app.jinja_env.globals.update(csrf_field=csrf_field, otp_fresh=otp_fresh, **names)
    app.jinja_env.filters.update(names)
