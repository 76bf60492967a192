"""Checkpoint shapes (API.md, "Checkpoints")."""
from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import EnumValue, In, Out, UtcDateTime
from storage.vocabulary import AuthorizationKind, VerificationResult


class TokenIn(In):
    # Any string is read (garbage answers "invalid"); only the type and a sane size are
    # enforced here.
    token = fields.String(required=True, validate=validate.Length(max=65536))

    EXAMPLE = {"token": "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYtMDMifQ.eyJqdGkiOiIxZTJkIn0.…"}  # nosec B105 (an example)


class HolderOut(Out):
    name = fields.String()
    name_latin = fields.String()
    birth_date = fields.String()
    document_number = fields.String(allow_none=True)


class PrisonerClaimOut(Out):
    name = fields.String()
    name_latin = fields.String()
    birth_date = fields.String()


class HandoverClaimOut(Out):
    location = fields.String()
    starts_at = fields.String()
    ends_at = fields.String()


class VerifiedOut(Out):
    """What the token carries, nothing more."""

    id = fields.String()
    kind = EnumValue(AuthorizationKind)
    holder = fields.Nested(HolderOut)
    prisoner = fields.Nested(PrisonerClaimOut)
    handover = fields.Nested(HandoverClaimOut)
    valid_from = UtcDateTime()
    valid_until = UtcDateTime()


class VerifyOut(Out):
    result = EnumValue(VerificationResult)
    authorization = fields.Nested(VerifiedOut, allow_none=True)

    EXAMPLE = {"result": "valid", "authorization": {
        "id": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b", "kind": "travel",
        "holder": {"name": "Иванова Мария Петровна", "name_latin": "IVANOVA MARIIA PETROVNA",
                   "birth_date": "1971-04-02", "document_number": "753123456"},
        "valid_from": "2027-04-20T00:00:00Z", "valid_until": "2027-05-02T00:00:00Z"}}


class RedeemOut(Out):
    result = fields.String(metadata={"enum": [VerificationResult.REDEEMED.value]})
    authorization_id = fields.UUID()
    redeemed_at = UtcDateTime()

    EXAMPLE = {"result": "redeemed", "authorization_id": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
               "redeemed_at": "2027-05-01T10:42:00Z"}
