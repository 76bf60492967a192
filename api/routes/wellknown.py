"""Public keys that verify authorization tokens and the revocation list."""
from __future__ import annotations

from flask import make_response

from api.blueprint import Blueprint
from schemas.authorizations import JwksOut
from services.authorizations import signing_keys

blp = Blueprint("wellknown", __name__, url_prefix="/.well-known",
                description="Authorization-signing keys")


@blp.route("/jwks.json", methods=["GET"])
@blp.response(200, JwksOut)
def jwks():
    """The keys that verify authorization tokens (JWKS).

    Ed25519 keys, retired ones included while tokens they signed are still valid.
    """
    response = make_response(JwksOut().dump(signing_keys.jwks()))
    # A verifier that meets an unknown kid fetches again; a few minutes of caching is safe
    # because a retired key stays published until its last token expires.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
