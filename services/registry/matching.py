"""Matching a relative's claim against the prisoner registry: blocking keys and scoring.

Retrieval is by blocking keys (short strings stored per record in an indexed table and looked
up with ``WHERE key IN (...)``), then :func:`rank` scores the few candidates. Everything works
on :func:`services.registry.romanize.name_key`, so Cyrillic, every romanisation scheme and
the feminine form of a surname meet.

How the keys are made, and what each finds: :mod:`services.registry.blocking_keys`.
"""
from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from services.registry.blocking_keys import blocking_keys, compact
from services.registry.romanize import name_key
from services.registry.surname_forms import surname_stem

__all__ = [
    "MatchQuery",
    "MatchResult",
    "PersonRecord",
    "index_keys",
    "query_keys",
    "rank",
    "score_candidate",
]


@dataclass(frozen=True, slots=True)
class MatchQuery:
    """What a claim says about the soldier; names in any script or romanisation."""

    surname: str
    given_name: str
    patronymic: str | None = None
    birth_date: date | None = None
    birth_place: str | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A registry entry; ``ref`` is the caller's identifier (a prisoner id), passed through."""

    surname: str
    given_name: str
    patronymic: str | None = None
    birth_date: date | None = None
    birth_place: str | None = None
    unit: str | None = None
    ref: Hashable = None


@dataclass(slots=True)
class MatchResult:
    """``score`` in 0..1 (1.0: every field given agrees); ``matched_on`` says which did."""

    score: float
    matched_on: list[str] = field(default_factory=list)


def index_keys(record: PersonRecord) -> set[str]:
    """Keys to store for a registry record."""
    return blocking_keys(record.surname, record.given_name, record.birth_date)


def query_keys(query: MatchQuery) -> set[str]:
    """Keys to look up for a claim (any stored key in this set makes a record a candidate)."""
    return blocking_keys(query.surname, query.given_name, query.birth_date)


# --- scoring -----------------------------------------------------------------------------------

# Weights of the fields in the (absolute) weighted mean.
_W_SURNAME, _W_GIVEN, _W_PATRONYMIC, _W_DATE, _W_PLACE, _W_UNIT = 0.30, 0.25, 0.15, 0.30, 0.10, 0.10
# Name similarity below this is no evidence at all (unrelated Russian names are ~0.3-0.5).
_NAME_FLOOR = 0.5
_FUZZY_LABEL = 0.75  # similarity from which a name counts as matched "fuzzily"
_GENDER_FORM = 0.975  # Иванова for Иванов: the same family name, not the same spelling
_SUBSET = 0.9  # one of several given names (АННА vs АННА МАРИЯ)
# Birth place and unit are extra evidence: disagreement lowers the score only this far.
_EXTRA_FLOOR = 0.5

_DATE_SCORES = {
    "birth_date": 1.0, "birth_date_swapped": 0.85, "birth_date_near": 0.6, "birth_year": 0.4,
}

_PLACE_STOPWORDS = frozenset(
    name_key(word)
    for word in (
        "г гор город обл область р-н район р с село пос поселок посёлок п пгт д дер деревня ст "
        "станица х хутор респ республика край ао автономный округ им рп мкр ул "
        "city town village region oblast district rayon raion krai republic of the"
    ).split()
)
_DIGITS_RE = re.compile(r"\d+")


def _similarity(a: str, b: str) -> float:
    """0..1 similarity of two name keys (several words allowed)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if " " not in a and " " not in b:  # one word each: nothing to compact, no subsets
        return Levenshtein.normalized_similarity(a, b)
    best = max(
        Levenshtein.normalized_similarity(a, b),
        Levenshtein.normalized_similarity(compact(a), compact(b)),
    )
    words_a, words_b = set(a.split(" ")), set(b.split(" "))
    if len(words_a) != len(words_b) and (words_a <= words_b or words_b <= words_a):
        best = max(best, _SUBSET)
    return best


def _evidence(similarity: float, floor: float = _NAME_FLOOR) -> float:
    return max(0.0, (similarity - floor) / (1.0 - floor))


# A record's surname stem is worked out again for every claim it is a candidate of.
_stem = lru_cache(maxsize=65536)(surname_stem)


def _surname_similarity(qk: str, q_stem: str, rk: str) -> tuple[float, str | None]:
    """Of two surname keys, the query's stem given (it is the same for every candidate)."""
    direct = _similarity(qk, rk)
    if direct == 1.0:
        return 1.0, "surname"
    stems = _similarity(q_stem, _stem(rk)) * _GENDER_FORM
    if stems == _GENDER_FORM:
        return stems, "surname_gender_form"
    best = max(direct, stems)
    return best, "surname_fuzzy" if best >= _FUZZY_LABEL else None


def _name_similarity(qk: str, rk: str, label: str) -> tuple[float, str | None]:
    sim = _similarity(qk, rk)
    if sim == 1.0:
        return sim, label
    return sim, f"{label}_fuzzy" if sim >= _FUZZY_LABEL else None


def _one_digit_apart(a: int, b: int) -> bool:
    da, db = f"{a:04d}", f"{b:04d}"
    return sum(x != y for x, y in zip(da, db, strict=True)) == 1


def _date_match(query: date, record: date) -> str | None:
    if query == record:
        return "birth_date"
    if (query.year, query.month, query.day) == (record.year, record.day, record.month):
        return "birth_date_swapped"
    if query.year == record.year and query.month == record.month:
        return "birth_date_near"  # a typo in the day
    if (query.month, query.day) == (record.month, record.day) and _one_digit_apart(
        query.year, record.year
    ):
        return "birth_date_near"  # a typo in the year
    if query.year == record.year:
        return "birth_year"
    return None


def _place_tokens(place: str) -> list[str]:
    return [t for t in name_key(place).split(" ") if len(t) > 1 and t not in _PLACE_STOPWORDS]


def _place_similarity(query: str, record: str) -> float:
    q, r = _place_tokens(query), _place_tokens(record)
    if not q or not r:
        return 0.0
    return fuzz.token_set_ratio(" ".join(q), " ".join(r)) / 100.0


def _unit_similarity(query: str, record: str) -> float:
    q_numbers, r_numbers = set(_DIGITS_RE.findall(query)), set(_DIGITS_RE.findall(record))
    if q_numbers and r_numbers:
        return 1.0 if q_numbers & r_numbers else 0.0
    return fuzz.token_set_ratio(name_key(query), name_key(record)) / 100.0


def _present(value: str | None) -> bool:
    return bool(value and value.strip())


@dataclass(frozen=True, slots=True)
class _QueryKeys:
    """The name keys of a query, worked out once for all the candidates :func:`rank` scores."""

    surname: str
    surname_stem: str
    given_name: str
    patronymic: str | None

    @classmethod
    def of(cls, query: MatchQuery) -> _QueryKeys:
        surname = name_key(query.surname)
        patronymic = name_key(query.patronymic or "") if _present(query.patronymic) else None
        return cls(surname, surname_stem(surname), name_key(query.given_name), patronymic)


def score_candidate(query: MatchQuery, record: PersonRecord) -> MatchResult:
    """Absolute agreement of ``record`` with ``query``.

    A weighted mean over the fields the query gives (surname 0.30, given name 0.25, patronymic
    0.15, birth date 0.30, birth place 0.10, unit 0.10); a field missing on either side is left
    out, so a missing patronymic does not penalise. Names are compared as
    :func:`~services.registry.romanize.name_key` strings with a Levenshtein similarity;
    similarity below 0.5 is no evidence. The birth date scores 1.0 exact, 0.85 with day and
    month swapped, 0.6 for a wrong day in the right month or a one-digit slip in the year, 0.4
    for the same year.
    Birth place and unit only ever lower the score to half their weight. Agreement beyond the
    names counts in proportion to how well the surname and given name agree — two unrelated
    men born on the same day are a coincidence, not a match — so an unrelated name scores
    below 0.5.
    """
    return _score(query, _QueryKeys.of(query), record)


def _score(query: MatchQuery, keys: _QueryKeys, record: PersonRecord) -> MatchResult:
    matched: list[str] = []
    surname_sim, label = _surname_similarity(keys.surname, keys.surname_stem,
                                             name_key(record.surname))
    if label:
        matched.append(label)
    given_sim, label = _name_similarity(keys.given_name, name_key(record.given_name),
                                        "given_name")
    if label:
        matched.append(label)
    surname_ev, given_ev = _evidence(surname_sim), _evidence(given_sim)
    name_weight = _W_SURNAME + _W_GIVEN
    name_agreement = (_W_SURNAME * surname_ev + _W_GIVEN * given_ev) / name_weight

    weights, support = name_weight, 0.0
    if keys.patronymic is not None and _present(record.patronymic):
        sim, label = _name_similarity(keys.patronymic, name_key(record.patronymic or ""),
                                      "patronymic")
        if label:
            matched.append(label)
        weights += _W_PATRONYMIC
        support += _W_PATRONYMIC * _evidence(sim)
    if query.birth_date is not None and record.birth_date is not None:
        label = _date_match(query.birth_date, record.birth_date)
        if label:
            matched.append(label)
        weights += _W_DATE
        support += _W_DATE * _DATE_SCORES.get(label or "", 0.0)
    for weight, q_value, r_value, compare, name in (
        (_W_PLACE, query.birth_place, record.birth_place, _place_similarity, "birth_place"),
        (_W_UNIT, query.unit, record.unit, _unit_similarity, "unit"),
    ):
        if _present(q_value) and _present(r_value):
            sim = compare(q_value or "", r_value or "")
            agrees = sim >= 0.85
            if agrees:
                matched.append(name)
            weights += weight
            support += weight * (1.0 if agrees else _EXTRA_FLOOR)

    total = (name_weight * name_agreement + support * name_agreement) / weights
    return MatchResult(score=round(min(1.0, max(0.0, total)), 4), matched_on=matched)


def rank(
    query: MatchQuery,
    records: Iterable[PersonRecord],
    limit: int = 10,
    *,
    min_score: float = 0.0,
) -> list[tuple[PersonRecord, MatchResult]]:
    """The ``limit`` best records, best first; equal scores keep the order ``records`` came in
    (pass them in a deterministic order, e.g. by id)."""
    if limit <= 0:
        return []
    keys = _QueryKeys.of(query)
    scored: Sequence[tuple[PersonRecord, MatchResult]] = [
        (record, _score(query, keys, record)) for record in records
    ]
    kept = [pair for pair in scored if pair[1].score >= min_score]
    kept.sort(key=lambda pair: -pair[1].score)  # list.sort is stable
    return kept[:limit]
