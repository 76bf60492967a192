"""Cyrillic romanisation and script-independent name keys.

* :func:`icao_latin` — what a Russian passport has printed since 2014 (ICAO Doc 9303), with the
  Ukrainian and Belarusian letters of the same table.
* :func:`latin_variants` — the spellings of one Cyrillic name under the other schemes people still
  carry (MVD 1997/2000, the 2010-2013 ``TC`` passports, GOST, BGN/PCGN, Wikipedia, French ...).
* :func:`name_key` — a phonetic Latin skeleton on which all of those spellings, and the Cyrillic
  itself, collapse to one string (:mod:`services.registry.surname_forms` bridges the feminine and
  masculine forms of a surname).

The transliteration tables are iuliia's; this module adds only what they lack (the Ukrainian
letters, a few spelled-out forms) and the key normalisation.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import iuliia

from storage.vocabulary import Language

__all__ = [
    "icao_latin",
    "is_cyrillic",
    "latin_variants",
    "name_key",
    "normalise_key",
]

# --- text clean-up ---------------------------------------------------------------------------

_APOSTROPHES = "'\u2019\u2018\u02bc\u02b9\u02ba\u0060\u00b4\u2032\u2033\u201d\u201c\"\u00b7"
_HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_APOSTROPHE_RE = re.compile(f"[{re.escape(_APOSTROPHES)}]")
_HYPHEN_RE = re.compile(f"[{re.escape(_HYPHENS)}]")
# One "word" is a run of letters and the combining marks NFC could not compose into them.
_WORD_RE = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")

# Latin letters NFKD does not decompose.
_LATIN_SPECIALS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "TH", "ı": "i", "ð": "d", "Ð": "D"}
)
# Scholarly Slavic transliterations (ISO 9, GOST 16876 system A, scientific): the letters stand
# for digraphs, so a key reads them as such; plain accent stripping would lose the phoneme.
_SLAVIC_DIACRITICS = str.maketrans(
    {"ž": "zh", "Ž": "ZH", "č": "ch", "Č": "CH", "š": "sh", "Š": "SH", "ŝ": "shch", "Ŝ": "SHCH",
     "û": "yu", "Û": "YU", "â": "ya", "Â": "YA", "ё": "e", "Ё": "E"}
)

_CYRILLIC_RANGES = ((0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F))


def _is_cyrillic_char(ch: str) -> bool:
    code = ord(ch)
    return ch.isalpha() and any(lo <= code <= hi for lo, hi in _CYRILLIC_RANGES)


def is_cyrillic(s: str) -> bool:
    """True when ``s`` contains at least one Cyrillic letter (mixed-script text counts)."""
    return any(_is_cyrillic_char(ch) for ch in s)


def _strip_accents(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_LATIN_SPECIALS))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _words(name: str) -> list[tuple[str, str]]:
    """Split into (separator, word) pairs; the separator is "-" or " " (or "" first)."""
    text = unicodedata.normalize("NFC", name)
    text = _APOSTROPHE_RE.sub("", text)
    text = _HYPHEN_RE.sub("-", text)
    pairs: list[tuple[str, str]] = []
    pos = 0
    for match in _WORD_RE.finditer(text):
        gap = text[pos:match.start()]
        pairs.append(("-" if "-" in gap else " ", match.group()))
        pos = match.end()
    return pairs


def _join(pairs: list[tuple[str, str]]) -> str:
    out: list[str] = []
    for sep, word in pairs:
        if not word:
            continue
        if out:
            out.append(sep)
        out.append(word)
    return "".join(out)


def _ascii_upper(text: str) -> str:
    return "".join(ch for ch in _strip_accents(text).upper() if "A" <= ch <= "Z")


# --- ICAO Doc 9303 ---------------------------------------------------------------------------

# Letters of the ICAO 9303 Cyrillic table that iuliia's (Russian) schema does not carry.
_ICAO_EXTRA = str.maketrans({"і": "i", "ї": "i", "є": "ie", "ґ": "g", "ў": "u"})
_UKRAINIAN_ONLY = frozenset("іїєґ")


def _is_ukrainian(word: str, language: Language | None) -> bool:
    if language is not None:
        return language == Language.UK
    return any(ch in _UKRAINIAN_ONLY for ch in word)


def _icao_word(word: str, language: Language | None) -> str:
    lower = word.lower()
    if _is_ukrainian(lower, language):
        lower = lower.replace("и", "y")  # ICAO 9303: И → Y for Ukrainian
    return _ascii_upper(iuliia.ICAO_DOC_9303.translate(lower.translate(_ICAO_EXTRA)))


def icao_latin(name: str, language: Language | None = None) -> str:
    """Upper-case ICAO Doc 9303 romanisation, as printed in a passport's data page and MRZ.

    Cyrillic is transliterated with iuliia's ICAO table plus the table's Ukrainian and Belarusian
    letters (І, Ї → I; Є → IE; Ґ → G; Ў → U). A word is read as Ukrainian — so И → Y, ICAO's
    Ukrainian exception — when ``language="uk"``, or when it contains І, Ї, Є or Ґ and no language
    is given. Latin letters are upper-cased with their accents stripped (ICAO: Č → C, Ü → U);
    apostrophes are dropped; words stay separated by one space or one hyphen; any other character
    (digits, punctuation, letters of other scripts) is dropped.
    """
    return _join([(sep, _icao_word(word, language)) for sep, word in _words(name)])


# --- other schemes ---------------------------------------------------------------------------

# iuliia schemas whose output is plain Latin once signs are dropped (and diacritics expanded).
_VARIANT_SCHEMES: tuple[iuliia.Schema, ...] = (
    iuliia.ICAO_DOC_9303,  # passports since 2014
    iuliia.GOST_52535,  # passports 2010-2013: Ц → TC
    iuliia.MVD_310,  # passports 1997-2010: Й → Y, Ю → YU, Я → YA
    iuliia.MVD_782,  # passports 2000-2010: Ё → YO/YE
    iuliia.BGN_PCGN,
    iuliia.WIKIPEDIA,  # -ий/-ый → Y
    iuliia.GOST_779_ALT,  # GOST 7.79 system B: Х → X, Ц → CZ, Щ → SHH
    iuliia.GOST_16876_ALT,  # Й → JJ, Ю → JU, Я → JA
    iuliia.SCIENTIFIC,  # JURIJ, ŠČ → SHCH
    iuliia.MVD_310_FR,  # French: IOURI, -INE
    iuliia.TELEGRAM,  # informal: Х → H, Щ → SC
)
# Ukrainian letters for schemes that only know Russian.
_UK_FOR_RUSSIAN_SCHEMES = str.maketrans({"і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u"})


def _scheme_word(word: str, schema: iuliia.Schema) -> str:
    lower = word.lower()
    if _is_ukrainian(lower, None):
        lower = lower.replace("и", "ы").translate(_UK_FOR_RUSSIAN_SCHEMES)
    return _ascii_upper(schema.translate(lower).translate(_SLAVIC_DIACRITICS))


def _spelled_out(variant: str) -> set[str]:
    """Common informal forms: KS ↔ X (ALEXEI), -IY/-II/-YY ending → -Y, -I (YURY, YURI)."""
    forms = {variant}
    if "KS" in variant:
        forms.add(variant.replace("KS", "X"))
    for form in list(forms):
        words = form.split(" ")
        for i, word in enumerate(words):
            ending = next((e for e in ("IY", "II", "YY", "IJ", "YI") if word.endswith(e)), None)
            if ending and len(word) > 3:
                for short in ("Y", "I"):
                    shortened = word[: -len(ending)] + short
                    forms.add(" ".join([*words[:i], shortened, *words[i + 1:]]))
    return forms


def latin_variants(name: str) -> set[str]:
    """Every Latin spelling of ``name`` under the schemes in use, upper case.

    For Cyrillic input: ICAO 9303 (2014-), GOST R 52535 (2010-2013 ``TC``), MVD 310 and 782
    (1997-2010), BGN/PCGN, Wikipedia, GOST 7.79 system B, GOST 16876 (ASCII form), scientific,
    French (MVD 310 FR) and the informal Telegram scheme, plus the spelled-out forms people type
    (ALEXEI, YURY, YURI). Signs and apostrophes are dropped. Latin input is returned as its ICAO
    form only (a Latin spelling cannot be traced back to one Cyrillic original).
    """
    if not is_cyrillic(name):
        latin = icao_latin(name)
        return {latin} if latin else set()
    pairs = _words(name)
    variants: set[str] = set()
    for schema in _VARIANT_SCHEMES:
        variants |= _spelled_out(_join([(sep, _scheme_word(w, schema)) for sep, w in pairs]))
    variants.add(icao_latin(name))
    variants.discard("")
    return variants


# --- name keys -------------------------------------------------------------------------------

# Key alphabet: upper-case letters for single phonemes, lower-case for Cyrillic letters that Latin
# spells with digraphs: z = Ж, c = Ц, q = Ч, s = Ш, w = Щ. Х is H, Й/Ы/И are I.
_DIGRAPHS: tuple[tuple[str, str], ...] = (
    ("SHTSCH", "w"), ("SHTCH", "w"), ("CHTCH", "w"), ("SHCH", "w"),
    ("TSCH", "q"), ("SHH", "w"), ("SCH", "w"), ("TCH", "q"),
    ("ZH", "z"), ("KH", "H"), ("CH", "q"), ("SH", "s"),
    ("TS", "c"), ("TC", "c"), ("TZ", "c"), ("CZ", "c"), ("CK", "K"), ("PH", "F"),
    ("X", "KS"), ("W", "V"), ("Q", "K"), ("J", "I"), ("Y", "I"),
)
_FRONT = frozenset("EIYJ")
_KEY_VOWELS = frozenset("AEOU")
_ENDINGS: tuple[tuple[str, str], ...] = (("INE", "IN"), ("OF", "OV"), ("EF", "EV"))
_HARD_SIGN_RE = re.compile(r"IEI(?=[AEOU])")  # ICAO Ъ = IE before an iotated vowel: ПОДЪЯЧЕВ


def _tokenise(word: str) -> str:
    """Map one upper-case ASCII word onto the key alphabet (digraphs → one symbol)."""
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        if word.startswith("SC", i) and i + 2 < n and word[i + 2] in _FRONT:
            out.append("w")  # Telegram Щ → SC (before a front vowel; SCA/SCO is СК)
            i += 2
            continue
        for latin, token in _DIGRAPHS:
            if word.startswith(latin, i):
                out.append(token)
                i += len(latin)
                break
        else:
            ch = word[i]
            if ch == "C":
                nxt = word[i + 1] if i + 1 < n else ""
                # C before E/I/Y or at the end is Ц (GOST, scientific); elsewhere K (VICTOR).
                out.append("c" if not nxt or nxt in _FRONT else "K")
            else:
                out.append(ch)
            i += 1
    return "".join(out)


def _collapse_doubles(s: str) -> str:
    return re.sub(r"(.)\1+", r"\1", s)


def _drop_glides(s: str) -> str:
    """IA, IU, IE → A, U, E; IO → E (Ё: FYODOR = FEDOR): iotation is spelt too many ways."""
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        if s[i] == "I" and i + 1 < n and s[i + 1] in _KEY_VOWELS:
            out.append("E" if s[i + 1] == "O" else s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def normalise_key(fragment: str) -> str:
    """Re-apply a key's sequence rules (glides, doubled letters) to a string of key symbols —
    for strings derived from a key, such as the key with one letter deleted (ZAI(c)EV → ZAEV,
    the key of the misspelling ЗАЙЕВ). A name key is unchanged by it."""
    words = fragment.split(" ")
    return " ".join(_collapse_doubles(_drop_glides(_collapse_doubles(w))) for w in words)


def _key_word(word: str) -> str:
    s = _collapse_doubles(_tokenise(word))
    for ending, replacement in _ENDINGS:
        if s.endswith(ending) and len(s) > len(ending) + 1:
            s = s[: -len(ending)] + replacement
            break
    s = _HARD_SIGN_RE.sub("I", s.replace("OU", "U"))
    return _collapse_doubles(_drop_glides(s))


def _latin_for_key(word: str) -> str:
    if is_cyrillic(word):
        return _icao_word(word, None)
    return _ascii_upper(word.translate(_SLAVIC_DIACRITICS))


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """Script- and scheme-independent key of a name: one string for all its spellings.

    Cyrillic is first put into ICAO Latin; every Latin spelling is then read into one phonetic
    alphabet: KH/H → H, TS/TC/TZ/CZ/C(before E, I, Y) → Ц, SHCH/SHH/SCH/SC(before E, I) → Щ,
    ZH → Ж, CH/TCH/TSCH → Ч, X → KS, W → V, Y/J/I → I, doubled letters once, iotated vowels
    without their glide (YU/IU/JU → U, YA/IA/JA → A, YE/IE → E, YO/IO → E), French OU → U and
    -INE → -IN, -OF(F) → -OV. So «Юрий», YURIY, IURII, YURY, YURI and JURIJ all give ``URI``.

    Readings that this key deliberately does not collapse (they are left to fuzzy scoring): X as
    Х (GOST 7.79 system B — X is read as KS, the common spelling of КС), C as Ц before A/O/U
    (GOST 16876, Telegram — read as K as in English), J as Ж and CH as Ш (French). Cyrillic СЧ
    (ICAO SCH) reads as Щ, which is how it is pronounced. Words are separated by one space;
    letters of no script the key knows are dropped. The key is lossy by design (Ы and И meet, so
    do Мария and Мара): compare keys, never show them.
    """
    words = [_key_word(_latin_for_key(word)) for _, word in _words(name)]
    return " ".join(word for word in words if word)
