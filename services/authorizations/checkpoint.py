"""At the checkpoint: verify a presented authorization token, redeem a pickup exactly once,
and the signed list of revoked authorizations that offline verifiers fetch.
"""
from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from services.audit.events import record_event
from services.authorizations import jws, signing_keys
from services.authorizations.offline import REVOCATIONS_TYPE, TOKEN_TYPE, well_formed_claims
from services.authorizations.operations import epoch, expire_travel, rfc3339
from services.cases.operations import complete_case
from services.core import runtime, unit_of_work
from storage.db import session as db, utcnow
from storage.domain_errors import (
    AlreadyRedeemed,
    Expired,
    InvalidToken,
    NotInCustody,
    NotRedeemable,
    NotYetValid,
    Revoked,
)
from storage.models.accounts import Account
from storage.models.authorizations import Authorization
from storage.models.cases import Case
from storage.models.prisoners import Prisoner
from storage.vocabulary import (
    AuditOutcome,
    AuthorizationKind,
    AuthorizationStatus,
    PrisonerStatus,
    VerificationResult,
)


@dataclass(frozen=True)
class Verdict:
    result: VerificationResult
    authorization: Authorization | None = None
    claims: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any] | None:
        """What a checkpoint is shown: only what the token itself carries."""
        if self.claims is None:
            return None
        c = self.claims
        shown = {"id": c["jti"], "kind": c["kind"], "holder": c["holder"],
                 "valid_from": datetime.fromtimestamp(c["nbf"], UTC),
                 "valid_until": datetime.fromtimestamp(c["exp"], UTC)}
        for part in ("prisoner", "handover"):
            if part in c:
                shown[part] = c[part]
        return shown


def check_token(token: Any, now: datetime | None = None) -> Verdict:
    """Read a presented token against the keys and the database; never raises on garbage."""
    try:
        _, claims = jws.verify(token, signing_keys.verification_keys(), typ=TOKEN_TYPE)
    except jws.JwsError:
        return Verdict(VerificationResult.INVALID)
    if not well_formed_claims(claims, runtime.get().settings.issuer):
        return Verdict(VerificationResult.INVALID)
    auth = db().execute(select(Authorization).where(Authorization.id == uuid.UUID(claims["jti"]))
                        .execution_options(populate_existing=True)).scalar_one_or_none()
    if auth is None:
        return Verdict(VerificationResult.INVALID)
    result = _result(auth, now or utcnow())
    if auth.token is None:
        # Shredded with its case: nothing to compare with, so the signature vouches for the
        # token and the row for its refusal (revoked, redeemed, expired), but never "valid".
        if result == VerificationResult.VALID:
            return Verdict(VerificationResult.INVALID)
    elif not hmac.compare_digest(auth.token.encode(), token.encode()):
        return Verdict(VerificationResult.INVALID)
    return Verdict(result, auth, claims)


def _result(auth: Authorization, now: datetime) -> VerificationResult:
    if auth.status in (AuthorizationStatus.REDEEMED, AuthorizationStatus.REVOKED):
        return VerificationResult(auth.status)
    if now >= auth.valid_until:
        return VerificationResult.EXPIRED
    if now < auth.valid_from:
        return VerificationResult.NOT_YET_VALID
    return VerificationResult.VALID


def verify_authorization(token: Any, actor: Account) -> Verdict:
    verdict = check_token(token)
    record_event("checkpoint.verify", actor, subject_type="authorization",
                 subject_id=verdict.authorization.id if verdict.authorization else None,
                 outcome=(AuditOutcome.SUCCESS if verdict.result == VerificationResult.VALID
                          else AuditOutcome.FAILURE),
                 reason=verdict.result)
    return verdict


_REFUSALS = {VerificationResult.REDEEMED: AlreadyRedeemed, VerificationResult.REVOKED: Revoked,
             VerificationResult.EXPIRED: Expired, VerificationResult.NOT_YET_VALID: NotYetValid}


def redeem_authorization(token: Any, actor: Account) -> dict[str, Any]:
    """Redeem a pickup authorization exactly once: one conditional UPDATE decides."""
    verdict = check_token(token)
    auth = verdict.authorization
    if auth is None:
        _refuse(None, VerificationResult.INVALID, actor)
        raise InvalidToken()
    if auth.kind != AuthorizationKind.PICKUP:
        _refuse(auth.id, "not redeemable", actor)
        raise NotRedeemable()
    now = utcnow()
    won = db().execute(
        update(Authorization)
        .where(Authorization.id == auth.id, Authorization.status == AuthorizationStatus.ACTIVE,
               Authorization.valid_from <= now, Authorization.valid_until > now)
        .values(status=AuthorizationStatus.REDEEMED, redeemed_at=now, redeemed_by=actor.id)
        .execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        result = _result(db().execute(
            select(Authorization).where(Authorization.id == auth.id)
            .execution_options(populate_existing=True)).scalar_one(), now)
        _refuse(auth.id, result, actor)
        raise _REFUSALS.get(result, AlreadyRedeemed)()
    case = db().get(Case, auth.case_id)
    if not _release_prisoner(case):
        db().execute(update(Authorization).where(Authorization.id == auth.id)
                     .values(status=AuthorizationStatus.ACTIVE, redeemed_at=None,
                             redeemed_by=None).execution_options(synchronize_session=False))
        _refuse(auth.id, "not in custody", actor)
        raise NotInCustody()
    complete_case(case, actor)
    expire_travel(case, now)
    db().flush()
    record_event("checkpoint.redeem", actor, subject_type="authorization", subject_id=auth.id)
    return {"result": VerificationResult.REDEEMED, "authorization_id": auth.id, "redeemed_at": now}


def _refuse(auth_id: uuid.UUID | None, result: str, actor: Account) -> None:
    record_event("checkpoint.redeem", actor, subject_type="authorization", subject_id=auth_id,
                 outcome=AuditOutcome.FAILURE, reason=result)
    unit_of_work.keep_on_refusal()  # the failed redemption stays in the log


def _release_prisoner(case: Case) -> bool:
    """Held → released in one conditional UPDATE: of two redemptions racing for one
    prisoner, one wins; the other (or a prisoner no longer held) undoes its redemption."""
    if case.prisoner_id is None:
        return False
    return db().execute(
        update(Prisoner).where(Prisoner.id == case.prisoner_id,
                               Prisoner.status == PrisonerStatus.HELD)
        .values(status=PrisonerStatus.RELEASED, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount == 1


# --- the signed revocation list ----------------------------------------------------------------

def revocation_list(now: datetime | None = None) -> dict[str, Any]:
    """Revoked authorizations that have not yet expired, signed by the active key."""
    now = now or utcnow()
    rows = db().execute(
        select(Authorization.id, Authorization.revoked_at)
        .where(Authorization.status == AuthorizationStatus.REVOKED,
               Authorization.valid_until > now)
        .order_by(Authorization.revoked_at, Authorization.id)).all()
    revoked = [{"id": str(row.id), "revoked_at": rfc3339(row.revoked_at)} for row in rows]
    kid, key = signing_keys.active_signing_key()
    payload = {"iss": runtime.get().settings.issuer, "iat": epoch(now), "revoked": revoked}
    return {"issued_at": rfc3339(now), "revoked": revoked,
            "jws": jws.sign(payload, key, kid=kid, typ=REVOCATIONS_TYPE)}
