"""Travel and pickup authorizations: issue and revoke them (a checkpoint verifies and redeems
them in services.authorizations.checkpoint).

A token is a compact JWS (EdDSA) with ``typ`` ``kinpass-authorization+jwt`` and ``aud``
``kinpass-checkpoint``; its ``jti`` is the authorization's id. Whether it is still good is
decided by the database row (revoked, redeemed) and its window (``nbf``..``exp``).
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case as sql_case, select, update

from services.audit.events import record_event
from services.authorizations import jws, signing_keys
from services.authorizations.handovers import check_window
from services.authorizations.offline import AUDIENCE, TOKEN_TYPE
from services.authorizations.sealing import seal_token
from services.cases.notifications import case_reference
from services.cases.policy import case_for_relative, case_for_staff
from services.core import runtime
from services.documents.metadata import document_metadata
from services.documents.numbers import document_number
from services.messages.outbox import notify
from services.registry.romanize import icao_latin
from storage.db import session as db, utcnow
from storage.domain_errors import Gone, InvalidState, NotFound, ValidationFailed
from storage.models.accounts import Account
from storage.models.authorizations import Authorization, Handover
from storage.models.cases import Case, Document
from storage.models.prisoners import Prisoner
from storage.paging import Page, paginate
from storage.vocabulary import (
    IDENTITY_KINDS,
    AuthorizationKind,
    AuthorizationStatus,
    CaseStatus,
    DocumentStatus,
    PrisonerStatus,
)

TRAVEL, PICKUP = AuthorizationKind.TRAVEL, AuthorizationKind.PICKUP
ACTIVE = AuthorizationStatus.ACTIVE

# --- token contents ------------------------------------------------------------------------

def rfc3339(moment: datetime) -> str:
    return _whole_seconds(moment).isoformat().replace("+00:00", "Z")


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _full_name(person: dict[str, Any]) -> str:
    return " ".join(str(person[part]) for part in ("surname", "given_name", "patronymic")
                    if person.get(part))


def _document_number(case: Case) -> str | None:
    """The number of the holder's identity document: from its MRZ, else its typed fields."""
    documents = db().execute(
        select(Document).where(Document.case_id == case.id, Document.kind.in_(IDENTITY_KINDS),
                               Document.status == DocumentStatus.STORED)
        .order_by(Document.uploaded_at.desc(), Document.created_at.desc())).scalars().all()
    for document in documents:
        meta = document_metadata(document)
        number = document_number(meta.mrz, meta.fields)
        if number:
            return number
    return None


def _holder(case: Case) -> dict[str, Any]:
    name = _full_name(case.applicant)
    return {"name": name, "name_latin": icao_latin(name),
            "birth_date": str(case.applicant.get("birth_date")),
            "document_number": _document_number(case)}


def _prisoner_claim(prisoner: Prisoner) -> dict[str, Any]:
    latin = " ".join(p for p in (prisoner.surname_latin, prisoner.given_name_latin,
                                 prisoner.patronymic_latin) if p)
    return {"name": _full_name({"surname": prisoner.surname, "given_name": prisoner.given_name,
                                "patronymic": prisoner.patronymic}),
            "name_latin": latin, "birth_date": prisoner.birth_date.isoformat()}


def _handover_claim(handover: Handover) -> dict[str, Any]:
    return {"location": handover.location, "starts_at": rfc3339(handover.starts_at),
            "ends_at": rfc3339(handover.ends_at)}


def _claims(auth: Authorization, case: Case, prisoner: Prisoner | None,
            handover: Handover | None) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": runtime.get().settings.issuer, "aud": AUDIENCE, "jti": str(auth.id),
        "kind": auth.kind, "iat": epoch(auth.issued_at), "nbf": epoch(auth.valid_from),
        "exp": epoch(auth.valid_until), "holder": _holder(case)}
    if auth.kind == PICKUP:
        assert prisoner is not None and handover is not None
        claims["prisoner"] = _prisoner_claim(prisoner)
        claims["handover"] = _handover_claim(handover)
    elif auth.entry_point:
        claims["entry_point"] = auth.entry_point
    return claims


# --- issue and revoke ------------------------------------------------------------------------

def _relative_of(case: Case) -> Account:
    return db().get(Account, case.account_id)


def _tell_relative(case: Case, template: str) -> None:
    relative = _relative_of(case)
    if relative is not None and (relative.email or relative.phone):
        notify(relative.email or relative.phone, template, relative.language,
               account_id=relative.id, case_id=case.id, ref=case_reference(case))


def _lock(case: Case) -> Case:
    """Hold the case row for the rest of the transaction, re-read: issuances queue."""
    return db().execute(select(Case).where(Case.id == case.id).with_for_update()
                        .execution_options(populate_existing=True)).scalar_one()


def active_authorization(case_id: uuid.UUID, kind: AuthorizationKind,
                         now: datetime | None = None) -> Authorization | None:
    """The case's live authorization of ``kind``: status active and not past valid_until."""
    return db().execute(select(Authorization).where(
        Authorization.case_id == case_id, Authorization.kind == kind,
        Authorization.status == ACTIVE,
        Authorization.valid_until > (now or utcnow()))).scalar_one_or_none()


def _revoke_rows(where: Any, actor: Any, reason: str, now: datetime) -> list[uuid.UUID]:
    """Revoke every active authorization matching ``where``, one conditional UPDATE."""
    ids = list(db().execute(
        update(Authorization).where(Authorization.status == ACTIVE, where)
        .values(status=AuthorizationStatus.REVOKED, revoked_at=now,
                revoked_by=getattr(actor, "id", None), revoke_reason=reason)
        .returning(Authorization.id).execution_options(synchronize_session=False)).scalars())
    for auth_id in ids:
        record_event("authorization.revoke", actor, subject_type="authorization",
                     subject_id=auth_id, reason=reason if reason in ("reissued", "withdrawn")
                     else "revoked by staff")
    return ids


@dataclass(frozen=True)
class IssueRequest:
    kind: AuthorizationKind
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    entry_point: str | None = None
    handover_id: uuid.UUID | None = None


def issue_authorization(case_id: uuid.UUID, request: IssueRequest,
                        actor: Account) -> Authorization:
    """Issue a travel or pickup authorization for an approved case (a re-issue revokes the
    earlier active one of that kind)."""
    case = _lock(case_for_staff(case_id, actor))
    if case.status != CaseStatus.APPROVED:
        raise InvalidState()
    now = utcnow()
    prisoner = handover = None
    if request.kind == PICKUP:
        prisoner = db().get(Prisoner, case.prisoner_id) if case.prisoner_id else None
        if (prisoner is None or prisoner.status != PrisonerStatus.HELD
                or active_authorization(case.id, TRAVEL, now) is None):
            raise InvalidState()
        handover = db().get(Handover, request.handover_id)
        if handover is None:
            raise ValidationFailed(errors={"handover_id": ["No such handover."]})
        if _whole_seconds(handover.ends_at) <= now:
            raise ValidationFailed(errors={"handover_id": ["This handover has ended."]})
        valid_from, valid_until = handover.starts_at, handover.ends_at
    else:
        assert request.valid_from is not None and request.valid_until is not None
        valid_from, valid_until = request.valid_from, request.valid_until
    valid_from, valid_until = _whole_seconds(valid_from), _whole_seconds(valid_until)
    check_window(valid_from, valid_until, "valid_from", "valid_until", now)
    previous = _revoke_rows((Authorization.case_id == case.id)
                            & (Authorization.kind == request.kind), actor, "reissued", now)
    db().flush()
    kid, key = signing_keys.active_signing_key()
    auth = Authorization(
        id=uuid.uuid4(), case_id=case.id, kind=request.kind, status=ACTIVE,
        valid_from=valid_from, valid_until=valid_until,
        entry_point=request.entry_point if request.kind == TRAVEL else None,
        handover_id=handover.id if handover else None, kid=kid,
        issued_at=now, issued_by=actor.id)
    seal_token(auth, jws.sign(_claims(auth, case, prisoner, handover), key, kid=kid,
                              typ=TOKEN_TYPE))
    db().add(auth)
    db().flush()
    record_event("authorization.issue", actor, subject_type="authorization", subject_id=auth.id,
                 reason=f"{request.kind}; replaces {len(previous)}")
    _tell_relative(case, f"authorization_issued_{request.kind}")
    return auth


def get_authorization(authorization_id: uuid.UUID) -> Authorization:
    auth = db().get(Authorization, authorization_id)
    if auth is None:
        raise NotFound()
    return auth


def authorization_for_viewer(authorization_id: uuid.UUID, account: Account) -> Authorization:
    """The one policy for reading an authorization: its case's relative, or case staff.
    Anyone else's id answers 404, like a missing one."""
    auth = db().get(Authorization, authorization_id)
    if auth is None:
        raise NotFound()
    if not account.is_staff:
        owner = db().execute(select(Case.account_id).where(Case.id == auth.case_id)).scalar()
        if owner != account.id:
            raise NotFound()
    return auth


def view_authorization(authorization_id: uuid.UUID, actor: Account) -> Authorization:
    """A read of an authorization through the one policy, in the audit log."""
    auth = authorization_for_viewer(authorization_id, actor)
    record_event("authorization.view", actor, subject_type="authorization",
                 subject_id=auth.id)
    return auth


def authorization_qr_token(authorization_id: uuid.UUID, actor: Account) -> str:
    """The token to show as a QR code, through the one policy, in the audit log; a shredded
    authorization has none (410)."""
    auth = authorization_for_viewer(authorization_id, actor)
    record_event("authorization.qr", actor, subject_type="authorization", subject_id=auth.id)
    if auth.token is None:
        raise Gone()
    return auth.token


def revoke_authorization(authorization_id: uuid.UUID, reason: str,
                         actor: Account) -> Authorization:
    auth = get_authorization(authorization_id)
    now = utcnow()
    if auth.status_at(now) != ACTIVE:
        raise InvalidState()
    revoked = _revoke_rows((Authorization.id == auth.id) & (Authorization.valid_until > now),
                           actor, reason, now)
    if not revoked:
        raise InvalidState()
    db().refresh(auth)
    _tell_relative(db().get(Case, auth.case_id), "authorization_revoked")
    return auth


def revoke_case_authorizations(case: Case, actor: Any) -> list[uuid.UUID]:
    """Revoke every active authorization of ``case`` (the case is withdrawn, say)."""
    revoked = _revoke_rows(Authorization.case_id == case.id, actor, "withdrawn", utcnow())
    db().flush()
    if revoked:
        _tell_relative(case, "authorization_revoked")
    return revoked


def expire_travel(case: Case, now: datetime) -> None:
    """The case is completed: its travel authorization ends now (read `expired`); one not
    yet begun ends before it begins."""
    db().execute(update(Authorization).where(
        Authorization.case_id == case.id, Authorization.kind == TRAVEL,
        Authorization.status == ACTIVE, Authorization.valid_until > now)
        .values(valid_until=now, valid_from=sql_case((Authorization.valid_from > now, now),
                                                     else_=Authorization.valid_from))
        .execution_options(synchronize_session="fetch"))


def list_case_authorizations(case_id: uuid.UUID, account: Account, *, cursor: str | None,
                             limit: int) -> Page[Authorization]:
    """A relative's own case's authorizations, oldest first (404 for anyone else's case)."""
    case = case_for_relative(case_id, account)
    return paginate(select(Authorization).where(Authorization.case_id == case.id),
                    [Authorization.issued_at, Authorization.id], cursor, limit)


def authorizations_of_cases(case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Authorization]]:
    """Each case's authorizations, oldest first, in one query however many cases."""
    found: dict[uuid.UUID, list[Authorization]] = defaultdict(list)
    if case_ids:
        for auth in db().execute(
                select(Authorization).where(Authorization.case_id.in_(case_ids))
                .order_by(Authorization.issued_at, Authorization.id)).scalars():
            found[auth.case_id].append(auth)
    return found
