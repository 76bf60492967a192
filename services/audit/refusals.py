"""Refused requests in the audit log: each one a signed-in caller earns, and anonymous ones
counted per source instead of written one by one (a flood of them would be a flood of
chained writes).

From one address in one minute, the first anonymous refusal is written as it happens, and
then the 10th, the 100th, the 1,000th and so on, each saying how many there have been: the
evidence stays and its cost grows with the logarithm of the flood.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from services.audit.events import record_event, request_context
from services.core import runtime
from storage.vocabulary import AuditOutcome

ANONYMOUS_WINDOW = 60  # seconds
_MILESTONES = frozenset(10 ** n for n in range(1, 19))


def _source_key(ip: str | None) -> str:
    digest = hmac.new(runtime.get().pepper, (ip or "-").encode(), hashlib.sha256).hexdigest()
    return f"refused-anonymous:{digest[:40]}"


def record_refusal(actor: Any, *, endpoint: str, status: int, code: str, method: str) -> None:
    """Queue the audit event of a 401 or 403 answer (``actor`` None: nobody signed in)."""
    reason = f"{status} {code} {method}"
    if actor is None:
        count = runtime.get().limiter.hit(_source_key(request_context().ip), ANONYMOUS_WINDOW)
        if count != 1 and count not in _MILESTONES:
            return
        if count > 1:
            reason += f" ({count:,} anonymous refusals from this address this minute)"
    record_event("access.denied", actor, subject_type="endpoint", subject_id=endpoint,
                 outcome=AuditOutcome.DENIED, reason=reason)
