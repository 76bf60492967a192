"""The messages to relatives and the names in them exist in every language, alike."""
from __future__ import annotations

import string

import pytest

from services.cases.notifications import DOCUMENT_NAMES, SENTENCES
from services.messages.outbox import TEMPLATES
from storage.translations import pick_language, translate
from storage.vocabulary import DocumentKind, Language


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("table", [TEMPLATES, SENTENCES, DOCUMENT_NAMES],
                         ids=["templates", "sentences", "document_names"])
def test_every_text_is_in_every_language_with_the_same_placeholders(table):
    for key, texts in table.items():
        assert set(texts) == set(Language), key
        assert all(text.strip() for text in texts.values()), key
        assert len({frozenset(_placeholders(text)) for text in texts.values()}) == 1, key


def test_every_document_kind_has_a_name():
    assert set(DOCUMENT_NAMES) == set(DocumentKind)


def test_a_language_the_service_does_not_write_falls_back_to_english():
    assert pick_language("de") is Language.EN and pick_language(None) is Language.EN
    assert pick_language("uk") is Language.UK
    assert translate(TEMPLATES, "case_approved", "de") == TEMPLATES["case_approved"][Language.EN]
