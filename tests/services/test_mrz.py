"""ICAO Doc 9303 MRZ parsing: the specimens, check digits per field, malformed input."""
from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from services.documents.mrz import Mrz, MrzError, check_digit, parse_mrz

TODAY = date(2025, 6, 1)

# ICAO Doc 9303 specimens (Part 4 TD3, Part 5 TD1, Part 6 TD2).
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")


def parse(lines: tuple[str, ...] | list[str]) -> Mrz:
    return parse_mrz("\n".join(lines), today=TODAY)


def replace(line: str, index: int, char: str) -> str:
    return line[:index] + char + line[index + 1:]


def wrong_digit(line: str, index: int) -> str:
    return replace(line, index, str((int(line[index]) + 1) % 10))


# --- check digits, computed by hand from the 7-3-1 rule ------------------------------------

def test_check_digit_by_hand() -> None:
    # L898902C3: L=21 8 9 8 9 0 2 C=12 3, weights 7 3 1 7 3 1 7 3 1
    assert (21 * 7 + 8 * 3 + 9 + 8 * 7 + 9 * 3 + 0 + 2 * 7 + 12 * 3 + 3) % 10 == 6
    assert check_digit("L898902C3") == 6
    assert check_digit("740812") == (7 * 7 + 4 * 3 + 0 + 8 * 7 + 1 * 3 + 2) % 10 == 2
    assert check_digit("120415") == (1 * 7 + 2 * 3 + 0 + 4 * 7 + 1 * 3 + 5) % 10 == 9
    assert check_digit("D23145890") == 7
    assert check_digit("ZE184226B<<<<<") == 1
    assert check_digit("<<<<") == 0
    composite = "L898902C36" + "7408122" + "1204159ZE184226B<<<<<1"
    assert check_digit(composite) == 0
    assert check_digit("D23145890" + "7" + "<" * 15 + "7408122" + "1204159" + "<" * 11) == 6


# --- specimens -------------------------------------------------------------------------------

def test_td3_specimen() -> None:
    mrz = parse(TD3)
    assert mrz.valid, mrz.errors
    assert mrz.format == "TD3"
    assert (mrz.document_code, mrz.issuing_state, mrz.nationality) == ("P", "UTO", "UTO")
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.document_number == "L898902C3"
    assert mrz.birth_date == date(1974, 8, 12)
    assert mrz.expiry_date == date(2012, 4, 15)
    assert mrz.sex == "F"
    assert mrz.optional_data == "ZE184226B"
    assert mrz.checks == {
        "document_number": True, "birth_date": True, "expiry_date": True,
        "optional_data": True, "composite": True,
    }
    assert mrz.lines == TD3


def test_td1_specimen() -> None:
    mrz = parse(TD1)
    assert mrz.valid, mrz.errors
    assert mrz.format == "TD1"
    assert (mrz.document_code, mrz.issuing_state, mrz.nationality) == ("I", "UTO", "UTO")
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.document_number == "D23145890"
    assert (mrz.birth_date, mrz.expiry_date, mrz.sex) == (date(1974, 8, 12), date(2012, 4, 15), "F")
    assert set(mrz.checks) == {"document_number", "birth_date", "expiry_date", "composite"}
    assert all(mrz.checks.values())


def test_td2_specimen() -> None:
    mrz = parse(TD2)
    assert mrz.valid, mrz.errors
    assert mrz.format == "TD2"
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.document_number == "D23145890"
    assert (mrz.birth_date, mrz.expiry_date, mrz.sex) == (date(1974, 8, 12), date(2012, 4, 15), "F")
    assert all(mrz.checks.values())


@pytest.mark.parametrize(
    "text",
    [
        "\r\n".join(TD3),
        "\r".join(TD3),
        "\n\n  " + "\n   ".join(TD3) + "  \n\n",
        "".join(TD3),  # one line of 88
        "".join(TD1),
        "".join(TD2),
    ],
)
def test_tolerated_layouts(text: str) -> None:
    assert parse_mrz(text, today=TODAY).valid


def build_td3(
    names: str = "ERIKSSON<<ANNA<MARIA",
    *,
    number: str = "L898902C3",
    birth: str = "740812",
    sex: str = "F",
    expiry: str = "120415",
    personal: str = "ZE184226B",
    state: str = "UTO",
) -> tuple[str, str]:
    """A TD3 MRZ with every check digit computed."""
    line1 = f"P<{state}{names}".ljust(44, "<")
    personal = personal.ljust(14, "<")
    body = (
        number.ljust(9, "<") + str(check_digit(number.ljust(9, "<"))) + state
        + birth + str(check_digit(birth)) + sex + expiry + str(check_digit(expiry))
        + personal + str(check_digit(personal))
    )
    return line1, body + str(check_digit(body[0:10] + body[13:20] + body[21:43]))


def test_builder_reproduces_specimen() -> None:
    assert build_td3() == TD3


def test_russian_passport() -> None:
    mrz = parse(build_td3("IVANOVA<<MARIIA", number="751234567", birth="680315", expiry="300101",
                          personal="", state="RUS"))
    assert mrz.valid, mrz.errors
    assert (mrz.surname, mrz.given_names) == ("IVANOVA", "MARIIA")
    assert (mrz.issuing_state, mrz.nationality) == ("RUS", "RUS")
    assert mrz.birth_date == date(1968, 3, 15)
    assert mrz.expiry_date == date(2030, 1, 1)
    assert mrz.optional_data == ""
    assert mrz.checks["optional_data"] is True


def test_personal_number_filler_check_digit() -> None:
    line1, line2 = build_td3(personal="")
    assert line2[42] == "0"
    with_filler = replace(line2, 42, "<")  # "<" is allowed when the personal number is empty
    assert parse((line1, with_filler)).checks["optional_data"] is True


# --- wrong check digits name their field --------------------------------------------------------

@pytest.mark.parametrize(
    ("lines", "line", "index", "field"),
    [
        (TD3, 1, 9, "document_number"),
        (TD3, 1, 19, "birth_date"),
        (TD3, 1, 27, "expiry_date"),
        (TD3, 1, 42, "optional_data"),
        (TD3, 1, 43, "composite"),
        (TD1, 0, 14, "document_number"),
        (TD1, 1, 6, "birth_date"),
        (TD1, 1, 14, "expiry_date"),
        (TD1, 1, 29, "composite"),
        (TD2, 1, 9, "document_number"),
        (TD2, 1, 19, "birth_date"),
        (TD2, 1, 27, "expiry_date"),
        (TD2, 1, 35, "composite"),
    ],
)
def test_wrong_check_digit_names_the_field(
    lines: tuple[str, ...], line: int, index: int, field: str
) -> None:
    broken = list(lines)
    broken[line] = wrong_digit(broken[line], index)
    mrz = parse(broken)
    assert not mrz.valid
    assert mrz.checks[field] is False
    # The composite digit covers the field check digits too, so it fails along with them.
    failed = {name for name, ok in mrz.checks.items() if not ok}
    assert failed in ({field}, {field, "composite"})
    assert any(error.startswith(f"{field}:") for error in mrz.errors)


@pytest.mark.parametrize(
    ("lines", "line", "index", "fields"),
    [
        # A changed data character breaks its field's check digit and the composite.
        (TD3, 1, 3, {"document_number", "composite"}),
        (TD3, 1, 15, {"birth_date", "composite"}),
        (TD3, 1, 24, {"expiry_date", "composite"}),
        (TD1, 1, 2, {"birth_date", "composite"}),
        (TD2, 1, 23, {"expiry_date", "composite"}),
    ],
)
def test_tampered_data_is_caught(
    lines: tuple[str, ...], line: int, index: int, fields: set[str]
) -> None:
    broken = list(lines)
    broken[line] = wrong_digit(broken[line], index)
    mrz = parse(broken)
    assert not mrz.valid
    assert {name for name, ok in mrz.checks.items() if not ok} == fields


def test_non_digit_check_position() -> None:
    broken = list(TD3)
    broken[1] = replace(broken[1], 19, "A")
    mrz = parse(broken)
    assert not mrz.valid and "birth_date: check digit 'A' is not a digit" in mrz.errors


def test_invalid_date_and_sex_are_errors_not_exceptions() -> None:
    mrz = parse(build_td3(birth="741332", sex="Q", expiry="12AB15"))
    assert not mrz.valid
    assert mrz.birth_date is None and mrz.expiry_date is None
    assert "birth_date: 741332 is not a valid date" in mrz.errors
    assert "expiry_date: '12AB15' is not a YYMMDD date" in mrz.errors
    assert any(error.startswith("sex:") for error in mrz.errors)
    assert all(mrz.checks.values())


def test_unspecified_sex_and_empty_given_names() -> None:
    mrz = parse(build_td3("ERIKSSON", sex="<"))
    assert mrz.valid, mrz.errors
    assert (mrz.surname, mrz.given_names, mrz.sex) == ("ERIKSSON", "", "X")


def test_bad_codes_are_errors() -> None:
    mrz = parse(build_td3(state="U1O"))
    assert not mrz.valid
    assert any(error.startswith("issuing_state:") for error in mrz.errors)
    assert any(error.startswith("nationality:") for error in mrz.errors)


# --- dates --------------------------------------------------------------------------------------

def test_expiry_and_is_expired() -> None:
    mrz = parse(TD3)
    assert mrz.is_expired(TODAY)
    assert not mrz.is_expired(date(2012, 4, 15))
    assert mrz.is_expired(date(2012, 4, 16))


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        ("250531", date(2025, 5, 31)),  # yesterday: this century
        ("250602", date(1925, 6, 2)),  # tomorrow in 2025 is not a birth date: 1925
        ("000101", date(2000, 1, 1)),
        ("260101", date(1926, 1, 1)),
        ("991231", date(1999, 12, 31)),
    ],
)
def test_birth_century(birth: str, expected: date) -> None:
    mrz = parse(build_td3(birth=birth, expiry="300101"))
    assert mrz.valid, mrz.errors
    assert mrz.birth_date == expected


def test_expiry_always_this_century() -> None:
    assert parse(build_td3(birth="900101", expiry="991231")).expiry_date == date(2099, 12, 31)
    assert parse(build_td3(birth="900101", expiry="050101")).expiry_date == date(2005, 1, 1)


def test_td1_long_document_number() -> None:
    # ICAO 9303 Part 5: a 12-character number, the rest in the optional data with its digit.
    number = "D23145890123"
    digit = str(check_digit(number))
    line1 = ("I<UTO" + number[:9] + "<" + number[9:] + digit + "<" * 30)[:30]
    line2_body = "7408122F1204159UTO<<<<<<<<<<<"
    composite = str(check_digit(line1[5:30] + line2_body[0:7] + line2_body[8:15] + line2_body[18:29]))
    mrz = parse((line1, line2_body + composite, TD1[2]))
    assert mrz.valid, mrz.errors
    assert mrz.document_number == number
    assert mrz.optional_data == ""


# --- malformed input --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n \r\n", "empty"),
        (TD3[0], "1 line(s)"),
        (TD3[0] + "\n" + TD3[1][:-1], "44+43"),
        ("\n".join((*TD3, TD3[1])), "3 line(s)"),
        ("\n".join((TD1[0], TD1[1])), "2 line(s)"),
        ("\n".join((TD3[0].lower(), TD3[1])), "lower case"),
        ("\n".join((TD3[0].replace("<", " ", 1), TD3[1])), "' '"),
        ("\n".join((TD3[0], TD3[1].replace("<", "«"))), "'«'"),
    ],
)
def test_malformed_raises_mrz_error(text: str, message: str) -> None:
    with pytest.raises(MrzError, match=re.escape(message)):
        parse_mrz(text, today=TODAY)


def test_mrz_error_is_value_error() -> None:
    assert issubclass(MrzError, ValueError)
    with pytest.raises(ValueError):
        parse_mrz(None)  # type: ignore[arg-type]


MRZ_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(max_size=120))
def test_random_text_only_raises_mrz_error(text: str) -> None:
    try:
        parse_mrz(text, today=TODAY)
    except MrzError:
        pass


@settings(max_examples=500, deadline=None, derandomize=True)
@given(
    st.sampled_from([(3, 30), (2, 36), (2, 44)]).flatmap(
        lambda shape: st.lists(
            st.text(alphabet=MRZ_CHARS, min_size=shape[1], max_size=shape[1]),
            min_size=shape[0],
            max_size=shape[0],
        )
    )
)
def test_random_well_formed_lines_parse(lines: list[str]) -> None:
    mrz = parse_mrz("\n".join(lines), today=TODAY)
    assert mrz.valid == (not mrz.errors)
    assert mrz.valid <= all(mrz.checks.values())


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from([TD1, TD2, TD3]), st.data())
def test_random_corruption_of_specimens(lines: tuple[str, ...], data: st.DataObject) -> None:
    line = data.draw(st.integers(0, len(lines) - 1))
    index = data.draw(st.integers(0, len(lines[line]) - 1))
    char = data.draw(st.sampled_from(MRZ_CHARS + "a é\t"))
    broken = list(lines)
    broken[line] = replace(broken[line], index, char)
    try:
        mrz = parse_mrz("\n".join(broken), today=TODAY)
    except MrzError:
        return
    assert isinstance(mrz, Mrz)
