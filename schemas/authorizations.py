"""Authorization shapes (API.md, "Handovers and authorizations", "Authorization tokens")."""
from __future__ import annotations

from marshmallow import ValidationError, fields, post_dump, validates_schema

from schemas.base import EnumValue, In, Name, Out, Reason, UtcDateTime
from schemas.handovers import HandoverOut
from storage.vocabulary import AuthorizationKind, AuthorizationStatus

TRAVEL, PICKUP = AuthorizationKind.TRAVEL, AuthorizationKind.PICKUP
_FIELDS_BY_KIND = {TRAVEL: {"valid_from", "valid_until", "entry_point"},
                   PICKUP: {"handover_id"}}
_REQUIRED_BY_KIND = {TRAVEL: ("valid_from", "valid_until"), PICKUP: ("handover_id",)}


class AuthorizationIn(In):
    """`{"kind": "travel", "valid_from", "valid_until", "entry_point"?}` or
    `{"kind": "pickup", "handover_id"}`."""

    kind = EnumValue(AuthorizationKind, required=True)
    valid_from = UtcDateTime()
    valid_until = UtcDateTime()
    entry_point = Name(allow_none=True)
    handover_id = fields.UUID()

    EXAMPLES = {
        "travel": {"kind": "travel", "valid_from": "2027-04-20T00:00:00Z",
                   "valid_until": "2027-05-02T00:00:00Z", "entry_point": "Sumy"},
        "pickup": {"kind": "pickup", "handover_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
    }

    @validates_schema
    def _fields_of_kind(self, data: dict, **_: object) -> None:
        kind = data.get("kind")
        if kind not in _FIELDS_BY_KIND:
            return
        errors: dict[str, list[str]] = {}
        for name in _REQUIRED_BY_KIND[kind]:
            if name not in data:
                errors[name] = ["Missing data for required field."]
        for name in set(data) - _FIELDS_BY_KIND[kind] - {"kind"}:
            errors[name] = [f"Not a field of a {kind} authorization."]
        if errors:
            raise ValidationError(errors)


class RevokeIn(In):
    reason = Reason(required=True)

    @validates_schema
    def _not_blank(self, data: dict, **_: object) -> None:
        if "reason" in data and not data["reason"].strip():
            raise ValidationError("Give a reason.", "reason")

    EXAMPLE = {"reason": "The relative reported the phone lost; a new one is issued."}


class AuthorizationOut(Out):
    """Authorization: `entry_point` on travel, `handover` on pickup; `expired` is an active
    authorization past its `valid_until`."""

    id = fields.UUID()
    case_id = fields.UUID()
    kind = EnumValue(AuthorizationKind)
    status = EnumValue(AuthorizationStatus, attribute="current_status")
    valid_from = UtcDateTime()
    valid_until = UtcDateTime()
    token = fields.String(allow_none=True, metadata={
        "description": "A compact JWS; null once the case's documents are shredded."})
    issued_at = UtcDateTime()
    entry_point = fields.String(allow_none=True)
    handover = fields.Nested(HandoverOut, allow_none=True)

    EXAMPLE = {"id": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
               "case_id": "5d1c3f9a-8b7e-4d2a-9c61-2e4f7a8b9c01", "kind": "travel",
               "status": "active", "valid_from": "2027-04-20T00:00:00Z",
               "valid_until": "2027-05-02T00:00:00Z",
               "token": "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYtMDMifQ.…",  # nosec B105 (an example)
               "issued_at": "2027-04-18T12:00:00Z", "entry_point": "Sumy"}

    @post_dump
    def _fields_of_kind(self, data: dict, **_: object) -> dict:
        data.pop("handover" if data.get("kind") == TRAVEL else "entry_point", None)
        return data


class JwkOut(Out):
    kty = fields.String()
    crv = fields.String()
    x = fields.String()
    kid = fields.String()
    alg = fields.String()
    use = fields.String()


class JwksOut(Out):
    keys = fields.List(fields.Nested(JwkOut))


class RevokedOut(Out):
    id = fields.String()
    revoked_at = fields.String()


class RevocationListOut(Out):
    issued_at = fields.String()
    revoked = fields.List(fields.Nested(RevokedOut))
    jws = fields.String()
