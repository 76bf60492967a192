"""Matching claims against a generated registry, retrieving candidates only by blocking keys."""
from __future__ import annotations

import random
import statistics
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property

import iuliia
import pytest

from services.registry.blocking_keys import blocking_keys
from services.registry.matching import (
    MatchQuery,
    MatchResult,
    PersonRecord,
    index_keys,
    query_keys,
    rank,
    score_candidate,
)
from services.registry.romanize import icao_latin, latin_variants
from services.registry.surname_forms import gender_forms

SEED = 20240601
REGISTRY_SIZE = 5000
TRUE_SAMPLE = 250

# Common Russian surnames, most frequent first (drawn with Zipf-like weights), chosen to cover
# every hard letter: Ё Ж Х Ц Ч Ш Щ Ъ Ы Ь Э Ю Я Й and -ский/-ой/-ий adjectival forms.
SURNAMES = """
Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков
Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин
Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов
Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин Виноградов Ковалёв
Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов
Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов
Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов
Ефимов Федотов Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов Родионов Коновалов Лазарев
Воронин Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников
Трофимов Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин
Ефремов Архипов Громов Кириллов Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов
Анисимов Ерёмин Тихомиров Галкин Лукьянов Михеев Скворцов Юдин Белоусов Нестеров Симонов Прокофьев
Харитонов Князев Цветков Левин Митрофанов Воронцов Капустин Ширяев Хабибуллин Гайнуллин Юсупов
Шевченко Бондаренко Ткаченко Кравченко Коваленко Черных Долгих Толстой Трубецкой Чайковский
Вишневский Каменский Загорский Подъячев Съедин Эрдниев Юрьев Яхин Ящук Цыганков Щукин Шукин
Хохлов Чижов Цой Ким Пак Ли Хасанов Гаджиев Магомедов Алиев Эльдаров Ягудин Юшков Ёлкин Жильцов
"""
GIVEN_NAMES = """
Александр Сергей Дмитрий Андрей Алексей Максим Евгений Иван Михаил Артём Николай Владимир Денис
Павел Роман Игорь Олег Никита Антон Виктор Юрий Кирилл Илья Егор Вадим Константин Станислав
Виталий Руслан Василий Пётр Анатолий Геннадий Валерий Григорий Фёдор Тимур Эдуард Ярослав
Вячеслав Леонид Борис Аркадий Лев Яков Семён Богдан Даниил Матвей Глеб Тимофей Рустам Ринат
Ильдар Марат Айдар Захар Степан Филипп Кузьма Фома Лука Савва
"""
PATRONYMIC_EXCEPTIONS = {
    "Илья": "Ильич", "Никита": "Никитич", "Лука": "Лукич", "Фома": "Фомич", "Кузьма": "Кузьмич",
    "Савва": "Саввич", "Пётр": "Петрович", "Павел": "Павлович", "Лев": "Львович",
    "Яков": "Яковлевич", "Дмитрий": "Дмитриевич",
}
PLACES = """
Москва;Санкт-Петербург;г. Новосибирск;Екатеринбург;Казань;Нижний Новгород;Челябинск;Самара;
Омск;Ростов-на-Дону;Уфа;Красноярск;Воронеж;Пермь;Волгоград;Краснодар;Саратов;Тюмень;Ижевск;
Барнаул;Ульяновск;Иркутск;Хабаровск;Ярославль;Владивосток;Махачкала;Томск;Оренбург;Кемерово;
Новокузнецк;Рязань;Астрахань;Пенза;Липецк;Тула;Киров;Чебоксары;Калининград;Курск;Улан-Удэ;
Ставрополь;Магнитогорск;Тверь;Иваново;Брянск;Белгород;Сургут;Владимир;Чита;Архангельск;
Смоленск;Калуга;Курган;Орёл;Череповец;Вологда;Якутск;Грозный;с. Шаля, Свердловская обл.;
пгт Приютово;д. Берёзовка;Элиста;Кызыл;Абакан;Псков;Мурманск;Петрозаводск;Сыктывкар
"""


def patronymic_of(father: str) -> str:
    if father in PATRONYMIC_EXCEPTIONS:
        return PATRONYMIC_EXCEPTIONS[father]
    if father.endswith("ий"):
        return father[:-2] + "ьевич"
    if father.endswith(("ей", "ай", "ой")):
        return father[:-1] + "евич"
    return father + "ович"


def _weighted(rng: random.Random, items: list[str], exponent: float) -> str:
    weights = [1.0 / (rank + 1) ** exponent for rank in range(len(items))]
    return rng.choices(items, weights=weights)[0]


@dataclass
class Registry:
    records: list[PersonRecord]

    @cached_property
    def index(self) -> dict[str, list[int]]:
        """The prisoner_blocking_keys table: key → record positions."""
        table: dict[str, list[int]] = defaultdict(list)
        for position, record in enumerate(self.records):
            for key in index_keys(record):
                table[key].append(position)
        return table

    def candidates(self, query: MatchQuery) -> list[int]:
        found: set[int] = set()
        for key in query_keys(query):
            found.update(self.index.get(key, ()))
        return sorted(found)

    def search(self, query: MatchQuery, limit: int = 5) -> tuple[list[int], list[MatchResult], int]:
        positions = self.candidates(query)
        ranked = rank(query, [self.records[p] for p in positions], limit)
        return [int(r.ref) for r, _ in ranked], [m for _, m in ranked], len(positions)


def build_registry(seed: int = SEED, size: int = REGISTRY_SIZE) -> Registry:
    rng = random.Random(seed)
    surnames, given_names = SURNAMES.split(), GIVEN_NAMES.split()
    places = [p.strip() for p in PLACES.split(";") if p.strip()]
    units = [f"в/ч {rng.randint(10000, 99999)}" for _ in range(120)]
    start, span = date(1966, 1, 1), (date(2006, 12, 31) - date(1966, 1, 1)).days
    seen: set[tuple[str, str, str, date]] = set()
    records: list[PersonRecord] = []

    def add(surname: str, given: str, patronymic: str, born: date) -> None:
        identity = (surname, given, patronymic, born)
        if identity in seen:
            return
        seen.add(identity)
        records.append(PersonRecord(
            surname=surname, given_name=given, patronymic=patronymic, birth_date=born,
            birth_place=_weighted(rng, places, 0.8), unit=rng.choice(units), ref=len(records),
        ))

    def random_date() -> date:
        # Most prisoners are 20-40: a triangular distribution over 1966-2006.
        return start + timedelta(days=int(rng.triangular(0, span, span * 0.7)))

    while len(records) < size:
        roll = rng.random()
        if records and roll < 0.06:  # namesake: same full name, another birth date
            other = rng.choice(records)
            add(other.surname, other.given_name, other.patronymic or "", random_date())
        elif records and roll < 0.12:  # brother / twin: same surname and birth date
            other = rng.choice(records)
            given = _weighted(rng, given_names, 0.9)
            add(other.surname, given, other.patronymic or "", other.birth_date or random_date())
        elif records and roll < 0.15:  # same surname and name, another father
            other = rng.choice(records)
            add(other.surname, other.given_name,
                patronymic_of(_weighted(rng, given_names, 0.9)), random_date())
        else:
            add(_weighted(rng, surnames, 0.9), _weighted(rng, given_names, 0.9),
                patronymic_of(_weighted(rng, given_names, 0.9)), random_date())
    return Registry(records)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry()


# --- queries built from true records -------------------------------------------------------

CYRILLIC_LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
SCHEMES = {
    "icao": iuliia.ICAO_DOC_9303, "gost_52535_tc": iuliia.GOST_52535, "mvd_310": iuliia.MVD_310,
    "mvd_782": iuliia.MVD_782, "bgn_pcgn": iuliia.BGN_PCGN, "wikipedia": iuliia.WIKIPEDIA,
}


def _upper_latin(schema: iuliia.Schema, name: str) -> str:
    return "".join(ch for ch in schema.translate(name).upper() if ch.isalpha() or ch in " -")


def typo(rng: random.Random, word: str, edits: int = 1) -> str:
    """``word`` with ``edits`` random substitutions, deletions, insertions or transpositions."""
    lower = word.lower()
    for _ in range(100):
        letters = list(lower)
        for _ in range(edits):
            i = rng.randrange(1, len(letters)) if len(letters) > 1 else 0
            kind = rng.choice(("sub", "del", "ins", "swap"))
            if kind == "sub":
                letters[i] = rng.choice(CYRILLIC_LOWER)
            elif kind == "del" and len(letters) > 3:
                del letters[i]
            elif kind == "ins":
                letters.insert(i, rng.choice(CYRILLIC_LOWER))
            elif i > 0:
                letters[i - 1], letters[i] = letters[i], letters[i - 1]
        result = "".join(letters)
        if result != lower:
            return result.capitalize()
    raise AssertionError(f"no typo for {word}")  # pragma: no cover


def latin_typo(rng: random.Random, latin: str) -> str:
    i = rng.randrange(1, len(latin))
    return latin[:i] + rng.choice("ABCDEFGHIKLMNOPRSTUVYZ") + latin[i + 1:]


def feminine(surname: str) -> str | None:
    others = gender_forms(surname) - {surname}
    return min(others) if others else None


def queries_for(rng: random.Random, record: PersonRecord) -> dict[str, MatchQuery]:
    base = MatchQuery(
        surname=record.surname, given_name=record.given_name, patronymic=record.patronymic,
        birth_date=record.birth_date,
    )
    assert record.birth_date is not None
    out = {"cyrillic": base}
    for name, schema in SCHEMES.items():
        out[name] = replace(
            base,
            surname=_upper_latin(schema, record.surname),
            given_name=_upper_latin(schema, record.given_name),
            patronymic=_upper_latin(schema, record.patronymic or ""),
        )
    out["any_variant"] = replace(
        base,
        surname=rng.choice(sorted(latin_variants(record.surname))),
        given_name=rng.choice(sorted(latin_variants(record.given_name))),
        patronymic=rng.choice(sorted(latin_variants(record.patronymic or ""))),
    )
    out["surname_typo"] = replace(base, surname=typo(rng, record.surname))
    out["surname_typo_latin"] = replace(
        out["icao"], surname=latin_typo(rng, icao_latin(record.surname))
    )
    out["surname_two_typos"] = replace(base, surname=typo(rng, record.surname, edits=2))
    born = record.birth_date
    if born.day <= 12 and born.day != born.month:
        swapped = born.replace(day=born.month, month=born.day)
        out["swapped_date"] = replace(base, birth_date=swapped)
        out["swapped_date_latin_no_patronymic"] = replace(
            out["mvd_310"], birth_date=swapped, patronymic=None
        )
    out["no_patronymic"] = replace(base, patronymic=None)
    out["given_name_typo"] = replace(base, given_name=typo(rng, record.given_name))
    day = rng.choice([d for d in range(1, 29) if d != born.day])
    out["day_typo"] = replace(base, birth_date=born.replace(day=day))
    # Everything at once: a passport spelling of some year, a surname typo, no patronymic, a
    # wrong date. (With the exotic schemes of "any_variant" on top — X for Х, French GU — three
    # faults can defeat retrieval: nothing is left to block on.)
    schema = rng.choice(list(SCHEMES.values()))
    out["combined"] = replace(
        base,
        surname=latin_typo(rng, _upper_latin(schema, record.surname)),
        given_name=_upper_latin(schema, record.given_name),
        patronymic=None,
        birth_date=out.get("swapped_date", out["day_typo"]).birth_date,
    )
    fem = feminine(record.surname)
    if fem:
        out["feminine_surname"] = replace(base, surname=fem)
        out["feminine_surname_icao"] = replace(out["icao"], surname=icao_latin(fem))
    return out


@dataclass
class Evaluation:
    total: int
    first: int
    top5: int
    misses: list[tuple[str, PersonRecord, MatchQuery, list[int]]]
    candidate_sizes: list[int]
    by_kind: dict[str, list[int]]


@pytest.fixture(scope="module")
def evaluation(registry: Registry) -> Evaluation:
    rng = random.Random(SEED + 1)
    sample = rng.sample(range(len(registry.records)), TRUE_SAMPLE)
    total = first = top5 = 0
    misses: list[tuple[str, PersonRecord, MatchQuery, list[int]]] = []
    sizes: list[int] = []
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for position in sample:
        record = registry.records[position]
        for kind, query in queries_for(rng, record).items():
            found, _, size = registry.search(query, limit=5)
            sizes.append(size)
            total += 1
            by_kind[kind][0] += 1
            if found and found[0] == position:
                first += 1
                by_kind[kind][1] += 1
            if position in found:
                top5 += 1
                by_kind[kind][2] += 1
            else:
                misses.append((kind, record, query, found))
    return Evaluation(total, first, top5, misses, sizes, dict(by_kind))


def test_right_man_first_in_95_percent(evaluation: Evaluation) -> None:
    share = evaluation.first / evaluation.total
    assert share >= 0.95, (share, {k: v for k, v in evaluation.by_kind.items()})


def test_right_man_always_in_top_5(evaluation: Evaluation) -> None:
    assert evaluation.top5 == evaluation.total, evaluation.misses[:5]


@pytest.mark.parametrize("kind", ["cyrillic", "icao", "gost_52535_tc", "mvd_310", "mvd_782",
                                  "bgn_pcgn", "wikipedia", "no_patronymic"])
def test_exact_spellings_are_always_first(evaluation: Evaluation, kind: str) -> None:
    count, first, _ = evaluation.by_kind[kind]
    assert first == count, kind


def test_candidate_sets_stay_small(evaluation: Evaluation) -> None:
    sizes = sorted(evaluation.candidate_sizes)
    assert statistics.median(sizes) < 200
    assert statistics.median(sizes) < 40  # measured ~15 for 5,000 records
    assert sizes[int(len(sizes) * 0.95)] < 150
    assert max(sizes) < 500


def test_name_only_queries_retrieve_without_date(registry: Registry) -> None:
    """No birth date: the name keys alone must find him, and not the whole surname.

    Without a date only one edit *in key space* is tolerated; a few Cyrillic typos are two
    there (КИСЧЛЁВ: СЧ reads as Щ), hence the 97 % bar for typos."""
    rng = random.Random(SEED + 2)
    sizes: list[int] = []
    typo_hits = typo_total = 0
    for position in rng.sample(range(len(registry.records)), 300):
        record = registry.records[position]
        for surname in (record.surname, icao_latin(record.surname), feminine(record.surname)):
            if surname:
                query = MatchQuery(surname=surname, given_name=record.given_name)
                positions = registry.candidates(query)
                sizes.append(len(positions))
                assert position in positions, (surname, record)
        query = MatchQuery(surname=typo(rng, record.surname), given_name=record.given_name)
        typo_total += 1
        typo_hits += position in registry.candidates(query)
    assert typo_hits / typo_total >= 0.97
    commonest = MatchQuery(surname="Иванов", given_name="Александр")
    ivanovs = sum(r.surname == "Иванов" for r in registry.records)
    assert len(registry.candidates(commonest)) < ivanovs
    assert statistics.median(sizes) < 60


# --- scores ------------------------------------------------------------------------------------

RECORD = PersonRecord(
    surname="Щербаков", given_name="Юрий", patronymic="Алексеевич", birth_date=date(1994, 3, 7),
    birth_place="г. Курск", unit="в/ч 12345", ref=1,
)


def test_perfect_match_scores_one() -> None:
    full = MatchQuery("Щербаков", "Юрий", "Алексеевич", date(1994, 3, 7), "Курск", "в/ч 12345")
    result = score_candidate(full, RECORD)
    assert result.score == 1.0
    assert result.matched_on == [
        "surname", "given_name", "patronymic", "birth_date", "birth_place", "unit",
    ]
    latin = MatchQuery("SHCHERBAKOV", "IURII", "ALEKSEEVICH", date(1994, 3, 7))
    assert score_candidate(latin, RECORD).score == 1.0
    old_passport = MatchQuery("SHCHERBAKOV", "YURIY", "ALEKSEYEVICH", date(1994, 3, 7))
    assert score_candidate(old_passport, RECORD).score == 1.0
    assert score_candidate(MatchQuery("Scherbakov", "Yury"), RECORD).score == 1.0


def test_missing_patronymic_does_not_penalise() -> None:
    assert score_candidate(MatchQuery("Щербаков", "Юрий", None, date(1994, 3, 7)), RECORD).score == 1.0
    no_patronymic = replace(RECORD, patronymic=None)
    query = MatchQuery("Щербаков", "Юрий", "Алексеевич", date(1994, 3, 7))
    assert score_candidate(query, no_patronymic).score == 1.0


def test_birth_date_tiers() -> None:
    def score(born: date) -> MatchResult:
        return score_candidate(MatchQuery("Щербаков", "Юрий", "Алексеевич", born), RECORD)

    exact, swapped, near, year, other = (
        score(date(1994, 3, 7)), score(date(1994, 7, 3)), score(date(1994, 3, 17)),
        score(date(1994, 11, 20)), score(date(1988, 11, 20)),
    )
    assert exact.score > swapped.score > near.score > year.score > other.score
    assert "birth_date_swapped" in swapped.matched_on
    assert "birth_date_near" in near.matched_on
    assert "birth_year" in year.matched_on
    assert not {"birth_date", "birth_year"} & set(other.matched_on)
    assert "birth_date_near" in score(date(1984, 3, 7)).matched_on  # one digit of the year


def test_explanations() -> None:
    result = score_candidate(MatchQuery("Щербакав", "Юрий", birth_date=date(1994, 7, 3)), RECORD)
    assert result.matched_on == ["surname_fuzzy", "given_name", "birth_date_swapped"]
    assert 0.8 < result.score < 1.0
    mother = score_candidate(MatchQuery("Щербакова", "Юрий"), RECORD)
    assert mother.matched_on == ["surname_gender_form", "given_name"]
    assert 0.95 <= mother.score < 1.0
    place = score_candidate(MatchQuery("Щербаков", "Юрий", birth_place="Kursk"), RECORD)
    assert "birth_place" in place.matched_on and place.score == 1.0
    wrong_unit = score_candidate(MatchQuery("Щербаков", "Юрий", unit="в/ч 54321"), RECORD)
    assert "unit" not in wrong_unit.matched_on and 0.9 <= wrong_unit.score < 1.0


@pytest.mark.parametrize(
    ("surname", "given"),
    [("Хабибуллин", "Рустам"), ("Петров", "Игорь"), ("SMIRNOV", "OLEG"), ("Ким", "Ли")],
)
def test_unrelated_name_scores_low(surname: str, given: str) -> None:
    # Even with every other field agreeing.
    query = MatchQuery(surname, given, "Алексеевич", date(1994, 3, 7), "Курск", "в/ч 12345")
    assert score_candidate(query, RECORD).score < 0.5


def test_unrelated_names_across_the_registry_score_low(registry: Registry) -> None:
    from rapidfuzz.distance import Levenshtein

    from services.registry.romanize import name_key

    rng = random.Random(SEED + 3)
    checked = 0
    while checked < 2000:
        a, b = rng.sample(registry.records, 2)
        if (Levenshtein.normalized_similarity(name_key(a.surname), name_key(b.surname)) > 0.5
                or Levenshtein.normalized_similarity(name_key(a.given_name), name_key(b.given_name)) > 0.5):
            continue
        query = MatchQuery(a.surname, a.given_name, b.patronymic, b.birth_date, b.birth_place, b.unit)
        assert score_candidate(query, b).score < 0.5, (a, b)
        checked += 1


def test_score_is_bounded(registry: Registry) -> None:
    rng = random.Random(SEED + 4)
    for _ in range(500):
        a, b = rng.sample(registry.records, 2)
        query = MatchQuery(a.surname, a.given_name, a.patronymic, a.birth_date, a.birth_place, a.unit)
        assert 0.0 <= score_candidate(query, b).score <= 1.0


def test_rank_orders_and_breaks_ties_stably() -> None:
    twin_a = replace(RECORD, ref="a")
    twin_b = replace(RECORD, ref="b")
    brother = replace(RECORD, given_name="Фёдор", ref="c")
    namesake = replace(RECORD, birth_date=date(1990, 1, 1), ref="d")
    query = MatchQuery("Щербаков", "Юрий", birth_date=date(1994, 3, 7))
    ranked = rank(query, [brother, twin_a, namesake, twin_b], limit=10)
    assert [r.ref for r, _ in ranked] == ["a", "b", "d", "c"]
    assert [r.ref for r, _ in rank(query, [twin_b, twin_a], limit=10)] == ["b", "a"]
    assert len(rank(query, [brother, twin_a, namesake], limit=2)) == 2
    assert rank(query, [twin_a], limit=0) == []
    assert rank(query, [brother], limit=5, min_score=0.9) == []


# --- blocking keys -----------------------------------------------------------------------------

def test_blocking_keys_are_symmetric_and_script_independent() -> None:
    born = date(1994, 3, 7)
    cyrillic = blocking_keys("Щербаков", "Юрий", born)
    assert cyrillic == blocking_keys("SHCHERBAKOV", "IURII", born)
    assert cyrillic == blocking_keys("SCHERBAKOV", "YURIY", born)
    assert cyrillic & blocking_keys("Щербакова", "Юрий", None)  # feminine, no date
    assert cyrillic & blocking_keys("Щербакав", "Юрий", None)  # typo, no date
    assert cyrillic & blocking_keys("Сщербаков", "Юрий", None)
    assert cyrillic & blocking_keys("Шербаков", "Юра", None)  # Щ/Ш confusion and a short name
    assert cyrillic & blocking_keys("Пшербакоф", "Виктор", date(1994, 7, 3))  # only the date
    assert index_keys(RECORD) == cyrillic
    assert query_keys(MatchQuery("Щербаков", "Юрий", birth_date=born)) == cyrillic


def test_blocking_keys_without_date_or_given_name() -> None:
    keys = blocking_keys("Иванов", "Иван", None)
    assert keys and all(key.startswith(("sg:", "ck:")) for key in keys)
    assert blocking_keys("Иванов", "", None) == set()
    assert all(k.startswith(("sy:", "d:")) for k in blocking_keys("Иванов", "", date(1990, 1, 2)))


def test_blocking_key_count_is_bounded() -> None:
    keys = blocking_keys("Константинопольский", "Александр", date(1990, 1, 2))
    assert len(keys) < 50
