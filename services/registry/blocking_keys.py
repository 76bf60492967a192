"""Blocking keys: how a registry record is indexed and a claim looked up.

Version :data:`BLOCKING_KEY_VERSION`: re-index every record when it changes.
``S`` is the gender-neutral surname stem key (each part of a compound surname too), ``S-1``
each spelling of ``S`` with one letter deleted (two strings within one edit share a deletion;
the deletions of the unstemmed key are stemmed too, for typos in a gendered ending), ``G`` the
given-name key, ``G2`` its first two letters, ``C`` the consonant skeleton of ``S``, and a birth
date is indexed both as written and with day and month swapped (so the same function serves
the index and the query side):

=========================  ======================================  ===========================
key                        finds the record when                   rows, 100k prisoners (est.)
=========================  ======================================  ===========================
``d:YYYYMMDD``             date right or day/month swapped         ~14 (2 × 100k / 14.6k days)
``sg:{S or S-1}:{G2}``     surname within one edit, any date       ≤ ~300 (ИВАНОВ + АЛ…)
``sy:{S or S-1}:{YYYY}``   surname within one edit, year right     ≤ ~50 (ИВАНОВ 1990)
``ck:{C}:{G2}``            vowel misspellings (КАЛЕСНИКОВ)         ≤ ~300 (ИВАНОВ + АЛ…)
``gm:{G}:{YYYYMM}``        surname mangled, name + month right     ≤ ~50 (АЛЕКСАНДР 1990-05)
=========================  ======================================  ===========================

Estimates assume 40 birth years and real frequencies (Иванов ≈ 1.3 % of men, given names
starting АЛ ≈ 18 %, Александр ≈ 12 %); the worst case is the commonest surname with the
commonest name, ~350 rows at 100k, while a median claim retrieves a few dozen. Measured on the
5,000-record test registry, where Иванов is 13.6 % of records (ten times reality): median 9,
95th percentile ~80, maximum ~170 candidates per query, ~19 keys per record. A claim with only
a surname and a given name uses only the ``sg``/``ck`` keys, so even the commonest surname is
cut by its first two given-name letters and never returns the whole surname.
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from services.registry.romanize import name_key, normalise_key
from services.registry.surname_forms import surname_stem

BLOCKING_KEY_VERSION = 1

_MIN_DELETION_LENGTH = 2
_DOUBLE_RE = re.compile(r"(.)\1+")
# The skeleton merges consonants that are misheard or misspelt for one another.
_SKELETON_MERGE = str.maketrans({"w": "s", "z": "Z", "q": "c"})


def compact(key: str) -> str:
    """A name key without its spaces (compound names as one word)."""
    return key.replace(" ", "")


def _surname_keys(surname: str) -> set[str]:
    """The compact surname key and, for a compound surname, each of its parts."""
    key = name_key(surname)
    keys = {compact(key), *key.split(" ")}
    return {k for k in keys if k}


def _deletions(s: str) -> set[str]:
    """``s`` and its one-letter deletions, re-normalised as a name key is (so НИКИИН, key NIKIN,
    meets НИКИТИН through NIKI(T)IN → NIKIN, and ЗАЙЕВ meets ЗАЙЦЕВ through ZAI(c)EV → ZAEV)."""
    if len(s) < _MIN_DELETION_LENGTH:
        return {s}
    return {s} | {normalise_key(s[:i] + s[i + 1:]) for i in range(len(s))}


@lru_cache(maxsize=65536)
def _surname_variants(key: str) -> frozenset[str]:
    """Deletions of the stem, and stems of the deletions: a typo in a gendered ending
    (ЧАЙКОВСКИФ) stems differently from the right spelling, so both orders are needed.
    Cached: a registry import repeats the same surnames thousands of times."""
    return frozenset(_deletions(surname_stem(key)) | {surname_stem(d) for d in _deletions(key)})


def _skeleton(stem: str) -> str:
    consonants = "".join(ch for ch in stem.translate(_SKELETON_MERGE) if ch not in "AEIOU")
    return _DOUBLE_RE.sub(r"\1", consonants)


def _date_forms(birth_date: date) -> set[date]:
    """The date, and the date with day and month swapped when that is a different date (the
    old month, at most 12, is always a valid day)."""
    forms = {birth_date}
    if birth_date.day <= 12 and birth_date.day != birth_date.month:
        forms.add(birth_date.replace(month=birth_date.day, day=birth_date.month))
    return forms


@lru_cache(maxsize=65536)
def _surname_blocks(surname: str) -> tuple[tuple[frozenset[str], str], ...]:
    """For each key of a surname: its spellings within one edit and its consonant skeleton.
    Cached like the variants: the same surnames come back thousands of times in an import."""
    return tuple((_surname_variants(key), _skeleton(surname_stem(key)))
                 for key in _surname_keys(surname))


def blocking_keys(surname: str, given_name: str, birth_date: date | None) -> set[str]:
    """Blocking keys of a person; identical on the index and the query side (see module doc)."""
    given = compact(name_key(given_name).split(" ")[0]) if given_name else ""
    g2 = given[:2]
    year = f"{birth_date.year:04d}" if birth_date is not None else ""
    keys: set[str] = set()
    for variants, skeleton in _surname_blocks(surname):
        if g2:
            keys.update([f"sg:{variant}:{g2}" for variant in variants])
            if skeleton:
                keys.add(f"ck:{skeleton}:{g2}")
        if year:
            keys.update([f"sy:{variant}:{year}" for variant in variants])
    if birth_date is not None:
        for form in _date_forms(birth_date):
            month = f"{form.year:04d}{form.month:02d}"  # what %Y%m gives, without strftime
            keys.add(f"d:{month}{form.day:02d}")
            if given:
                keys.add(f"gm:{given}:{month}")
    return keys
