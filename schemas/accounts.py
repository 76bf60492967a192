from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import EnumValue, In, Name, Out, UtcDateTime, printable_text, validate_phone
from storage.vocabulary import STAFF_ROLES, AccountStatus, Language, Role


class RegisterIn(In):
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, validate=validate_phone)
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    full_name = fields.String(required=True,
                              validate=[validate.Length(min=1, max=200), printable_text])
    language = EnumValue(Language, load_default=None)

    @validates_schema
    def _contact(self, data: dict, **_: object) -> None:
        if not data.get("email") and not data.get("phone"):
            raise ValidationError("Give an email or a phone number.", "email")

    EXAMPLE = {"email": "maria@example.org", "password": "Kyiv-Reunion-2026",  # nosec B105 (an example)
               "full_name": "Мария Иванова", "language": "ru"}


class VerifyIn(In):
    login = fields.String(required=True, validate=validate.Length(min=1, max=254))
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    registration = fields.UUID(load_default=None)

    EXAMPLE = {"login": "maria@example.org", "code": "123456"}


class ResendIn(In):
    login = fields.String(required=True, validate=validate.Length(min=1, max=254))

    EXAMPLE = {"login": "maria@example.org"}


class LoginIn(In):
    login = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    otp = fields.String(load_default=None, validate=validate.Length(max=16))

    EXAMPLE = {"login": "maria@example.org", "password": "Kyiv-Reunion-2026"}  # nosec B105 (an example)


class UnlockIn(LoginIn):
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))

    EXAMPLE = {"login": "maria@example.org", "password": "Kyiv-Reunion-2026",  # nosec B105 (an example)
               "code": "482913"}


class ResetIn(In):
    login = fields.String(required=True, validate=validate.Length(min=1, max=254))
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    otp = fields.String(load_default=None, validate=validate.Length(max=16))

    EXAMPLE = {"login": "maria@example.org", "code": "482913",
               "password": "Kyiv-Reunion-2027"}  # nosec B105 (an example)


class PasswordChangeIn(In):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))

    EXAMPLE = {"current_password": "Kyiv-Reunion-2026",  # nosec B105 (an example)
               "new_password": "Kyiv-Reunion-2027"}


class PasswordIn(In):
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))

    EXAMPLE = {"password": "Kyiv-Reunion-2026"}  # nosec B105 (an example)


class SessionOut(Out):
    id = fields.UUID()
    created_at = UtcDateTime()
    last_used_at = UtcDateTime(allow_none=True)
    current = fields.Boolean()


class SessionsOut(Out):
    items = fields.List(fields.Nested(SessionOut))


class StatusOut(Out):
    status = fields.String(required=True, metadata={
        "enum": ["verification_sent", "active", "reset_sent", "password_reset"]})


class RegisteredOut(Out):
    status = fields.String(required=True, metadata={"enum": ["verification_sent"]})
    registration = fields.UUID(required=True)

    EXAMPLE = {"status": "verification_sent",
               "registration": "5b2f7c1e-8d3a-4f6b-9e21-7c4d8a1b3f60"}


class TokenPairOut(Out):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()

    EXAMPLE = {"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.…",  # nosec B105 (an example)
               "refresh_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.…",  # nosec B105 (an example)
               "token_type": "Bearer", "expires_in": 900}  # nosec B105 (an example)


class MeOut(Out):
    id = fields.UUID()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    full_name = fields.String()
    roles = fields.Function(lambda a: [a.role], metadata={
        "type": "array", "items": {"type": "string", "enum": [r.value for r in Role]}})
    language = EnumValue(Language)
    status = EnumValue(AccountStatus)
    created_at = UtcDateTime()

    EXAMPLE = {"id": "0b6f2d8e-2f4c-4a53-9a53-6f3a4c1d2e10", "email": "maria@example.org",
               "phone": None, "full_name": "Мария Иванова", "roles": ["relative"],
               "language": "ru", "status": "active", "created_at": "2026-03-02T10:15:00Z"}


class StaffIn(In):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    full_name = Name(load_default=None)
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))

    EXAMPLE = {"email": "officer@example.gov.ua", "full_name": "Olena Kovalenko",
               "role": "officer"}


class StaffCreatedOut(Out):
    id = fields.UUID()
    email = fields.String()
    role = EnumValue(Role)
    password = fields.String(allow_none=True)
    totp_secret = fields.String(allow_none=True)
    totp_uri = fields.String(allow_none=True)


class StaffOut(Out):
    id = fields.UUID()
    email = fields.String()
    full_name = fields.String(allow_none=True)
    role = EnumValue(Role)
    status = EnumValue(AccountStatus)
    created_at = UtcDateTime()
