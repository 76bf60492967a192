"""The console's languages: Ukrainian unless the browser asks for English; texts from the
catalogues in api/web/translations; times shown on Kyiv's clock."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_babel import Babel, format_date, format_datetime, get_locale

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("uk", "en")
DEFAULT = "uk"
TIMEZONE = "Europe/Kyiv"

babel = Babel()


def console_locale() -> str:
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def shown_when(value: datetime | None) -> str:
    """A moment as people read it: local time, the month in words."""
    return format_datetime(value, "medium") if value else "—"


def shown_date(value: date | str | None) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return format_date(value, "long")


def _globals() -> dict[str, Any]:
    return {"lang": str(get_locale() or DEFAULT)}


def init_i18n(app: Flask) -> None:
    babel.init_app(app, default_locale=DEFAULT, default_timezone=TIMEZONE,
                   default_translation_directories=str(TRANSLATIONS),
                   locale_selector=console_locale)
    app.jinja_env.filters["when"] = shown_when
    app.jinja_env.filters["day"] = shown_date
    app.context_processor(_globals)
