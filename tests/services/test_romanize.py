"""Romanisation (ICAO 9303 and the older schemes) and the name keys built on it."""
from __future__ import annotations

import iuliia
import pytest
from hypothesis import given, settings, strategies as st

from services.registry.romanize import (
    icao_latin,
    is_cyrillic,
    latin_variants,
    name_key,
    normalise_key,
)
from services.registry.surname_forms import gender_forms, surname_stem

# ICAO Doc 9303 Part 3, transliteration of Cyrillic characters — the Russian alphabet.
ICAO_RUSSIAN = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "E", "Ж": "ZH", "З": "Z",
    "И": "I", "Й": "I", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O", "П": "P", "Р": "R",
    "С": "S", "Т": "T", "У": "U", "Ф": "F", "Х": "KH", "Ц": "TS", "Ч": "CH", "Ш": "SH",
    "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "IU", "Я": "IA",
}
# The same table's Ukrainian and Belarusian letters.
ICAO_UKRAINIAN = {"І": "I", "Ї": "I", "Є": "IE", "Ґ": "G", "Ў": "U"}


@pytest.mark.parametrize(("letter", "latin"), sorted(ICAO_RUSSIAN.items()))
def test_icao_russian_letter(letter: str, latin: str) -> None:
    # Between two vowels-free anchors so the sign letters have a word to live in.
    assert icao_latin(f"Б{letter}Б") == f"B{latin}B"
    assert icao_latin(f"б{letter.lower()}б") == f"B{latin}B"


@pytest.mark.parametrize(("letter", "latin"), sorted(ICAO_UKRAINIAN.items()))
def test_icao_ukrainian_letter(letter: str, latin: str) -> None:
    assert icao_latin(f"Б{letter}Б") == f"B{latin}B"
    assert icao_latin(f"б{letter.lower()}б") == f"B{latin}B"


def test_icao_uses_iuliia_table() -> None:
    for letter in ICAO_RUSSIAN:
        assert icao_latin(letter + "А") == iuliia.ICAO_DOC_9303.translate(letter.lower() + "а").upper()


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Юрий", "IURII"),
        ("Мария", "MARIIA"),
        ("Щербаков", "SHCHERBAKOV"),
        ("Фёдор", "FEDOR"),
        ("Хабибуллин", "KHABIBULLIN"),
        ("Царёв", "TSAREV"),
        ("Подъячев", "PODIEIACHEV"),
        ("Наталья", "NATALIA"),
        ("Алексей Юрьевич", "ALEKSEI IUREVICH"),
        ("Петров-Водкин", "PETROV-VODKIN"),
        ("  петров  -  водкин ", "PETROV-VODKIN"),
        ("Анна   Мария", "ANNA MARIIA"),
        ("ЖУКОВ", "ZHUKOV"),
    ],
)
def test_icao_russian_names(cyrillic: str, latin: str) -> None:
    assert icao_latin(cyrillic) == latin


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        # A word with І, Ї, Є or Ґ is Ukrainian: ICAO's Ukrainian exception И → Y applies.
        ("Григорій", "GRYGORII"),
        ("Їжакевич", "IZHAKEVYCH"),
        ("Євген", "IEVGEN"),
        ("Ґалаґан", "GALAGAN"),
        ("Мар'яна", "MARIANA"),
        ("Мар’яна", "MARIANA"),
    ],
)
def test_icao_ukrainian_names(cyrillic: str, latin: str) -> None:
    assert icao_latin(cyrillic) == latin


def test_icao_language_override() -> None:
    assert icao_latin("Микола") == "MIKOLA"
    assert icao_latin("Микола", language="uk") == "MYKOLA"
    assert icao_latin("Григорій", language="ru") == "GRIGORII"


@pytest.mark.parametrize(
    ("latin", "expected"),
    [
        ("ivanov", "IVANOV"),
        ("Müller", "MULLER"),
        ("Štěpánek", "STEPANEK"),
        ("O'Brien", "OBRIEN"),
        ("Anna-Maria  Łukasz", "ANNA-MARIA LUKASZ"),
        ("  Jean – Luc ", "JEAN-LUC"),
        ("X Æ A-12", "X AE A"),
        ("", ""),
        ("123", ""),
    ],
)
def test_icao_latin_input(latin: str, expected: str) -> None:
    assert icao_latin(latin) == expected


def test_is_cyrillic() -> None:
    assert is_cyrillic("Иванов")
    assert is_cyrillic("Їжак")
    assert is_cyrillic("IVAНOV")  # mixed scripts count as Cyrillic
    assert not is_cyrillic("IVANOV")
    assert not is_cyrillic("")
    assert not is_cyrillic("123-")


def test_latin_variants_of_yuri() -> None:
    variants = latin_variants("Юрий")
    assert {"IURII", "YURIY", "YURY", "YURI", "JURIJ", "IOURI"} <= variants


def test_latin_variants_cover_passport_schemes() -> None:
    assert {"TSAREV", "TCAREV", "TSARYEV", "TSARYOV", "CZARYOV"} <= latin_variants("Царёв")
    assert {"ALEKSEI", "ALEKSEY", "ALEXEI", "ALEXEY", "ALEKSEJ"} <= latin_variants("Алексей")
    assert {"NATALIA", "NATALYA", "NATALJA"} <= latin_variants("Наталья")
    assert {"SHCHERBAKOV", "SHHERBAKOV", "SCERBAKOV"} <= latin_variants("Щербаков")
    assert all(v == v.upper() and v.replace(" ", "").replace("-", "").isalpha()
               for v in latin_variants("Подъячев Ильин"))


def test_latin_variants_of_latin_input() -> None:
    assert latin_variants("Ivanov") == {"IVANOV"}
    assert latin_variants("") == set()


@pytest.mark.parametrize(
    "spellings",
    [
        ["Юрий", "YURIY", "IURII", "YURY", "YURI", "JURIJ", "IOURI", "Yuri"],
        ["Щербаков", "SHCHERBAKOV", "SCHERBAKOV", "SHHERBAKOV", "SCERBAKOV", "Ščerbakov"],
        ["Алексей", "ALEKSEY", "ALEKSEI", "ALEXEI", "ALEXEY", "ALEKSEJ"],
        ["Фёдор", "FEDOR", "FYODOR", "FIODOR", "FJODOR"],
        ["Наталья", "NATALYA", "NATALIA", "NATALIIA", "NATALJA"],
        ["Хабибуллин", "KHABIBULLIN", "HABIBULLIN", "HABIBULIN"],
        ["Царёв", "TSAREV", "TCAREV", "TSARYOV", "CZARYOV"],
        ["Иванов", "IVANOV", "Iwanow", "Ivanoff"],
        ["Виктор", "VIKTOR", "VICTOR"],
        ["Михаил", "MIKHAIL", "MIHAIL"],
        ["Подъячев", "PODIEIACHEV", "PODYACHEV", "PODJACHEV"],
        ["Ильин", "ILIN", "ILYIN", "IL'IN", "ILJIN"],
        ["Евгений", "EVGENII", "YEVGENIY", "EVGENIY", "JEVGENIJ"],
        ["Артём", "ARTEM", "ARTYOM", "ARTJOM"],
    ],
)
def test_spellings_share_a_key(spellings: list[str]) -> None:
    keys = {name_key(s) for s in spellings}
    assert len(keys) == 1, {s: name_key(s) for s in spellings}


# Names whose every passport-scheme spelling must collapse (no Х/Ц-before-back-vowel readings
# that the key resolves the other way; see name_key's docstring).
PASSPORT_SCHEMES = (
    iuliia.ICAO_DOC_9303, iuliia.GOST_52535, iuliia.MVD_310, iuliia.MVD_782, iuliia.BGN_PCGN,
    iuliia.WIKIPEDIA,
)
NAMES = [
    "Юрий", "Алексей", "Фёдор", "Наталья", "Щербаков", "Хабибуллин", "Царёв", "Подъячев",
    "Ильин", "Евгений", "Артём", "Дмитриевич", "Юрьевич", "Соловьёв", "Зайцев", "Чайковский",
    "Мария", "Ксения", "Майя", "Жуков", "Кузьмич", "Григорьев", "Воробьёва", "Афанасьевич",
    "Муравьёв-Апостол", "Съедин",
]


@pytest.mark.parametrize("name", NAMES)
def test_all_scheme_spellings_share_the_key(name: str) -> None:
    key = name_key(name)
    for schema in PASSPORT_SCHEMES:
        assert name_key(schema.translate(name)) == key, (schema.name, schema.translate(name))


@pytest.mark.parametrize("name", NAMES)
def test_all_variants_stay_close(name: str) -> None:
    """Every variant of every scheme is the key or within two edits of it."""
    from rapidfuzz.distance import Levenshtein

    key = name_key(name)
    for variant in latin_variants(name):
        assert Levenshtein.distance(name_key(variant), key) <= 2, variant


def test_known_non_collapsing_readings_are_close() -> None:
    # GOST 7.79-B writes Х as X, read as KS by the key (ALEXEI): one edit apart, not equal.
    from rapidfuzz.distance import Levenshtein

    assert name_key("XABIBULLIN") != name_key("Хабибуллин")
    assert Levenshtein.distance(name_key("XABIBULLIN"), name_key("Хабибуллин")) == 2
    # GOST 16876 / Telegram write Ц as C before A, read as K (as in English MOSCALENKO).
    assert Levenshtein.distance(name_key("CAREV"), name_key("Царёв")) == 1


def test_distinct_names_keep_distinct_keys() -> None:
    assert name_key("Шукин") != name_key("Щукин")
    assert name_key("Зуев") != name_key("Жуев")
    assert name_key("Иван") != name_key("Иванов")
    assert name_key("Москаленко") == name_key("MOSCALENKO")  # SCA is СК, not Щ


def test_key_shape() -> None:
    assert name_key("Петров-Водкин") == "PETROV VODKIN"
    assert name_key("  ") == ""
    assert name_key("O'Neil") == name_key("ONeil")


@pytest.mark.parametrize(
    ("feminine", "masculine"),
    [
        ("Иванова", "Иванов"),
        ("Королёва", "Королёв"),
        ("Петровская", "Петровский"),
        ("Трубецкая", "Трубецкой"),
        ("Толстая", "Толстой"),
        ("Белая", "Белый"),
        ("Горькая", "Горький"),
        ("Синяя", "Синий"),
        ("Фомина", "Фомин"),
        ("IVANOVA", "IVANOV"),
        ("PETROVSKAYA", "PETROVSKIY"),
        ("PETROVSKAIA", "PETROVSKY"),
    ],
)
def test_surname_stem_joins_genders(feminine: str, masculine: str) -> None:
    assert surname_stem(name_key(feminine)) == surname_stem(name_key(masculine))


def test_surname_stem_keeps_invariable_and_distinct() -> None:
    assert surname_stem(name_key("Шевченко")) == name_key("Шевченко")
    assert surname_stem(name_key("Черных")) == name_key("Черных")
    assert surname_stem(name_key("Иванов")) != surname_stem(name_key("Ивановский"))
    assert surname_stem(name_key("Петров-Водкина")) == "PETROV VODKIN"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Иванова", {"Иванова", "Иванов"}),
        ("Иванов", {"Иванов", "Иванова"}),
        ("ПЕТРОВСКИЙ", {"ПЕТРОВСКИЙ", "ПЕТРОВСКАЯ"}),
        ("Толстой", {"Толстой", "Толстая"}),
        ("Синяя", {"Синяя", "Синий"}),
        ("Шевченко", {"Шевченко"}),
        ("IVANOVA", {"IVANOVA", "IVANOV"}),
        ("PETROVSKII", {"PETROVSKII", "PETROVSKAIA"}),
        ("Ivanova", {"Ivanova", "Ivanov"}),
        ("Петров-Водкин", {"Петров-Водкин", "Петров-Водкина"}),
    ],
)
def test_gender_forms(name: str, expected: set[str]) -> None:
    assert gender_forms(name) == expected


def test_gender_forms_ambiguous_adjectival() -> None:
    assert {"Толстой", "Толстый"} <= gender_forms("Толстая")
    assert {"Петровский", "Петровской"} <= gender_forms("Петровская")


KEY_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ zcqsw")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=40))
def test_never_crashes_and_outputs_ascii(text: str) -> None:
    latin = icao_latin(text)
    assert all(ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ -" for ch in latin)
    key = name_key(text)
    assert set(key) <= KEY_ALPHABET
    assert "  " not in key and key == key.strip()
    assert normalise_key(key) == key
    latin_variants(text)
    gender_forms(text)
    surname_stem(key)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ -", min_size=1, max_size=16))
def test_icao_output_keys_like_its_cyrillic(word: str) -> None:
    assert name_key(icao_latin(word)) == name_key(word)
    assert normalise_key(name_key(word)) == name_key(word)


def test_normalise_key_after_deletion() -> None:
    assert normalise_key("ZAIEV") == name_key("Зайев")
    assert normalise_key("NIKIIN") == name_key("Никиин")
