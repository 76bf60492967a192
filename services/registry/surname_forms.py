"""Feminine and masculine forms of Russian surnames: Иванова and Иванов are one family name.

:func:`surname_stem` works on name keys (:func:`services.registry.romanize.name_key`), for matching;
:func:`gender_forms` on names as written, in Cyrillic or Latin.
"""
from __future__ import annotations

from services.registry.romanize import is_cyrillic

# Applied to a key's last word, first match wins: (feminine or masculine ending, stem ending).
_STEM_RULES: tuple[tuple[str, str], ...] = (
    ("SKOI", "SK"), ("SKA", "SK"), ("SKI", "SK"),  # -ский/-ской/-ская
    ("cKOI", "cK"), ("cKA", "cK"), ("cKI", "cK"),  # -цкий/-цкой/-цкая
    ("OVA", "OV"), ("EVA", "EV"), ("INA", "IN"),  # -ова/-ева/-ёва/-ина/-ына
    ("OI", ""), ("A", ""), ("I", ""),  # -ой/-ый/-ий ↔ -ая/-яя
)


def surname_stem(key: str) -> str:
    """Gender-neutral stem of a surname key: ``IVANOV`` and ``IVANOVA`` both give ``IVANOV``.

    ``key`` is a :func:`name_key`. Иванова/Иванов, Петровская/Петровский, Толстая/Толстой,
    Горькая/Горький and Синяя/Синий meet; invariable surnames (Шевченко, Черных) are unchanged.
    The last word of a compound surname is the one stemmed.
    """
    head, _, last = key.rpartition(" ")
    for ending, replacement in _STEM_RULES:
        if last.endswith(ending) and len(last) - len(ending) >= 2:
            last = last[: -len(ending)] + replacement
            break
    return f"{head} {last}" if head else last


# Cyrillic (lower case): feminine ending → masculine endings, and back.
_CYR_FEMININE_TO_MASCULINE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ская", ("ский", "ской")), ("цкая", ("цкий", "цкой")),
    ("ова", ("ов",)), ("ева", ("ев",)), ("ёва", ("ёв",)), ("ина", ("ин",)), ("ына", ("ын",)),
    ("яя", ("ий",)), ("кая", ("кий", "кой")), ("гая", ("гий", "гой")), ("хая", ("хий", "хой")),
    ("жая", ("жий", "жой")), ("шая", ("ший", "шой")), ("чая", ("чий", "чой")),
    ("щая", ("щий",)), ("ая", ("ый", "ой")),
)
_CYR_MASCULINE_TO_FEMININE: tuple[tuple[str, str], ...] = (
    ("ский", "ская"), ("ской", "ская"), ("цкий", "цкая"), ("цкой", "цкая"),
    ("ов", "ова"), ("ев", "ева"), ("ёв", "ёва"), ("ин", "ина"), ("ын", "ына"),
    ("кий", "кая"), ("гий", "гая"), ("хий", "хая"), ("жий", "жая"), ("ший", "шая"),
    ("чий", "чая"), ("щий", "щая"), ("ий", "яя"), ("ый", "ая"), ("ой", "ая"),
)
# Latin (upper case, ICAO and MVD spellings).
_LAT_FEMININE_TO_MASCULINE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SKAIA", ("SKII", "SKOI")), ("SKAYA", ("SKIY", "SKOY", "SKY")), ("SKAJA", ("SKIJ",)),
    ("OVA", ("OV",)), ("EVA", ("EV",)), ("INA", ("IN",)), ("YNA", ("YN",)),
    ("AIA", ("YI", "OI")), ("AYA", ("YY", "OY")),
)
_LAT_MASCULINE_TO_FEMININE: tuple[tuple[str, str], ...] = (
    ("SKII", "SKAIA"), ("SKOI", "SKAIA"), ("SKIY", "SKAYA"), ("SKOY", "SKAYA"),
    ("SKIJ", "SKAJA"), ("SKY", "SKAYA"), ("OV", "OVA"), ("EV", "EVA"), ("IN", "INA"),
    ("YN", "YNA"), ("YI", "AIA"), ("OI", "AIA"), ("YY", "AYA"), ("OY", "AYA"),
)


def _match_case(template: str, text: str) -> str:
    return text.upper() if template.isupper() else text


def gender_forms(name: str) -> set[str]:
    """The surname itself plus its other-gender forms: Иванова → {Иванова, Иванов}.

    Works on the last word of Cyrillic or Latin (ICAO and MVD spellings) input, keeping its
    case; a surname whose ending has no gendered counterpart (Шевченко, Черных) yields itself.
    """
    name = name.strip()
    head, sep, last = name.rpartition(" ") if " " in name else ("", "", name)
    forms = {name}
    if is_cyrillic(last):
        lower = last.lower()
        feminine = [(f, m) for f, m in _CYR_FEMININE_TO_MASCULINE if lower.endswith(f)]
        masculine = [(m, f) for m, f in _CYR_MASCULINE_TO_FEMININE if lower.endswith(m)]
        if feminine:
            ending, targets = feminine[0]
        elif masculine:
            ending, targets = masculine[0][0], (masculine[0][1],)
        else:
            return forms
        stem = last[: len(last) - len(ending)]
        if len(stem) < 2:
            return forms
        for target in targets:
            forms.add(f"{head}{sep}{stem}{_match_case(last, target)}")
        return forms
    upper = last.upper()
    fem = [(f, m) for f, m in _LAT_FEMININE_TO_MASCULINE if upper.endswith(f)]
    mas = [(m, (f,)) for m, f in _LAT_MASCULINE_TO_FEMININE if upper.endswith(m)]
    for ending, targets in (fem or mas)[:1]:
        stem = last[: len(last) - len(ending)]
        if len(stem) >= 2:
            forms |= {f"{head}{sep}{stem}{_match_case(last, t.lower())}" for t in targets}
    return forms
