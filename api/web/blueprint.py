"""The console's blueprints: each page module has its own, nested under `console`, whose
hooks (CSRF, headers, errors) and assets cover them all."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
from flask import current_app, request

from api.blueprint import transactional

FORM = ("application/x-www-form-urlencoded",)


class ConsoleBlueprint(flask.Blueprint):
    """Every view is the request's commit point, as the API's are, and takes form posts
    (``content_types=`` for a view that takes other bodies, ``max_bytes=`` for one whose
    body may be larger than a form's)."""

    def add_url_rule(self, rule: str, endpoint: str | None = None,
                     view_func: Callable | None = None, provide_automatic_options: Any = None,
                     **options: Any) -> None:
        assert view_func is not None
        types = options.pop("content_types", FORM)
        max_bytes = options.pop("max_bytes", None)
        wrapped = transactional(view_func)
        wrapped._kinpass_content_types = types  # type: ignore[attr-defined]
        wrapped._kinpass_max_bytes = max_bytes  # type: ignore[attr-defined]
        super().add_url_rule(rule, endpoint, wrapped, provide_automatic_options, **options)


console = flask.Blueprint("console", __name__, url_prefix="/console",
                          template_folder="templates", static_folder="static",
                          static_url_path="/static")


def limit_body() -> None:
    """Every console body is read within a limit before anything else looks at it: a form's
    is the JSON bodies' (a urlencoded form is read whole, so without one a post of any size
    would be held in memory, signed in or not); a view that takes more says how much."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "_kinpass_max_bytes", None)
    if limit is None:
        limit = current_app.extensions["kinpass"].settings.max_json_bytes
    request.max_content_length = limit
    request.max_form_memory_size = limit
