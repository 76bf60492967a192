"""Checkpoint shapes (API.md, "Checkpoints")."""
from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import EnumValue, In, Out, UtcDateTime
from storage.vocabulary import VerificationResult


class TokenIn(In):
    # Any string is read (garbage answers "invalid"); only the type and a sane size are
    # enforced here.
    token = fields.String(required=True, validate=validate.Length(max=65536))


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
    kind = fields.String()
    holder = fields.Nested(HolderOut)
    prisoner = fields.Nested(PrisonerClaimOut)
    handover = fields.Nested(HandoverClaimOut)
    valid_from = UtcDateTime()
    valid_until = UtcDateTime()


class VerifyOut(Out):
    result = EnumValue(VerificationResult)
    authorization = fields.Nested(VerifiedOut, allow_none=True)


class RedeemOut(Out):
    result = fields.String(metadata={"enum": [VerificationResult.REDEEMED.value]})
    authorization_id = fields.UUID()
    redeemed_at = UtcDateTime()
