"""Handover appointment shapes (API.md, "Handovers and authorizations")."""
from __future__ import annotations

from marshmallow import fields

from schemas.base import In, Name, Out, UtcDateTime


class HandoverIn(In):
    location = Name(required=True)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)

    EXAMPLE = {"location": "Checkpoint Sumy-North", "starts_at": "2027-05-01T09:00:00Z",
               "ends_at": "2027-05-01T17:00:00Z"}


class HandoverOut(Out):
    id = fields.UUID()
    location = fields.String()
    starts_at = UtcDateTime()
    ends_at = UtcDateTime()
