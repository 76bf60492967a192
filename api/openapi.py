"""The OpenAPI document's house rules, applied to every operation: its summary and description
from the handler's docstring, the problems it may answer, and the headers it honours
(Accept-Language everywhere, Idempotency-Key where replays are kept, Retry-After and
X-Request-Id on the answers)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apispec import APISpec, BasePlugin
from flask_smorest.utils import load_info_from_docstring

from schemas.base import ProblemOut

DESCRIPTION = """KinPass HTTP API, contract v1.

JSON bodies in `snake_case`; unknown request fields are refused (400 `validation_error`).
IDs are UUIDs, timestamps RFC 3339 UTC with `Z`, dates `YYYY-MM-DD`. Authenticate with
`Authorization: Bearer <access_token>` from `POST /v1/auth/login`. Lists take `limit`
(1..100, default 20) and `cursor` (a `next_cursor` handed back) and answer
`{"items": [...], "next_cursor": "..." | null}`. A resource that is not yours is 404, as one
that does not exist. Every error is `application/problem+json` (schema `Problem`) with a
stable `code`. The reference in words, every code and the main flows are in `docs/api.md`
of the repository; this document is rendered at `/docs`."""

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
REQUEST_ID = {"$ref": "#/components/headers/X-Request-Id"}
PROBLEM = {"$ref": "#/components/responses/Problem"}  # a route's own extra error statuses
RESPONSES = {
    "Problem": {"description": "Problem details (RFC 9457)",
                "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                "headers": {"X-Request-Id": REQUEST_ID}},
    "RateLimited": {"description": "Too many attempts: `rate_limited`, with Retry-After",
                    "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                    "headers": {"X-Request-Id": REQUEST_ID,
                                "Retry-After": {"$ref": "#/components/headers/Retry-After"}}},
}
COMMON_ERRORS = (400, 401, 403, 404, 405, 413, 415, 429, 500, 503)
# A request that changes something may also meet a state conflict (409) or a semantically
# refused body or replayed Idempotency-Key (422).
CHANGE_ERRORS = (409, 422)
CHANGE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
IDEMPOTENT = "x-kinpass-idempotent"  # a mark the plugin turns into the header parameter

PARAMETERS = {
    "Accept-Language": {
        "name": "Accept-Language", "in": "header", "required": False,
        "schema": {"type": "string", "example": "uk"},
        "description": "The language of a problem's `title` and `detail` and of the texts "
                       "sent to relatives: `ru`, `uk` or `en` (the default); an ordinary "
                       "Accept-Language list with q-values is read the usual way."},
    "Idempotency-Key": {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                   "pattern": "^[\\x21-\\x7e]{1,255}$",
                   "example": "7d0b7c8e-5a9e-4c61-a4f3-0f6f6a0c2b11"},
        "description": "Makes a retry safe: within 24 hours the same key with the same body "
                       "replays the first completed answer (status and body); the same key "
                       "with another body is 422 `idempotency_key_reused`. Keys belong to the "
                       "calling account."},
}
HEADERS = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "required": True,
                    "schema": {"type": "integer", "minimum": 0}},
    "X-Request-Id": {"description": "The request's id: the client's own X-Request-Id when it "
                                    "is 1-64 characters of `A-Za-z0-9._-`, else generated.",
                     "required": True,
                     "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}},
}


def document_view(view: Callable, methods: set[str]) -> None:
    """Write the house rules into the view's documentation, once, as it is routed."""
    roles = getattr(view, "_kinpass_roles", None)
    doc = view.__dict__.setdefault("_apidoc", {}).setdefault("manual_doc", {})
    info = load_info_from_docstring(view.__doc__ or "")
    if "summary" in info:
        doc.setdefault("summary", info["summary"])
    description = doc.get("description") or info.get("description", "")
    if roles:
        doc.setdefault("security", [{"bearerAuth": []}])
        description = (description + "\n\nRoles: " + ", ".join(sorted(roles))).strip()
    else:
        doc.setdefault("security", [])
    doc["description"] = description
    responses = doc.setdefault("responses", {})
    for status in COMMON_ERRORS + (CHANGE_ERRORS if CHANGE_METHODS & methods else ()):
        responses.setdefault(str(status), "RateLimited" if status == 429 else "Problem")
    responses["default"] = "Problem"
    if getattr(view, "_kinpass_idempotent", False):
        doc[IDEMPOTENT] = True


class HouseRules(BasePlugin):
    """Adds the request and response headers every operation shares, after flask-smorest has
    merged each operation's own documentation."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        spec.components.schema("Problem", schema=ProblemOut)
        for name, header in HEADERS.items():
            spec.components.header(name, header)
        for name, response in RESPONSES.items():
            spec.components.response(name, response)

    def operation_helper(self, path: str | None = None,
                         operations: dict[str, Any] | None = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            parameters = operation.setdefault("parameters", [])
            if operation.pop(IDEMPOTENT, False):
                parameters.append(dict(PARAMETERS["Idempotency-Key"]))
            parameters.append(dict(PARAMETERS["Accept-Language"]))
            for response in operation.get("responses", {}).values():
                if isinstance(response, dict):
                    response.setdefault("headers", {}).setdefault("X-Request-Id", REQUEST_ID)
