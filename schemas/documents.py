"""Document shapes (API.md, "Relatives: cases and documents")."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from schemas.base import EnumValue, In, Name, Out, Pattern, UtcDateTime
from storage.vocabulary import (
    IDENTITY_KINDS,
    ContentType,
    DocumentKind,
    DocumentStatus,
    Encryption,
)


class DocumentOut(Out):
    id = fields.UUID()
    case_id = fields.UUID()
    kind = EnumValue(DocumentKind)
    content_type = EnumValue(ContentType)
    size = fields.Integer()
    sha256 = fields.String()
    encryption = EnumValue(Encryption)
    status = EnumValue(DocumentStatus)
    created_at = UtcDateTime()
    uploaded_at = UtcDateTime(allow_none=True)

    EXAMPLE = {"id": "c2b7e0d4-1a3f-4b6e-9d8c-7f6e5d4c3b2a",
               "case_id": "5d1c3f9a-8b7e-4d2a-9c61-2e4f7a8b9c01", "kind": "passport",
               "content_type": "image/jpeg", "size": 183402,
               "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
               "encryption": "server", "status": "stored",
               "created_at": "2026-03-02T10:16:00Z", "uploaded_at": "2026-03-02T10:16:05Z"}


# --- adding a document (POST /v1/cases/{id}/documents) ----------------------------------

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
# Two or three lines of the MRZ alphabet (TD1 3 x 30, TD2 2 x 36, TD3 2 x 44).
_MRZ = re.compile(r"^[A-Za-z0-9< ]{20,50}(?:\r?\n[A-Za-z0-9< ]{20,50}){1,2}\s*$")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")
_DOCUMENT_NUMBER = re.compile(r"^[0-9A-Za-z\u0400-\u04FF][0-9A-Za-z\u0400-\u04FF -]{0,29}$")


class IdentityFieldsIn(In):
    document_number = fields.String(validate=Pattern(
        _DOCUMENT_NUMBER, error="Letters, digits, spaces and hyphens, up to 30."))
    surname = Name()
    given_name = Name()
    patronymic = Name()
    birth_date = fields.Date()
    expiry_date = fields.Date()
    nationality = fields.String(validate=Pattern(
        _ALPHA3, error="Give an ISO 3166 alpha-3 code, e.g. RUS."))


class BirthCertificateFieldsIn(In):
    child_surname = Name()
    child_given_name = Name()
    child_patronymic = Name()
    child_birth_date = fields.Date()
    mother_name = Name()
    father_name = Name()


class MarriageCertificateFieldsIn(In):
    spouse_surname = Name()
    spouse_given_name = Name()
    spouse_birth_date = fields.Date()
    marriage_date = fields.Date()


FIELDS_BY_KIND: dict[DocumentKind, type[In]] = {
    **dict.fromkeys(IDENTITY_KINDS, IdentityFieldsIn),
    DocumentKind.BIRTH_CERTIFICATE: BirthCertificateFieldsIn,
    DocumentKind.MARRIAGE_CERTIFICATE: MarriageCertificateFieldsIn,
}


class DocumentIn(In):
    kind = EnumValue(DocumentKind, required=True)
    content_type = EnumValue(ContentType, required=True)
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sha256 = fields.String(required=True, validate=Pattern(
        _SHA256, error="Give the SHA-256 of the file as 64 hex digits."))
    encryption = EnumValue(Encryption, load_default=Encryption.SERVER)
    mrz = fields.String(load_default=None, validate=Pattern(
        _MRZ, error="Give the 2 or 3 lines of the machine readable zone."))
    # Named apart from Schema.fields; the wire name is "fields".
    kind_fields = fields.Dict(load_default=None, keys=fields.String(), data_key="fields",
                              attribute="fields")

    @validates_schema(skip_on_field_errors=True)
    def _by_kind(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind = data["kind"]
        if data.get("mrz") is not None and kind not in IDENTITY_KINDS:
            raise ValidationError("Only identity documents have a machine readable zone.",
                                  "mrz")
        if data.get("fields") is not None and kind not in FIELDS_BY_KIND:
            raise ValidationError(f"A document of kind {kind} takes no fields.", "fields")

    @post_load
    def _load_fields(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("fields") is not None:
            try:
                loaded = FIELDS_BY_KIND[data["kind"]]().load(data["fields"])
            except ValidationError as exc:
                raise ValidationError({"fields": exc.messages}) from None
            data["fields"] = {k: v.isoformat() if isinstance(v, date) else v
                              for k, v in loaded.items() if v is not None}
        if data.get("mrz") is not None:
            data["mrz"] = "\n".join(line.strip().upper()
                                    for line in data["mrz"].strip().splitlines())
        return data

    EXAMPLE = {"kind": "passport", "content_type": "image/jpeg", "size": 183402,
               "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
               "encryption": "server"}


class UploadOut(Out):
    method = fields.String(metadata={"enum": ["PUT"]})
    url = fields.String()
    headers = fields.Dict(keys=fields.String(), values=fields.String())
    expires_at = UtcDateTime()
    tus_url = fields.String(metadata={"description": "tus 1.0.0 creation URL (resumable)"})


class DocumentCreatedOut(DocumentOut):
    upload = fields.Nested(UploadOut)

    EXAMPLE = {**DocumentOut.EXAMPLE, "status": "pending_upload", "uploaded_at": None,
               "upload": {"method": "PUT",
                          "url": "https://kinpass.example/v1/documents/"
                                 "c2b7e0d4-1a3f-4b6e-9d8c-7f6e5d4c3b2a/content",
                          "headers": {"Content-Type": "image/jpeg"},
                          "expires_at": "2026-03-03T10:16:00Z"}}


# --- server keys for client-side encryption ---------------------------------------------

class EncryptionKeyOut(Out):
    kid = fields.String()
    suite = fields.String()
    public_key = fields.String(metadata={"description": "base64url, no padding"})


class EncryptionKeysOut(Out):
    keys = fields.List(fields.Nested(EncryptionKeyOut))
