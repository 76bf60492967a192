"""What `kinpass gc` deletes of accounts' leftovers: dead codes, old registrations and
sessions past their refresh lifetime."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_

from storage.db import session as db
from storage.models.accounts import AuthSession, ContactCode, Registration

# A registration outlives its codes (15 minutes) by this much, so `resend` finds it.
REGISTRATION_KEPT = timedelta(days=1)


def purge_dead_codes(now: datetime) -> int:
    return db().execute(delete(ContactCode).where(
        or_(ContactCode.expires_at < now, ContactCode.used_at.is_not(None)))).rowcount or 0


def purge_old_registrations(now: datetime) -> int:
    """A registration keeps a password hash and contacts; once old, its job is done."""
    old = Registration.created_at < now - REGISTRATION_KEPT
    db().execute(delete(ContactCode).where(ContactCode.registration_id.in_(
        Registration.__table__.select().with_only_columns(Registration.id).where(old))))
    return db().execute(delete(Registration).where(old)).rowcount or 0


def purge_dead_sessions(now: datetime) -> int:
    """Sessions whose refresh tokens have expired: nothing can present them any more."""
    return db().execute(delete(AuthSession).where(AuthSession.expires_at < now)).rowcount or 0
