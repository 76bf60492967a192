"""Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037), and Ed25519 JWKs.

Only what authorization tokens and the revocation list need: ``alg`` is pinned to EdDSA on
both sides, the header must name a ``kid`` and a ``typ``, and nothing in a token chooses the
key or the algorithm it is checked with beyond naming the ``kid`` of a key the caller trusts.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG = "EdDSA"
MAX_TOKEN_CHARS = 16 * 1024


class JwsError(ValueError):
    """The token is not a well-formed, correctly signed JWS of the expected type."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise JwsError("bad base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise JwsError("bad base64url") from None


def _json_bytes(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def thumbprint(public: bytes) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an Ed25519 public key: its ``kid``."""
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": b64url(public)},
                         separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(members).digest())


def public_jwk(kid: str, public: bytes) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(public), "kid": kid, "alg": ALG,
            "use": "sig"}


def keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The usable Ed25519 signing keys of a JWKS document, by ``kid``; others are skipped."""
    found: dict[str, Ed25519PublicKey] = {}
    entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
    for jwk in entries if isinstance(entries, list) else []:
        if not (isinstance(jwk, Mapping) and jwk.get("kty") == "OKP"
                and jwk.get("crv") == "Ed25519" and jwk.get("alg", ALG) == ALG
                and jwk.get("use", "sig") == "sig" and isinstance(jwk.get("kid"), str)):
            continue
        try:
            raw = b64url_decode(jwk["x"])
            found[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(raw)
        except (JwsError, ValueError, TypeError):
            continue
    return found


def sign(payload: Mapping[str, Any], key: Ed25519PrivateKey, *, kid: str, typ: str) -> str:
    header = {"alg": ALG, "kid": kid, "typ": typ}
    signing_input = f"{b64url(_json_bytes(header))}.{b64url(_json_bytes(payload))}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"


def read_header(token: Any, max_chars: int | None = MAX_TOKEN_CHARS) -> dict[str, Any]:
    """The protected header of a compact JWS, unverified (to find its ``kid``)."""
    if not isinstance(token, str) or token.count(".") != 2 or (
            max_chars is not None and len(token) > max_chars):
        raise JwsError("not a compact JWS")
    try:
        header = json.loads(b64url_decode(token.split(".", 1)[0]))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise JwsError("bad header") from None
    if not isinstance(header, dict):
        raise JwsError("bad header")
    return header


def verify(token: Any, keys: Mapping[str, Ed25519PublicKey], *, typ: str,
           max_chars: int | None = MAX_TOKEN_CHARS) -> tuple[str, dict[str, Any]]:
    """Check header, key and signature; return (kid, payload). Raises JwsError otherwise.

    ``max_chars`` bounds what a scanned token may be; a revocation list passes None."""
    header = read_header(token, max_chars)
    if header.get("alg") != ALG or header.get("typ") != typ or "crit" in header:
        raise JwsError("wrong header")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise JwsError("unknown key")
    head, body, signature = token.split(".")
    try:
        key.verify(b64url_decode(signature), f"{head}.{body}".encode("ascii"))
    except (InvalidSignature, UnicodeEncodeError):
        raise JwsError("bad signature") from None
    try:
        payload = json.loads(b64url_decode(body))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise JwsError("bad payload") from None
    if not isinstance(payload, dict):
        raise JwsError("bad payload")
    return kid, payload
