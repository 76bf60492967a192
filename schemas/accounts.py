from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import EnumValue, In, Name, Out, UtcDateTime, validate_phone
from storage.vocabulary import STAFF_ROLES, Language


class RegisterIn(In):
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, validate=validate_phone)
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    language = EnumValue(Language, load_default=None)

    @validates_schema
    def _contact(self, data: dict, **_: object) -> None:
        if not data.get("email") and not data.get("phone"):
            raise ValidationError("Give an email or a phone number.", "email")


class VerifyIn(In):
    login = fields.String(required=True, validate=validate.Length(min=1, max=254))
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    registration = fields.UUID(load_default=None)


class ResendIn(In):
    login = fields.String(required=True, validate=validate.Length(min=1, max=254))


class LoginIn(In):
    login = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    otp = fields.String(load_default=None, validate=validate.Length(max=16))


class UnlockIn(LoginIn):
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))


class ResetIn(In):
    login = fields.String(required=True, validate=validate.Length(min=1, max=254))
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    otp = fields.String(load_default=None, validate=validate.Length(max=16))


class PasswordChangeIn(In):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class PasswordIn(In):
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class SessionOut(Out):
    id = fields.UUID()
    created_at = UtcDateTime()
    last_used_at = UtcDateTime(allow_none=True)
    current = fields.Boolean()


class SessionsOut(Out):
    items = fields.List(fields.Nested(SessionOut))


class StatusOut(Out):
    status = fields.String()


class RegisteredOut(Out):
    status = fields.String()
    registration = fields.UUID()


class TokenPairOut(Out):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class MeOut(Out):
    id = fields.UUID()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    full_name = fields.String()
    roles = fields.Function(lambda a: [a.role])
    language = fields.String()
    status = fields.String()
    created_at = UtcDateTime()


class StaffIn(In):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    full_name = Name(load_default=None)
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))


class StaffCreatedOut(Out):
    id = fields.UUID()
    email = fields.String()
    role = fields.String()
    password = fields.String(allow_none=True)
    totp_secret = fields.String(allow_none=True)
    totp_uri = fields.String(allow_none=True)


class StaffOut(Out):
    id = fields.UUID()
    email = fields.String()
    full_name = fields.String()
    role = fields.String()
    status = fields.String()
    created_at = UtcDateTime()
