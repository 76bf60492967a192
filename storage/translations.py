"""The one shape of a table of translated texts: key → {language: text}, every language given.

The problem texts (api.problem_texts), the messages to relatives (services.messages.outbox)
and the names they use are all tables of this shape, read through :func:`translate`.
"""
from __future__ import annotations

from typing import TypeVar

from storage.vocabulary import DEFAULT_LANGUAGE, Language

T = TypeVar("T")
Translations = dict[str, dict[Language, T]]


def pick_language(language: str | None) -> Language:
    """The language asked for if the service writes in it, else the default (English)."""
    try:
        return Language(language)
    except ValueError:
        return DEFAULT_LANGUAGE


def translate(table: Translations[T], key: str, language: str | None) -> T:
    return table[key][pick_language(language)]
