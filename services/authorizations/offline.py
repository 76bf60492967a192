"""Verify an authorization token with no server: only the JWKS and the revocation list.

This is what a checkpoint without a connection runs (docs/checkpoint.md). It needs two JSON
documents fetched while online — ``/.well-known/jwks.json`` and
``/v1/authorizations/revocations`` — and trusts the revocation list only as far as its own
signature, by a key of that JWKS, goes. A redemption always needs the server: offline, a
pickup token that was already redeemed still reads "valid".
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.authorizations import jws
from storage.vocabulary import AuthorizationKind, VerificationResult

# A JOSE "typ" header value, not a secret.
TOKEN_TYPE = "kinpass-authorization+jwt"  # noqa: S105  # nosec B105
REVOCATIONS_TYPE = "kinpass-revocations+jwt"
AUDIENCE = "kinpass-checkpoint"


class RevocationListError(ValueError):
    """The revocation list is not signed by a key of the JWKS (or not from this issuer)."""


@dataclass(frozen=True)
class OfflineResult:
    result: VerificationResult  # never redeemed: only the server knows
    claims: dict[str, Any] | None = None
    revocations_issued_at: int | None = None
    notes: list[str] = field(default_factory=list)


def signed_revocations(revocations: Mapping[str, Any], keys: Mapping[str, Any],
                       issuer: str | None = None) -> tuple[int, set[str]]:
    """(iat, revoked ids) from the list's JWS; the unsigned copy beside it is ignored."""
    try:
        _, payload = jws.verify(revocations.get("jws"), keys, typ=REVOCATIONS_TYPE,
                                max_chars=None)
    except jws.JwsError as exc:
        raise RevocationListError(str(exc)) from None
    revoked, iat = payload.get("revoked"), payload.get("iat")
    if not isinstance(revoked, list) or not isinstance(iat, int) or (
            issuer is not None and payload.get("iss") != issuer):
        raise RevocationListError("not a KinPass revocation list")
    return iat, {str(entry.get("id")) for entry in revoked if isinstance(entry, Mapping)}


def well_formed_claims(claims: Mapping[str, Any], issuer: str | None) -> bool:
    """The claims an authorization must carry, with the right types and values."""
    stamps = [claims.get(name) for name in ("iat", "nbf", "exp")]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in stamps):
        return False
    if claims.get("aud") != AUDIENCE or (issuer is not None and claims.get("iss") != issuer):
        return False
    kind = claims.get("kind")
    if kind not in tuple(AuthorizationKind) or not isinstance(claims.get("holder"), Mapping):
        return False
    if kind == AuthorizationKind.PICKUP and not (isinstance(claims.get("prisoner"), Mapping)
                                 and isinstance(claims.get("handover"), Mapping)):
        return False
    try:
        uuid.UUID(str(claims.get("jti")))
    except ValueError:
        return False
    return True


class OfflineVerifier:
    """Keys and revocations checked once, then any number of tokens (a scanning session)."""

    def __init__(self, jwks_document: Mapping[str, Any], revocations: Mapping[str, Any], *,
                 issuer: str | None = None) -> None:
        self.keys = jws.keys_from_jwks(jwks_document)
        self.issuer = issuer
        self.revocations_issued_at, self.revoked = signed_revocations(revocations, self.keys,
                                                                      issuer)

    def verify(self, token: Any, now: float | None = None) -> OfflineResult:
        try:
            _, claims = jws.verify(token, self.keys, typ=TOKEN_TYPE)
        except jws.JwsError:
            return OfflineResult(VerificationResult.INVALID, None, self.revocations_issued_at)
        if not well_formed_claims(claims, self.issuer):
            return OfflineResult(VerificationResult.INVALID, None, self.revocations_issued_at)
        moment = time.time() if now is None else now
        if str(claims["jti"]) in self.revoked:
            result = VerificationResult.REVOKED
        elif moment >= claims["exp"]:
            result = VerificationResult.EXPIRED
        elif moment < claims["nbf"]:
            result = VerificationResult.NOT_YET_VALID
        else:
            result = VerificationResult.VALID
        notes = ["single use: redeem online"] if claims["kind"] == AuthorizationKind.PICKUP else []
        return OfflineResult(result, claims, self.revocations_issued_at, notes)


def verify_offline(token: Any, jwks_document: Mapping[str, Any],
                   revocations: Mapping[str, Any], *, issuer: str | None = None,
                   now: float | None = None) -> OfflineResult:
    """Check a token's signature, audience, window and the signed revocation list.

    Raises RevocationListError if the revocation list itself cannot be trusted: a checkpoint
    must then refuse to decide rather than wave a revoked token through.
    """
    return OfflineVerifier(jwks_document, revocations, issuer=issuer).verify(token, now)
