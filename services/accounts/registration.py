"""Registration and the proof of contacts: a contact belongs to an account only once its own
code is verified, and the password that becomes the account's is the one given with the
registration whose code that was."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from auth import passwords
from services.accounts.contacts import (
    account_column,
    contact_kind,
    find_by_login,
    kill_codes,
    limit_sends,
    live_codes,
    match_code,
    normalize_login,
    rehearse_code,
    send_code,
)
from services.audit.events import record_event
from services.core import unit_of_work
from services.messages.outbox import notify
from storage.db import session as db
from storage.domain_errors import InvalidCode, ValidationFailed
from storage.models.accounts import Account, ContactCode, Registration
from storage.vocabulary import (
    DEFAULT_LANGUAGE,
    AccountStatus,
    AuditOutcome,
    CodePurpose,
    ContactKind,
    Role,
)


def check_password_policy(password: str, field: str = "password") -> None:
    problem = passwords.password_problem(password)
    if problem:
        raise ValidationFailed(errors={field: [problem]})


def _registration_column(kind: ContactKind) -> object:
    return Registration.email if kind is ContactKind.EMAIL else Registration.phone


def _pending_codes(contact: str, *, registration_id: uuid.UUID | None = None,
                   other_than: uuid.UUID | None = None) -> list[ContactCode]:
    """Live verification codes sent to ``contact`` for a registration."""
    kind = contact_kind(contact)
    where = [ContactCode.channel == kind, ContactCode.registration_id == Registration.id,
             _registration_column(kind) == contact]
    if registration_id is not None:
        where.append(Registration.id == registration_id)
    if other_than is not None:
        where.append(Registration.id != other_than)
    return live_codes(CodePurpose.VERIFY, *where)


def _send_verification(registration: Registration, contact: str) -> None:
    contested = bool(_pending_codes(contact, other_than=registration.id))
    send_code(purpose=CodePurpose.VERIFY, channel=contact_kind(contact), to=contact,
              language=registration.language, registration_id=registration.id,
              template="verification_code_contested" if contested else "verification_code")


def _rehearse_verification(contact: str, *, message: bool) -> None:
    """The work of `_send_verification` for a contact that gets no code."""
    _pending_codes(contact)
    rehearse_code(purpose=CodePurpose.VERIFY, channel=contact_kind(contact), to=contact,
                  language=DEFAULT_LANGUAGE, template="verification_code" if message else None)


def register_account(*, email: str | None, phone: str | None, password: str, full_name: str,
                     language: str | None, ip: str | None) -> uuid.UUID:
    """Every call is a new registration and hashes its password, whatever the contacts'
    state: a free contact gets a code of it, a taken one a notice — each to itself only."""
    if not email and not phone:
        raise ValidationFailed(errors={"email": ["Give an email or a phone number."]})
    check_password_policy(password)
    email = email.strip().lower() if email else None
    contacts = [contact for contact in (email, phone) if contact]
    limit_sends(contacts, ip)
    password_hash = passwords.hash_password(password)
    owners = {contact: find_by_login(contact) for contact in contacts}
    free = [contact for contact in contacts if owners[contact] is None]
    registration = Registration(
        id=uuid.uuid4(), full_name=full_name, language=language or DEFAULT_LANGUAGE,
        password_hash=password_hash,
        email=email if email in free else None, phone=phone if phone in free else None)
    db().add(registration)
    db().flush()
    for contact in contacts:
        owner = owners[contact]
        if owner is None:
            _send_verification(registration, contact)
            continue
        _rehearse_verification(contact, message=False)  # its message is the notice
        notify(contact, "already_registered", owner.language)
        record_event("account.register", None, subject_type="account", subject_id=owner.id,
                     outcome=AuditOutcome.FAILURE, reason="contact already registered")
    record_event("account.register", None, subject_type="registration",
                 subject_id=registration.id)
    return registration.id


def resend_code(*, login: str, ip: str | None) -> None:
    """A new code for the newest registration waiting on this contact; the same work and
    the same answer for any login."""
    login = normalize_login(login)
    limit_sends([login], ip)
    passwords.spend_hash_work()
    verified = find_by_login(login) is not None
    registration = db().execute(
        select(Registration).where(_registration_column(contact_kind(login)) == login)
        .order_by(Registration.created_at.desc()).limit(1)).scalar_one_or_none()
    if verified or registration is None:
        _rehearse_verification(login, message=True)
        record_event("account.resend_code", None, subject_type="registration",
                     outcome=AuditOutcome.FAILURE, reason="no registration waiting")
        return
    _send_verification(registration, login)
    record_event("account.resend_code", None, subject_type="registration",
                 subject_id=registration.id)


def _bind(registration: Registration, contact: str) -> Account:
    """The verified contact joins the registration's account, made now if it has none."""
    kind = contact_kind(contact)
    account = db().get(Account, registration.account_id) if registration.account_id else None
    if account is None:
        account = Account(id=uuid.uuid4(), full_name=registration.full_name,
                          role=Role.RELATIVE, language=registration.language,
                          status=AccountStatus.ACTIVE,
                          password_hash=registration.password_hash)
        db().add(account)
        registration.account_id = account.id
    setattr(account, kind.value, contact)
    db().flush()
    kill_codes(CodePurpose.VERIFY, ContactCode.channel == kind,
               ContactCode.registration_id.in_(
                   select(Registration.id).where(_registration_column(kind) == contact)))
    return account


def _one_verification_at_a_time(contact: str) -> None:
    """Wait for the other verifications of this contact (PostgreSQL; SQLite runs writers one
    at a time): each holds its registrations, taken in one order, so the next one sees the
    account the first made instead of colliding with it on the contact's unique index."""
    db().execute(select(Registration.id)
                 .where(_registration_column(contact_kind(contact)) == contact)
                 .order_by(Registration.id).with_for_update(key_share=True))


def verify_account(*, login: str, code: str, registration: uuid.UUID | None = None) -> None:
    login = normalize_login(login)
    _one_verification_at_a_time(login)
    taken = db().execute(select(Account.id).where(
        account_column(contact_kind(login)) == login)).first() is not None
    candidates = [] if taken else _pending_codes(login, registration_id=registration)
    matched = match_code(candidates, code)
    if matched is None:
        if candidates:
            record_event("account.verify", None, subject_type="registration",
                         subject_id=candidates[-1].registration_id,
                         outcome=AuditOutcome.FAILURE, reason="wrong code")
            unit_of_work.keep_on_refusal()
        raise InvalidCode()
    account = _bind(db().get(Registration, matched.registration_id), login)
    record_event("account.verify", account, subject_type="account", subject_id=account.id)
