"""The console's blueprints: each page module has its own, nested under `console`, whose
hooks (CSRF, headers, errors) and assets cover them all."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask

from api.blueprint import transactional

FORM = ("application/x-www-form-urlencoded",)


class ConsoleBlueprint(flask.Blueprint):
    """Every view is the request's commit point, as the API's are, and takes form posts
    (``content_types=`` for a view that takes other bodies)."""

    def add_url_rule(self, rule: str, endpoint: str | None = None,
                     view_func: Callable | None = None, provide_automatic_options: Any = None,
                     **options: Any) -> None:
        assert view_func is not None
        types = options.pop("content_types", FORM)
        wrapped = transactional(view_func)
        wrapped._kinpass_content_types = types  # type: ignore[attr-defined]
        super().add_url_rule(rule, endpoint, wrapped, provide_automatic_options, **options)


console = flask.Blueprint("console", __name__, url_prefix="/console",
                          template_folder="templates", static_folder="static",
                          static_url_path="/static")
