"""The OpenAPI document is the inventory: every route the app serves is in it, and it is valid."""
from __future__ import annotations

import re

from openapi_spec_validator import validate


def _spec_paths(spec: dict) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in spec["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")}


def _app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static",) or rule.endpoint.startswith("api-docs."):
            continue
        path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method))
    return routes


def test_spec_lists_every_route(app, client):
    spec = client.get("/openapi.json").get_json()
    assert _app_routes(app) == _spec_paths(spec) - {("/openapi.json", "GET")}


def test_spec_is_valid_openapi(client):
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_operation_documents_its_problems(client):
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for status in ("400", "404", "500"):
                assert status in operation["responses"], (path, method, status)
