"""Per-request plumbing: request ids, body limits, content types, security headers, logs."""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, current_app, g, request, url_for
from pythonjsonlogger.json import JsonFormatter
from werkzeug.exceptions import RequestEntityTooLarge, RequestHeaderFieldsTooLarge

from services.audit.events import set_request_context
from services.core import runtime
from storage.db import session as db, set_read_only, start_attempt
from storage.domain_errors import PayloadTooLarge, UnsupportedMediaType

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")
JSON_TYPES = ("application/json", "application/merge-patch+json")
BODY_METHODS = ("POST", "PUT", "PATCH")
MAX_HEADER_BYTES, MAX_HEADERS_BYTES = 8190, 32 * 1024
CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Content-Security-Policy", CSP),
                    ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
                    ("Cross-Origin-Resource-Policy", "same-origin"))

access_log = logging.getLogger("kinpass.access")


def configure_logging() -> None:
    root = logging.getLogger()
    if any(getattr(h, "_kinpass", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level"}))
    handler._kinpass = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def body_content_types(*types: str):
    """Declare which request content types a route takes (default: JSON)."""
    def decorator(view):
        view._kinpass_content_types = types
        return view
    return decorator


def public_url(endpoint: str, **values: object) -> str:
    """An absolute URL clients follow, under KINPASS_PUBLIC_URL: never built from the
    request's Host or X-Forwarded-* headers, which any client may set."""
    path = url_for(endpoint, **values)[len(request.script_root):]
    return runtime.get().settings.base_url + path


def _begin_request() -> None:
    g.started = time.perf_counter()
    view = current_app.view_functions.get(request.endpoint or "")
    set_read_only(getattr(view, "_kinpass_read_only", False))
    start_attempt()
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
    set_request_context(g.request_id, request.remote_addr)
    _guard_headers()
    if request.method in BODY_METHODS and request.routing_exception is None:
        _guard_body(getattr(view, "_kinpass_content_types", None))


def _guard_headers() -> None:
    """The same header limits as the bundled server, whatever server or proxy is in front."""
    sizes = [len(name) + len(value) for name, value in request.headers.items()]
    if sizes and (max(sizes) > MAX_HEADER_BYTES or sum(sizes) > MAX_HEADERS_BYTES):
        raise RequestHeaderFieldsTooLarge()


def _guard_body(types: tuple[str, ...] | None) -> None:
    """JSON endpoints take JSON up to a small limit; raw uploads declare their own types."""
    settings = current_app.extensions["kinpass"].settings
    if types is None:
        request.max_content_length = settings.max_json_bytes
        if request.content_length and request.content_length > settings.max_json_bytes:
            raise PayloadTooLarge()
        has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
        if has_body and request.mimetype not in JSON_TYPES:
            raise UnsupportedMediaType()
        if has_body:
            _read_whole_body(settings.max_json_bytes)
    elif request.mimetype not in types:
        raise UnsupportedMediaType()


def _read_whole_body(limit: int) -> None:
    """Wait for the whole JSON body before the request's first statement: a client that
    trickles its body then holds only its own connection, never a database lock. A chunked
    body is read one byte past the limit, so that one too large is told from one that fits."""
    if request.content_length is None:
        request.max_content_length = limit + 1
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise PayloadTooLarge() from None
    if len(data) > limit:
        raise PayloadTooLarge()


def _finish_response(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # one pass, not one per header
    headers.extend([(name, value) for name, value in SECURITY_HEADERS  # a page that loads
                    if name.lower() not in present])                   # assets sets its CSP
    headers["X-Request-Id"] = g.get("request_id", "")
    if request.path.startswith("/v1") or "cache-control" not in present:
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    access_log.info("request", extra={
        "request_id": g.get("request_id"), "method": request.method,
        "endpoint": request.endpoint, "status": response.status_code,
        "duration_ms": round(elapsed, 2)})
    return response


def _end_request(_exc: BaseException | None) -> None:
    set_read_only(False)
    db.remove()


def init_http(app: Flask) -> None:
    app.before_request(_begin_request)
    app.teardown_appcontext(_end_request)
    app.after_request(_finish_response)
