from __future__ import annotations

from datetime import date

import pytest

from services.cases.states import ACTIONS, CLOSED, TRANSITIONS
from services.documents.mrz import parse_mrz
from services.registry.name_comparison import (
    compare_given_names,
    compare_names,
    compare_surnames,
    person_in_text,
)

ICAO_TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
ICAO_TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<\n"
            "7408122F1204159UTO<<<<<<<<<<<6\n"
            "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
ICAO_TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n"
            "D231458907UTO7408122F1204159<<<<<<<6")


@pytest.mark.parametrize("mrz", [ICAO_TD3, ICAO_TD1, ICAO_TD2])
def test_icao_specimens_are_valid(mrz):
    parsed = parse_mrz(mrz, today=date(2026, 1, 1))
    assert parsed.valid, parsed.errors
    assert parsed.surname == "ERIKSSON" and parsed.given_names == "ANNA MARIA"


def test_names_compare_across_scripts_and_schemes():
    assert compare_names("Мария", "MARIIA") == "same"
    assert compare_names("Мария", "MARIYA") == "same"
    assert compare_names("Юрий", "IURII") == "same"
    assert compare_names("Иванова", "IVANOVA") == "same"
    assert compare_names("Иванова", "IVANOVO") == "close"
    assert compare_names("Иванова", "PETROVA") == "different"
    assert compare_names("", "IVANOVA") == "different"
    assert compare_given_names("Anna", "ANNA MARIA") == "same"
    assert compare_surnames("Иванов", "Иванова", any_gender=True) == "same"
    assert compare_surnames("Иванов", "Иванова", any_gender=False) != "same"


def test_person_in_free_text():
    mother = {"surname": "Иванова", "given_name": "Мария", "patronymic": "Петровна"}
    assert person_in_text("Иванова Мария Петровна", mother) == "same"
    assert person_in_text("IVANOVA MARIIA PETROVNA", mother) == "same"
    assert person_in_text("Мария Петровна Иванова", mother) == "same"
    assert person_in_text("Смирнова Мария Петровна", mother) == "surname_differs"
    assert person_in_text("Петренко Ольга Ивановна", mother) == "different"
    assert person_in_text("Иванова Мария Олеговна", mother) == "different"
    assert person_in_text(None, mother) == "different"


def test_status_machine_is_the_contracts():
    assert TRANSITIONS["draft"] == {"submitted", "withdrawn"}
    assert TRANSITIONS["submitted"] == {"in_review", "withdrawn"}
    assert TRANSITIONS["info_requested"] == {"submitted", "withdrawn"}
    assert TRANSITIONS["approval_pending"] >= {"approved", "rejected", "info_requested"}
    assert TRANSITIONS["approved"] == {"completed", "withdrawn"}
    for closed in CLOSED:
        assert TRANSITIONS[closed] == frozenset()
    assert ACTIONS["withdraw"] == set(TRANSITIONS) - CLOSED
    assert ACTIONS["edit"] == {"draft", "info_requested"}
    targets = {t for nxt in TRANSITIONS.values() for t in nxt}
    assert targets | {"draft"} == set(TRANSITIONS)
