"""Console forms read through the API's own request schemas, so a form obeys exactly the
rules the JSON body does; times typed on Kyiv's clock."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError

from api.web.i18n import TIMEZONE
from schemas.base import In
from storage.domain_errors import ValidationFailed

KYIV = ZoneInfo(TIMEZONE)


def load_form(schema: type[In], data: dict[str, Any], *,
              blank_is_null: bool = False) -> dict[str, Any]:
    """The form's fields as the schema loads them (empty fields left out, or given as null
    with ``blank_is_null``: a change that clears a field), or 400 validation_error with the
    schema's messages."""
    if blank_is_null:
        given = {name: None if value in ("", None) else value for name, value in data.items()}
    else:
        given = {name: value for name, value in data.items() if value not in ("", None, [])}
    try:
        return schema().load(given)
    except ValidationError as error:
        messages = error.normalized_messages()
        raise ValidationFailed(errors=messages if isinstance(messages, dict)
                               else {"_schema": messages}) from None


def local_time(value: str | None) -> str | None:
    """A `datetime-local` input (Kyiv time) as RFC 3339 UTC, for the schema to check."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the schema says what is wrong with it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=KYIV)
    return moment.isoformat()
