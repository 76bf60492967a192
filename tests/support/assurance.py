"""Shared pieces for the assurance suites: every route, every role, and 'nothing changed'."""
from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select

from api.app import create_app
from storage.db import session as db
from storage.models import Base
from storage.models.audit import AuditEvent
from tests.support.http import bearer

ROLES = ("relative", "officer", "supervisor", "auditor", "checkpoint", "admin")
BODY_METHODS = ("POST", "PUT", "PATCH")
LEAKS = ("Traceback", "sqlalchemy", "psycopg", "SELECT ", "INSERT ", "Exception", 'File "',
         "Error:", "/work/", "site-packages")
# Bookkeeping a refused request may touch: refusal audit events (checked separately), the
# chain head, checkpoints and checkpoint key they advance, and rate-limit counters.
BOOKKEEPING = {"audit_events", "audit_head", "audit_checkpoints", "audit_signing_keys",
               "rate_counters"}


@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    endpoint: str
    roles: frozenset[str] | None
    content_types: tuple[str, ...] | None

    @property
    def public(self) -> bool:
        return not self.roles

    def path(self, value: str | None = None) -> str:
        """The rule with every variable filled with ``value`` (a fresh-looking UUID by default)."""
        filler = value if value is not None else str(uuid.UUID(int=7))
        return re.sub(r"<(?:[a-z_]+:)?[a-z_]+>", filler, self.rule)

    @property
    def has_ids(self) -> bool:
        return "<" in self.rule

    @property
    def spec_path(self) -> str:
        return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", self.rule)

    def operation(self, document: dict) -> dict:
        return document["paths"][self.spec_path][self.method.lower()]

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


# The browser surfaces (HTML pages, and the checkpoint app's calls, on a session cookie and
# CSRF tokens) are not part of the JSON API or its document; tests/api/test_console_*.py and
# tests/api/test_checkpoint_session.py hold them to their own rules.
BROWSER_PAGES = ("console.", "checkpoint_web.")


def app_routes(app) -> list[Route]:
    """Every route the app serves right now, from its url map (never a hand-kept list)."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith(("api-docs.", *BROWSER_PAGES)):
            continue
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "_kinpass_roles", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append(Route(rule.rule, method, rule.endpoint,
                                frozenset(roles) if roles else None,
                                getattr(view, "_kinpass_content_types", None)))
    return sorted(routes, key=lambda r: (r.rule, r.method))


@contextmanager
def throwaway_app() -> Iterator:
    """An app on an empty data dir, for what collection needs (its routes, its document)."""
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app({"data_dir": data_dir, "database_url": f"sqlite:///{data_dir}/t.db",
                          "storage_url": "file://", "notifier": "log", "env": "development"})
        try:
            yield app
        finally:
            app.extensions["kinpass"].engine.dispose()


def collected_routes() -> list[Route]:
    """The routes at collection time: identical on every xdist worker."""
    with throwaway_app() as app:
        return app_routes(app)


def served_document() -> dict:
    with throwaway_app() as app:
        return app.test_client().get("/openapi.json").get_json()


class Callers:
    """Live accounts of each role, created the first time a role is asked for."""

    def __init__(self, register_relative, make_staff):
        self._register, self._staff, self._headers = register_relative, make_staff, {}

    def headers(self, role: str | None) -> dict:
        if role is None:
            return {}
        if role not in self._headers:
            tokens = self._register()[2] if role == "relative" else self._staff(role)
            self._headers[role] = bearer(tokens["access_token"])
        return self._headers[role]

    def admitted(self, route: Route) -> dict:
        """Headers of the first role the route admits (none for a public route)."""
        return self.headers(next((r for r in ROLES if r in (route.roles or ())), None))


def role_headers(register_relative, make_staff) -> dict[str, dict]:
    """Authorization headers for one live account of every role."""
    headers = {"relative": bearer(register_relative()[2]["access_token"])}
    for role in ROLES[1:]:
        headers[role] = bearer(make_staff(role)["access_token"])
    return headers


def row_counts() -> dict[str, int]:
    """Rows in every table except the bookkeeping that refusals may touch."""
    counts = {}
    session = db()
    for table in Base.metadata.sorted_tables:
        if table.name in BOOKKEEPING:
            continue
        counts[table.name] = session.execute(select(func.count()).select_from(table)).scalar_one()
    db.remove()
    return counts


def audited_actions() -> list[tuple[str, str]]:
    """The audit chain's events other than access refusals (which are audited by design)."""
    session = db()
    rows = session.execute(select(AuditEvent.action, AuditEvent.outcome)
                           .where(AuditEvent.action != "access.denied")
                           .order_by(AuditEvent.seq)).all()
    db.remove()
    return [tuple(row) for row in rows]


def snapshot() -> tuple[dict[str, int], list[tuple[str, str]]]:
    return row_counts(), audited_actions()


def assert_problem(response, status: int | tuple[int, ...] | None = None,
                   code: str | tuple[str, ...] | None = None) -> dict:
    """A 4xx RFC 9457 problem with a stable code, and no internals in it."""
    text = response.get_data(as_text=True)
    statuses = (status,) if isinstance(status, int) else status
    assert 400 <= response.status_code < 500, (response.status_code, text[:500])
    if statuses:
        assert response.status_code in statuses, (response.status_code, text[:500])
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert body["status"] == response.status_code
    assert re.fullmatch(r"[a-z_]+", body["code"]), body
    assert body["type"].endswith("/" + body["code"]) and body["title"] and body["detail"]
    codes = (code,) if isinstance(code, str) else code
    if codes:
        assert body["code"] in codes, body
    for leak in LEAKS:
        assert leak not in text, (leak, text[:500])
    return body
