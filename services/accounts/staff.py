"""Staff accounts: creation (password and TOTP shown once), the list, disabling, and
re-wrapping TOTP secrets after a KEK rotation."""
from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import select

from auth import passwords, totp
from services.accounts.registration import check_password_policy
from services.accounts.sessions import revoke_sessions, totp_context
from services.audit.events import record_event
from services.core import runtime
from storage.db import session as db
from storage.domain_errors import Conflict, NotFound, ValidationFailed
from storage.keys import wrapped_kid
from storage.models.accounts import Account
from storage.paging import Page, paginate
from storage.vocabulary import DEFAULT_LANGUAGE, STAFF_ROLES, AccountStatus, Role


def create_staff(*, email: str, full_name: str | None, role: str, actor: Any,
                 password: str | None = None) -> dict[str, Any]:
    if role not in STAFF_ROLES:
        raise ValidationFailed(errors={"role": [f"Must be one of: {', '.join(STAFF_ROLES)}."]})
    email = email.strip().lower()
    if password is None:
        password = secrets.token_urlsafe(18)
    check_password_policy(password)
    if db().execute(select(Account.id).where(Account.email == email)).first():
        raise Conflict()
    secret = totp.new_secret()
    account = Account(id=uuid.uuid4(), email=email, full_name=full_name or email, role=role,
                      language=DEFAULT_LANGUAGE, status=AccountStatus.ACTIVE,
                      password_hash=passwords.hash_password(password))
    account.totp_secret_wrapped = runtime.get().keys.wrap(secret.encode(),
                                                          totp_context(account.id))
    db().add(account)
    db().flush()
    record_event("staff.create", actor, subject_type="account", subject_id=account.id,
                 reason=f"role {role}")
    return {"id": account.id, "email": email, "role": role, "password": password,
            "totp_secret": secret, "totp_uri": totp.provisioning_uri(secret, email)}


def list_staff(*, cursor: str | None, limit: int) -> Page[Account]:
    """Staff accounts, oldest first."""
    return paginate(select(Account).where(Account.role != Role.RELATIVE),
                    [Account.created_at, Account.id], cursor, limit)


def staff_names(account_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The full names of the staff accounts among `account_ids` (one query)."""
    if not account_ids:
        return {}
    rows = db().execute(select(Account.id, Account.full_name).where(
        Account.id.in_(account_ids), Account.role != Role.RELATIVE))
    return {account_id: name for account_id, name in rows}


def disable_staff(*, account_id: uuid.UUID, actor: Any) -> Account:
    account = db().get(Account, account_id)
    if account is None or not account.is_staff:
        raise NotFound()
    account.status = AccountStatus.DISABLED
    revoke_sessions(account_id=account.id)
    record_event("staff.disable", actor, subject_type="account", subject_id=account.id)
    return account


def rewrap_totp_secrets() -> int:
    """Re-wrap every staff TOTP secret under the KEK that is active now (after a KEK
    rotation)."""
    keys = runtime.get().keys
    rows = [account for account in db().execute(
        select(Account).where(Account.totp_secret_wrapped.is_not(None))).scalars()
        if wrapped_kid(account.totp_secret_wrapped) != keys.active_kid]
    for account in rows:
        account.totp_secret_wrapped = keys.rewrap(account.totp_secret_wrapped,
                                                  totp_context(account.id))
    db().flush()
    return len(rows)
