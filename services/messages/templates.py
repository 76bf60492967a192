"""The texts sent to relatives, read from one TOML file per language in templates/ (a
translator edits those, not Python): a subject and a text per template, and the one text a
push notification carries. The HTML part of an email is the text, escaped, in layout.html."""
from __future__ import annotations

import html
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.translations import Translations, pick_language, translate
from storage.vocabulary import Language

DIRECTORY = Path(__file__).with_name("templates")


def _load() -> dict[Language, dict[str, Any]]:
    return {language: tomllib.loads((DIRECTORY / f"{language}.toml").read_text("utf-8"))
            for language in Language}


_FILES = _load()
_NAMES = [name for name, value in _FILES[Language.EN].items() if isinstance(value, dict)]
TEMPLATES: Translations[str] = {
    name: {language: _FILES[language][name]["text"] for language in Language}
    for name in _NAMES}
SUBJECTS: Translations[str] = {
    name: {language: _FILES[language][name]["subject"] for language in Language}
    for name in _NAMES}
PUSH_TEXT: dict[Language, str] = {language: _FILES[language]["push"] for language in Language}
LAYOUT = string.Template((DIRECTORY / "layout.html").read_text("utf-8"))


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str


def render(template: str, language: str | None, params: dict[str, Any]) -> Rendered:
    lang = pick_language(language)
    return Rendered(subject=translate(SUBJECTS, template, lang).format(**params),
                    text=translate(TEMPLATES, template, lang).format(**params))


def html_part(subject: str, text: str, language: str) -> str:
    paragraphs = "\n".join(f'<p style="font-size:15px;line-height:1.5">{html.escape(part)}</p>'
                           for part in text.split("\n\n") if part.strip())
    return LAYOUT.substitute(language=html.escape(language), subject=html.escape(subject),
                             body=paragraphs)
