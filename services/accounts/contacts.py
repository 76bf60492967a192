"""Contacts and the codes sent to them: logins, keyed limiter names, send limits, and
six-digit codes bound to one contact, one purpose and one registration or account."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update

from auth.ratelimit import hit_within
from services.core import runtime, unit_of_work
from services.messages.outbox import notify
from storage.db import session as db, utcnow
from storage.domain_errors import RateLimited
from storage.models.accounts import Account, ContactCode
from storage.vocabulary import CodePurpose, ContactKind

CODE_TTL = timedelta(minutes=15)
CODE_TRIES = 5
HOUR, QUARTER = 3600, 900
SENDS_PER_CONTACT, SENDS_PER_IP = 5, 100


def normalize_login(login: str) -> str:
    login = login.strip()
    return login.lower() if "@" in login else login


def contact_kind(login: str) -> ContactKind:
    return ContactKind.EMAIL if "@" in login else ContactKind.PHONE


def keyed(kind: str, value: str) -> str:
    digest = hmac.new(runtime.get().pepper, value.encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:40]}"


def account_column(kind: ContactKind) -> Any:
    return Account.email if kind is ContactKind.EMAIL else Account.phone


def find_by_login(login: str) -> Account | None:
    """The account a verified contact belongs to (only verified contacts are on accounts)."""
    login = normalize_login(login)
    return db().execute(select(Account).where(
        account_column(contact_kind(login)) == login)).scalar_one_or_none()


def limit_sends(contacts: Sequence[str], ip: str | None) -> None:
    limiter = runtime.get().limiter
    try:
        for contact in contacts:
            hit_within(limiter, keyed("send", contact), SENDS_PER_CONTACT, HOUR)
        if ip:
            hit_within(limiter, keyed("send-ip", ip), SENDS_PER_IP, HOUR)
    except RateLimited:
        unit_of_work.keep_on_refusal()  # the attempt counts
        raise


def _code_hash(code_id: uuid.UUID, code: str) -> str:
    return hmac.new(runtime.get().pepper, f"{code_id}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _live(now: Any) -> list[ColumnElement[bool]]:
    return [ContactCode.used_at.is_(None), ContactCode.expires_at > now,
            ContactCode.attempts < CODE_TRIES]


def send_code(*, purpose: CodePurpose, channel: ContactKind, to: str, language: str,
              template: str, registration_id: uuid.UUID | None = None,
              account_id: uuid.UUID | None = None) -> None:
    """A new code kills the earlier ones of the same purpose, contact and owner."""
    owner = (ContactCode.registration_id == registration_id if registration_id
             else ContactCode.account_id == account_id)
    code = _new_code(purpose, channel, owner, registration_id=registration_id,
                     account_id=account_id)
    notify(to, template, language, code=code)


def rehearse_code(*, purpose: CodePurpose, channel: ContactKind, to: str, language: str,
                  template: str | None) -> None:
    """What `send_code` costs, for a contact that is sent no code (unknown, or already
    verified): the same statements and, given a template, the same sealed outbox row, none
    of it kept."""
    with unit_of_work.rehearsal():
        code = _new_code(purpose, channel, ContactCode.account_id == uuid.uuid4())
        if template:
            notify(to, template, language, code=code)


def _new_code(purpose: CodePurpose, channel: ContactKind, owner: ColumnElement[bool], *,
              registration_id: uuid.UUID | None = None,
              account_id: uuid.UUID | None = None) -> str:
    now = utcnow()
    db().execute(update(ContactCode).where(
        owner, ContactCode.purpose == purpose, ContactCode.channel == channel,
        ContactCode.used_at.is_(None)).values(used_at=now))
    code = f"{secrets.randbelow(10**6):06d}"
    row = ContactCode(id=uuid.uuid4(), purpose=purpose, channel=channel,
                      registration_id=registration_id, account_id=account_id,
                      expires_at=now + CODE_TTL)
    row.code_hash = _code_hash(row.id, code)
    db().add(row)
    return code


def live_codes(purpose: CodePurpose, *where: ColumnElement[bool]) -> list[ContactCode]:
    return list(db().execute(
        select(ContactCode).where(ContactCode.purpose == purpose, *_live(utcnow()), *where)
        .order_by(ContactCode.created_at).with_for_update()).scalars())


def match_code(candidates: Sequence[ContactCode], code: str) -> ContactCode | None:
    """The candidate the code opens, used up; else every candidate counts a wrong try."""
    for candidate in candidates:
        if hmac.compare_digest(candidate.code_hash, _code_hash(candidate.id, code)):
            candidate.used_at = utcnow()
            return candidate
    for candidate in candidates:
        candidate.attempts += 1
    return None


def kill_codes(purpose: CodePurpose, *where: ColumnElement[bool]) -> None:
    db().execute(update(ContactCode).where(ContactCode.purpose == purpose,
                                           ContactCode.used_at.is_(None), *where)
                 .values(used_at=utcnow()))
