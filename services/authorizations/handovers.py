"""Handover appointments: where and when a prisoner is handed over."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from services.audit.events import record_event
from storage.db import session as db, utcnow
from storage.domain_errors import ValidationFailed
from storage.models.accounts import Account
from storage.models.authorizations import Handover
from storage.paging import Page, paginate


def check_window(start: datetime, end: datetime, start_field: str, end_field: str,
                 now: datetime) -> None:
    """A window must end after it starts; it may already have begun, but not have ended."""
    if end <= start:
        raise ValidationFailed(errors={end_field: [f"Must be later than {start_field}."]})
    if end <= now:
        raise ValidationFailed(errors={end_field: ["Must not have passed already."]})


def create_handover(*, location: str, starts_at: datetime, ends_at: datetime,
                    actor: Account) -> Handover:
    check_window(starts_at, ends_at, "starts_at", "ends_at", utcnow())
    handover = Handover(location=location, starts_at=starts_at, ends_at=ends_at,
                        created_by=actor.id)
    db().add(handover)
    db().flush()
    record_event("handover.create", actor, subject_type="handover", subject_id=handover.id)
    return handover


def list_handovers(*, cursor: str | None, limit: int) -> Page[Handover]:
    """Handover appointments, earliest first."""
    return paginate(select(Handover), [Handover.starts_at, Handover.id], cursor, limit)
