"""What officers see of the messages sent about a case: delivery state, never the text."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from storage.db import session as db
from storage.models.messages import OutboxMessage

FIELDS = ("id", "channel", "template", "status", "attempts", "created_at", "sent_at",
          "last_error")


def case_messages(case_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = db().execute(select(*(getattr(OutboxMessage, name) for name in FIELDS))
                        .where(OutboxMessage.case_id == case_id)
                        .order_by(OutboxMessage.created_at, OutboxMessage.id))
    return [dict(row._mapping) for row in rows]
