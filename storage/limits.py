"""Lengths of the columns that take input: the schemas refuse longer values before the
database would."""
from __future__ import annotations

NAME_MAX = 100  # a name, a place, a unit, a rank: the registry's text columns
REGISTRY_NUMBER_MAX = 64
REASON_MAX = 2000  # audit_events.reason
