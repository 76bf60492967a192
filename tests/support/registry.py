"""A generated prisoner registry and the queries a relative would type for its records.

Shared by the matching tests and `bench/registry.py`: the same seed gives the same registry."""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property

import iuliia

from services.registry.matching import (
    MatchQuery,
    MatchResult,
    PersonRecord,
    index_keys,
    query_keys,
    rank,
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
