"""Document numbers: read from the MRZ or the typed fields, kept only as a keyed hash."""
from __future__ import annotations

from typing import Any

from services.audit.events import searchable_hash
from services.documents.mrz import MrzError, parse_mrz


def document_number_hmac(number: str) -> str:
    """Keyed hash of a document number: duplicates are found without keeping the number,
    and it is the very value audit events about the document carry."""
    return searchable_hash(number)


def document_number(mrz: str | None, fields: dict[str, Any] | None) -> str | None:
    """The document's number: from its MRZ, else from its typed fields."""
    if mrz:
        try:
            number = parse_mrz(mrz).document_number
        except (MrzError, ValueError, KeyError, IndexError):
            number = ""
        if number:
            return number
    number = (fields or {}).get("document_number")
    return str(number) if number else None
