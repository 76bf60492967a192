"""A relative erases her account: cases withdrawn, documents shredded, authorizations revoked,
contacts, name, password and sessions gone; the audit log keeps only ids."""
from __future__ import annotations

from sqlalchemy import delete, select

from auth import passwords
from services.accounts.sessions import revoke_sessions
from services.audit.events import record_event
from services.authorizations.operations import revoke_case_authorizations
from services.authorizations.sealing import shred_case_authorizations
from services.cases import states as case_states
from services.core import unit_of_work
from services.documents.shredding import shred_case_documents
from services.messages.outbox import notify
from storage.db import session as db
from storage.domain_errors import Forbidden, InvalidCredentials
from storage.models.accounts import Account, ContactCode, Registration
from storage.models.cases import Case
from storage.vocabulary import AccountStatus, AuditOutcome, CaseStatus

ERASED_NAME = "erased"


def erase_account(*, account: Account, password: str) -> None:
    if account.is_staff:
        raise Forbidden()
    if not passwords.verify_password(account.password_hash, password):
        record_event("account.erase", account, subject_type="account", subject_id=account.id,
                     outcome=AuditOutcome.FAILURE, reason="wrong password")
        unit_of_work.keep_on_refusal()
        raise InvalidCredentials()
    cases = db().execute(select(Case).where(Case.account_id == account.id)
                         .order_by(Case.created_at)).scalars().all()
    for case in cases:
        if CaseStatus.WITHDRAWN in case_states.TRANSITIONS[case.status]:
            case_states.transition(case, CaseStatus.WITHDRAWN)
        shred_case_documents(case, account)
        revoke_case_authorizations(case, account)
        shred_case_authorizations(case, account)
        record_event("case.withdraw", account, subject_type="case", subject_id=case.id,
                     reason="account erased")
    for contact in (account.email, account.phone):
        if contact:
            notify(contact, "account_erased", account.language)
    registrations = select(Registration.id).where(Registration.account_id == account.id)
    db().execute(delete(ContactCode).where(ContactCode.account_id == account.id))
    db().execute(delete(ContactCode).where(ContactCode.registration_id.in_(registrations)))
    db().execute(delete(Registration).where(Registration.account_id == account.id))
    revoke_sessions(account_id=account.id)
    account.email = account.phone = None
    account.full_name = ERASED_NAME
    account.password_hash = passwords.UNUSABLE_HASH
    account.status = AccountStatus.DISABLED
    record_event("account.erase", account, subject_type="account", subject_id=account.id)
