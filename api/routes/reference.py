"""GET /docs: the API reference, /openapi.json rendered by a vendored Swagger UI."""
from __future__ import annotations

from pathlib import Path

from flask import Response, send_from_directory

from api.blueprint import Blueprint, reads_only
from storage.domain_errors import NotFound

blp = Blueprint("reference", __name__, description="API reference")

FILES = Path(__file__).resolve().parent.parent / "static" / "reference"
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "reference.js": "text/javascript",
          "swagger-ui.css": "text/css", "reference.css": "text/css"}
# Scripts, styles and the document from this server only: no inline script or style, no eval.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'none'")
ASSET_PARAMETER = {"name": "asset", "in": "path", "required": True,
                   "schema": {"type": "string", "enum": sorted(ASSETS)}}


def _html(status: int) -> dict:
    return {"responses": {str(status): {"description": "The page",
                                        "content": {"text/html": {"schema": {"type": "string"}}}}}}


@blp.route("/docs", methods=["GET"])
@reads_only
@blp.doc(**_html(200))
def reference_page():
    """The API reference, rendered.

    A page that renders this document (`/openapi.json`) with Swagger UI, served from this
    server's own files (no third-party host).
    """
    response = send_from_directory(FILES, "index.html", mimetype="text/html", max_age=300)
    response.headers["Content-Security-Policy"] = CSP
    return response


@blp.route("/docs/<string:asset>", methods=["GET"])
@reads_only
@blp.doc(parameters=[ASSET_PARAMETER], responses={"200": {
    "description": "A script or style sheet of the reference page",
    "content": {t: {"schema": {"type": "string"}} for t in sorted(set(ASSETS.values()))}}})
def reference_asset(asset: str) -> Response:
    """A script or style sheet of the reference page.

    The vendored Swagger UI files and the page's own script and styles; any other name is
    404 `not_found`.
    """
    if asset not in ASSETS:
        raise NotFound()
    response = send_from_directory(FILES, asset, mimetype=ASSETS[asset], max_age=86400)
    response.headers["Content-Security-Policy"] = CSP
    return response
