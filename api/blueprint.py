"""flask-smorest with the house rules: 400 validation_error, strict bodies, declared lists,
one commit point."""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import flask_smorest
from flask import Response, current_app
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser

from api.openapi import document_view
from schemas.base import In, Out, page_args, page_of
from services.core import unit_of_work
from storage.db import is_read_only
from storage.domain_errors import MalformedJson, ValidationFailed

MERGED_LOCATIONS = {"json", "query", "view_args", "headers"}


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION = {"json": RAISE, "query": RAISE, "form": RAISE,
                                   "headers": None, "cookies": None, "files": None,
                                   "view_args": RAISE}

    def handle_error(self, error: Any, req: Any, schema: Any, *, error_status_code: Any,
                     error_headers: Any) -> None:
        messages = error.normalized_messages()
        if isinstance(messages, dict) and set(messages) <= MERGED_LOCATIONS:
            merged: dict[str, Any] = {}
            for part in messages.values():
                merged.update(part if isinstance(part, dict) else {"_schema": part})
            messages = merged
        raise ValidationFailed(errors=messages)

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> None:
        raise MalformedJson()

    def _raw_load_json(self, req: Any) -> Any:
        try:
            loaded = super()._raw_load_json(req)
            if isinstance(loaded, dict | list | str) and b"\\u" in req.get_data(cache=True):
                _refuse_lone_surrogates(loaded)
        except RecursionError:
            raise MalformedJson() from None
        return loaded


def _refuse_lone_surrogates(loaded: Any) -> None:
    """A ``\\ud800`` escape without its pair parses, but is no character: text that holds
    one can never be UTF-8 (RFC 8259 §8.2), so the body is not JSON the API takes."""
    try:
        json.dumps(loaded, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise MalformedJson() from None


def reads_only(view: Callable) -> Callable:
    """Declare that the route changes nothing and writes no audit event: its transaction
    takes no write lock, and a write inside it fails loudly."""
    view._kinpass_read_only = True  # type: ignore[attr-defined]
    return view


def reads_and_logs(view: Callable) -> Callable:
    """Declare that the route changes nothing but the audit log (a staff read, which logs
    what it shows): it reads as a read-only route does, without the write lock, and the
    events it queued are appended in a short transaction of their own before it answers."""
    view._kinpass_read_only = True  # type: ignore[attr-defined]
    view._kinpass_logs_reads = True  # type: ignore[attr-defined]
    return view


def transactional(view: Callable) -> Callable:
    """The request's commit point: the use case's changes and its audit events, or nothing."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        response = current_app.make_response(view(*args, **kwargs))
        if isinstance(response, Response) and response.status_code < 400:
            if not is_read_only():
                unit_of_work.commit()
            elif getattr(view, "_kinpass_logs_reads", False):
                unit_of_work.commit_after_read()
            else:
                unit_of_work.end_read()  # the session closes at the end of the request
        return response

    return wrapper


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Callable:
        """Request arguments; a JSON body's schema brings its own ``EXAMPLE`` (or named
        ``EXAMPLES``)."""
        named = getattr(schema, "EXAMPLES", None)
        if location == "json" and named and "example" not in kwargs:
            kwargs.setdefault("examples", {name: {"value": value}
                                           for name, value in named.items()})
        elif location == "json" and "examples" not in kwargs:
            kwargs.setdefault("example", getattr(schema, "EXAMPLE", None))
        return super().arguments(schema, location=location, **kwargs)

    def response(self, status_code: Any, schema: Any = None, **kwargs: Any) -> Callable:
        """A documented answer; its schema's ``EXAMPLE``, if it has one, is shown with it."""
        if schema is not None and "examples" not in kwargs:
            kwargs.setdefault("example", getattr(schema, "EXAMPLE", None))
        return super().response(status_code, schema, **kwargs)

    def paginated(self, item: type[Out], *, filters: type[In] | None = None) -> Callable:
        """Declare a list: `limit` and `cursor` (and the list's own ``filters``) come from the
        query string, validated and documented, and reach the view as keyword arguments; the
        view returns a page (``items``, ``next_cursor``), answered as 200 in the page
        envelope of ``item``."""
        arguments = self.arguments(page_args(filters), location="query", as_kwargs=True)
        response = self.response(200, page_of(item))

        def decorator(view: Callable) -> Callable:
            return arguments(response(view))

        return decorator

    def add_url_rule(self, rule: str, endpoint: str | None = None,
                     view_func: Callable | None = None, provide_automatic_options: Any = None,
                     **options: Any) -> None:
        assert view_func is not None
        document_view(view_func, set(options.get("methods") or ("GET",)))
        super().add_url_rule(rule, endpoint, transactional(view_func),
                             provide_automatic_options, **options)
