"""Every problem code the service can answer is worded in every language it writes in."""
from __future__ import annotations

import inspect

import pytest

from api.errors import HTTP_CODES
from api.problem_texts import TEXTS, texts
from storage import domain_errors
from storage.vocabulary import Language

ERRORS = [cls for _, cls in inspect.getmembers(domain_errors, inspect.isclass)
          if issubclass(cls, domain_errors.KinPassError)]
CODES = {cls.code for cls in ERRORS} | set(HTTP_CODES.values()) | {"internal_error"}


def test_the_domain_errors_are_found():
    assert len(ERRORS) > 30 and domain_errors.NotFound in ERRORS


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_title_and_detail_in_every_language(code):
    assert code in TEXTS, f"{code} has no texts in api/problem_texts.py"
    assert set(TEXTS[code]) == set(Language), code
    for language, (title, detail) in TEXTS[code].items():
        assert title.strip() and detail.strip(), (code, language)


def test_no_text_is_kept_for_a_code_nothing_answers():
    assert set(TEXTS) == CODES


def test_each_language_reads_its_own_text():
    titles = {texts("not_found", language).title for language in Language}
    assert titles == {"Not found", "Не найдено", "Не знайдено"}


def test_an_unknown_language_or_code_falls_back():
    assert texts("not_found", "de") == texts("not_found", Language.EN)
    assert texts("no_such_code", "ru") == texts("internal_error", Language.RU)
