"""Whether two written names are the same person's: across scripts and romanisations, with
the small spelling differences and the change of surname by gender or marriage that kinship
documents carry.
"""
from __future__ import annotations

from typing import Any

from rapidfuzz.distance import Levenshtein

from services.registry.romanize import name_key
from services.registry.surname_forms import surname_stem

CLOSE_NAME = 0.8


def compare_names(declared: str | None, written: str | None) -> str:
    """`same`, `close` (a small spelling difference) or `different`, across scripts and
    romanisations (Мария, MARIIA and MARIYA are the same)."""
    a, b = name_key(declared or ""), name_key(written or "")
    if not a or not b:
        return "different"
    if a == b:
        return "same"
    if Levenshtein.normalized_similarity(a, b) >= CLOSE_NAME:
        return "close"
    return "different"


def compare_given_names(declared: str | None, written: str | None) -> str:
    """Given names: one of several written names (ANNA of ANNA MARIA) counts as the same."""
    verdict = compare_names(declared, written)
    if verdict != "same" and declared and written:
        words = name_key(written).split()
        if name_key(declared) in words or (words and name_key(declared) == words[0]):
            return "same"
    return verdict


def compare_surnames(declared: str | None, written: str | None, *, any_gender: bool) -> str:
    verdict = compare_names(declared, written)
    if verdict == "same" or not any_gender or not declared or not written:
        return verdict
    if surname_stem(name_key(declared)) == surname_stem(name_key(written)):
        return "same"
    return verdict


def person_in_text(text: str | None, person: dict[str, Any]) -> str:
    """Is ``person`` the one a free-text full name ("Иванова Мария Петровна") names?

    `same`; `surname_differs` (given name and patronymic agree, the surname does not — a
    change of name by marriage, say); or `different`."""
    words = name_key(text or "").split()
    if not words:
        return "different"
    stems = {surname_stem(w) for w in words}

    def present(name: str | None) -> bool:
        key = name_key(name or "").split()
        return bool(key) and all(
            any(Levenshtein.normalized_similarity(k, w) >= 0.85 for w in words) for k in key)

    if not present(person.get("given_name")):
        return "different"
    if person.get("patronymic") and len(words) >= 3 and not present(person.get("patronymic")):
        return "different"
    surname = name_key(person.get("surname") or "").split()
    if surname and all(surname_stem(s) in stems for s in surname):
        return "same"
    return "surname_differs"
