"""Verify an authorization token with no server: only the JWKS and the revocation list.

This is what a checkpoint without a connection runs (docs/checkpoint.md). It needs two JSON
documents fetched while online — ``/.well-known/jwks.json`` and
``/v1/authorizations/revocations`` — and trusts the revocation list only as far as its own
signature, by a key of that JWKS, goes, and only while it is fresh: past
``max_age_minutes`` (KINPASS_REVOCATION_MAX_AGE_MINUTES) since the list was signed, a token
that would read "valid" reads "stale" instead. A redemption always needs the server: offline,
a pickup token that was already redeemed still reads "valid".
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.authorizations import jws
from services.core.settings import Settings
from storage.vocabulary import AuthorizationKind, VerificationResult

# A JOSE "typ" header value, not a secret.
TOKEN_TYPE = "kinpass-authorization+jwt"  # noqa: S105  # nosec B105
REVOCATIONS_TYPE = "kinpass-revocations+jwt"
AUDIENCE = "kinpass-checkpoint"
STALE = "stale"  # not a server verdict: the list is too old to call anything valid
DEFAULT_MAX_AGE_MINUTES = Settings.revocation_max_age_minutes


class RevocationListError(ValueError):
    """The revocation list is not signed by a key of the JWKS (or not from this issuer)."""


@dataclass(frozen=True)
class OfflineResult:
    result: str  # a VerificationResult but redeemed (only the server knows), or STALE
    claims: dict[str, Any] | None = None
    revocations_issued_at: int | None = None
    notes: list[str] = field(default_factory=list)


def signed_revocations(revocations: Mapping[str, Any], keys: Mapping[str, Any],
                       issuer: str) -> tuple[int, set[str]]:
    """(iat, revoked ids) from the list's JWS; the unsigned copy beside it is ignored."""
    try:
        _, payload = jws.verify(revocations.get("jws"), keys, typ=REVOCATIONS_TYPE,
                                max_chars=None)
    except jws.JwsError as exc:
        raise RevocationListError(str(exc)) from None
    revoked, iat = payload.get("revoked"), payload.get("iat")
    if (not isinstance(revoked, list) or not isinstance(iat, int) or isinstance(iat, bool)
            or payload.get("iss") != issuer):
        raise RevocationListError("not a KinPass revocation list")
    return iat, {str(entry.get("id")) for entry in revoked if isinstance(entry, Mapping)}


def well_formed_claims(claims: Mapping[str, Any], issuer: str) -> bool:
    """The claims an authorization must carry, with the right types and values."""
    stamps = [claims.get(name) for name in ("iat", "nbf", "exp")]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in stamps):
        return False
    if claims.get("aud") != AUDIENCE or claims.get("iss") != issuer:
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
    """Keys and revocations checked once, then any number of tokens (a scanning session).

    ``issuer`` is required: a token or list signed for another KinPass is not this one's."""

    def __init__(self, jwks_document: Mapping[str, Any], revocations: Mapping[str, Any], *,
                 issuer: str, max_age_minutes: int = DEFAULT_MAX_AGE_MINUTES) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ValueError("the issuer is required (KINPASS_ISSUER)")
        if max_age_minutes < 1:
            raise ValueError("the revocation list's maximum age must be at least a minute")
        self.keys = jws.keys_from_jwks(jwks_document)
        self.issuer = issuer
        self.max_age_seconds = max_age_minutes * 60
        self.revocations_issued_at, self.revoked = signed_revocations(revocations, self.keys,
                                                                      issuer)

    def stale_at(self, moment: float) -> bool:
        """Whether the revocation list is too old, at ``moment``, to call a token valid."""
        return moment - self.revocations_issued_at > self.max_age_seconds

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
        elif self.stale_at(moment):
            result = STALE
        else:
            result = VerificationResult.VALID
        notes = []
        if result == STALE:
            notes.append(f"revocation list older than {self.max_age_seconds // 60} minutes: "
                         "refresh it online")
        if claims["kind"] == AuthorizationKind.PICKUP:
            notes.append("single use: redeem online")
        return OfflineResult(result, claims, self.revocations_issued_at, notes)


def verify_offline(token: Any, jwks_document: Mapping[str, Any],
                   revocations: Mapping[str, Any], *, issuer: str,
                   max_age_minutes: int = DEFAULT_MAX_AGE_MINUTES,
                   now: float | None = None) -> OfflineResult:
    """Check a token's signature, audience, window and the signed revocation list.

    Raises RevocationListError if the revocation list itself cannot be trusted: a checkpoint
    must then refuse to decide rather than wave a revoked token through. A list older than
    ``max_age_minutes`` makes a token that would be valid read ``stale``.
    """
    return OfflineVerifier(jwks_document, revocations, issuer=issuer,
                           max_age_minutes=max_age_minutes).verify(token, now)
