"""/checkpoint/: the installable checkpoint app, its service worker and its settings."""
from __future__ import annotations

from pathlib import Path

from flask import Response, jsonify, send_from_directory

from api.blueprint import Blueprint, reads_only
from services.authorizations.offline import AUDIENCE
from services.core import runtime
from storage.domain_errors import NotFound

blp = Blueprint("checkpoint_app", __name__, description="Checkpoint app")

FILES = Path(__file__).resolve().parent / "static"
JS, CSS = "text/javascript", "text/css"
ASSETS = {"app.js": JS, "verify.js": JS, "session.js": JS, "scan.js": JS, "view.js": JS,
          "sw.js": JS, "jsQR.js": JS, "app.css": CSS,
          "manifest.webmanifest": "application/manifest+json", "icon.svg": "image/svg+xml"}
# Everything from this server: no inline script or style, no eval; the camera for this origin.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
ASSET_PARAMETER = {"name": "asset", "in": "path", "required": True,
                   "schema": {"type": "string", "enum": sorted(ASSETS)}}


def _guarded(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blp.route("/checkpoint/", methods=["GET"])
@reads_only
@blp.doc(responses={"200": {"description": "The app's page",
                            "content": {"text/html": {"schema": {"type": "string"}}}}})
def checkpoint_page():
    """The checkpoint app.

    An installable web app for staff with role `checkpoint`: scan or paste an authorization
    token, verify it in the browser against the cached JWKS and signed revocation list, and
    redeem a pickup online. Served from this server's own files.
    """
    # Revalidated every time: the service worker keeps the copy used offline.
    return _guarded(send_from_directory(FILES, "index.html", mimetype="text/html", max_age=0))


@blp.route("/checkpoint/config.json", methods=["GET"])
@reads_only
@blp.doc(responses={"200": {"description": "What the app needs to decide offline",
                            "content": {"application/json": {"schema": {"type": "object"}}}}})
def checkpoint_config():
    """The checkpoint app's settings.

    The issuer and audience a token must name, and the oldest revocation list the app may
    trust (`KINPASS_REVOCATION_MAX_AGE_MINUTES`).
    """
    settings = runtime.get().settings
    response = jsonify({"issuer": settings.issuer, "audience": AUDIENCE,
                        "revocation_max_age_minutes": settings.revocation_max_age_minutes})
    response.headers["Cache-Control"] = "no-cache"
    return _guarded(response)


@blp.route("/checkpoint/<string:asset>", methods=["GET"])
@reads_only
@blp.doc(parameters=[ASSET_PARAMETER], responses={"200": {
    "description": "A script, style sheet, icon or manifest of the checkpoint app",
    "content": {t: {"schema": {"type": "object" if t.endswith("+json") else "string"}}
                for t in sorted(set(ASSETS.values()))}}})
def checkpoint_asset(asset: str) -> Response:
    """A file of the checkpoint app.

    Its scripts (the service worker and the vendored jsQR decoder among them), style sheet,
    icon and web app manifest; any other name is 404 `not_found`.
    """
    if asset not in ASSETS:
        raise NotFound()
    response = send_from_directory(FILES, asset, mimetype=ASSETS[asset], max_age=0)
    return _guarded(response)
