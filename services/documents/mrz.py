"""ICAO Doc 9303 machine readable zones: TD1 (3 × 30), TD2 (2 × 36) and TD3 (2 × 44).

:func:`parse_mrz` splits the lines into fields and verifies every check digit (weights 7-3-1;
``<`` = 0, ``0``-``9`` = 0-9, ``A``-``Z`` = 10-35). Input that is not an MRZ at all — wrong line
count or length, characters outside ``A-Z 0-9 <`` — raises :class:`MrzError`; an MRZ with the
right shape whose contents are wrong (check digits, dates, sex) parses into an :class:`Mrz` with
``valid = False`` and one message per problem in ``errors``, each starting with the field name.

Input: line breaks LF, CRLF or CR; whitespace around lines and blank lines are ignored; a
single line of exactly 90, 72 or 88 characters is read as the TD1, TD2 or TD3 lines run
together. Lower-case letters are rejected rather than upper-cased: the MRZ alphabet has none,
so they mean the text was retyped or mangled, and the check digits do not cover the names.

Two-digit years: a birth year is the latest one not in the future (``today``); an expiry year
is always 20YY.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

__all__ = ["Mrz", "MrzError", "check_digit", "parse_mrz"]

_FORMATS: dict[tuple[int, int], str] = {(3, 30): "TD1", (2, 36): "TD2", (2, 44): "TD3"}
_RUN_TOGETHER = {90: (3, 30), 72: (2, 36), 88: (2, 44)}
_ALPHABET_RE = re.compile(r"[A-Z0-9<]*")
_WEIGHTS = (7, 3, 1)


class MrzError(ValueError):
    """The text is not a machine readable zone of a known format."""


@dataclass(frozen=True, slots=True)
class Mrz:
    """A parsed MRZ. ``checks`` maps each check-digit-protected field (``document_number``,
    ``birth_date``, ``expiry_date``, ``optional_data`` for TD3's personal number, ``composite``)
    to whether its check digit is right."""

    format: str
    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: date | None
    sex: str  # "M", "F" or "X" (unspecified, "<")
    expiry_date: date | None
    optional_data: str
    optional_data_2: str  # TD1 line 2 only; "" elsewhere
    checks: dict[str, bool]
    valid: bool
    errors: list[str] = field(default_factory=list)
    lines: tuple[str, ...] = ()

    def is_expired(self, on: date) -> bool:
        """True when the document expired before ``on``; an unreadable expiry counts as expired."""
        return self.expiry_date is None or self.expiry_date < on


def _char_value(ch: str) -> int:
    if ch == "<":
        return 0
    if "0" <= ch <= "9":
        return ord(ch) - ord("0")
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    raise MrzError(f"character {ch!r} is not in the MRZ alphabet")


def check_digit(data: str) -> int:
    """ICAO 9303 check digit of ``data`` (weights 7, 3, 1 repeating, sum modulo 10)."""
    return sum(_char_value(ch) * _WEIGHTS[i % 3] for i, ch in enumerate(data)) % 10


def _split_lines(text: str) -> list[str]:
    if not isinstance(text, str):
        raise MrzError("MRZ must be text")
    lines = [line.strip() for line in re.split(r"\r\n|\r|\n", text)]
    lines = [line for line in lines if line]
    if len(lines) == 1 and len(lines[0]) in _RUN_TOGETHER:
        count, width = _RUN_TOGETHER[len(lines[0])]
        lines = [lines[0][i * width:(i + 1) * width] for i in range(count)]
    if not lines:
        raise MrzError("MRZ is empty")
    for number, line in enumerate(lines, start=1):
        if not _ALPHABET_RE.fullmatch(line):
            bad = next(ch for ch in line if not ("A" <= ch <= "Z" or "0" <= ch <= "9" or ch == "<"))
            hint = " (lower case is not allowed)" if bad.islower() else ""
            raise MrzError(f"line {number} contains {bad!r}: only A-Z, 0-9 and < are allowed{hint}")
    widths = {len(line) for line in lines}
    shape = (len(lines), len(lines[0]))
    if len(widths) != 1 or shape not in _FORMATS:
        lengths = "+".join(str(len(line)) for line in lines)
        raise MrzError(
            f"not an MRZ: {len(lines)} line(s) of {lengths} characters; expected 3×30 (TD1), "
            "2×36 (TD2) or 2×44 (TD3)"
        )
    return lines


@dataclass(frozen=True, slots=True)
class _Fields:
    """Raw fields cut out of the lines of one format."""

    document_code: str
    issuing_state: str
    document_number: str
    optional_data: str
    optional_data_2: str
    birth: str
    sex: str
    expiry: str
    nationality: str
    surname: str
    given_names: str


class _Reader:
    """Collects field values, check results and errors while a format is parsed."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.checks: dict[str, bool] = {}
        self.errors: list[str] = []

    def check(self, name: str, data: str, digit: str, *, filler_ok: bool = False) -> None:
        if filler_ok and digit == "<" and set(data) <= {"<"}:
            self.checks[name] = True
            return
        if not digit.isdigit():
            self.checks[name] = False
            self.errors.append(f"{name}: check digit {digit!r} is not a digit")
            return
        expected = check_digit(data)
        ok = expected == int(digit)
        self.checks[name] = ok
        if not ok:
            self.errors.append(f"{name}: check digit is {digit}, computed {expected}")

    def date(self, name: str, raw: str, *, birth: bool) -> date | None:
        if not raw.isdigit():
            if set(raw) != {"<"}:  # all fillers: unknown, not an error of the MRZ
                self.errors.append(f"{name}: {raw!r} is not a YYMMDD date")
            return None
        yy, mm, dd = int(raw[:2]), int(raw[2:4]), int(raw[4:6])
        try:
            if birth:
                value = date(2000 + yy, mm, dd)
                if value > self.today:
                    value = date(1900 + yy, mm, dd)
                return value
            return date(2000 + yy, mm, dd)
        except ValueError:
            self.errors.append(f"{name}: {raw} is not a valid date")
            return None

    def sex(self, raw: str) -> str:
        if raw in ("M", "F", "X"):
            return raw
        if raw == "<":
            return "X"
        self.errors.append(f"sex: {raw!r} is not M, F, X or <")
        return "X"

    def code(self, name: str, raw: str, *, letters: int) -> str:
        value = raw.rstrip("<")
        if not re.fullmatch(rf"[A-Z][A-Z<]{{{letters - 1}}}", raw):
            self.errors.append(f"{name}: {raw!r} is not a valid code")
        return value


def _names(field_text: str) -> tuple[str, str]:
    surname, _, given = field_text.rstrip("<").partition("<<")
    return _tidy(surname), _tidy(given)


def _tidy(value: str) -> str:
    return " ".join(part for part in value.split("<") if part)


def _long_number(number: str, digit: str, optional: str) -> tuple[str, str, str, str]:
    """ICAO 9303 long document numbers (TD1/TD2): the check-digit position holds ``<`` and the
    number continues in the optional data, its last character there being the check digit.
    Returns (document number, its check digit, data it covers, remaining optional data)."""
    if digit != "<" or number.endswith("<"):
        return number.rstrip("<"), digit, number, optional
    rest = optional.split("<", 1)[0]
    if len(rest) < 2:
        return number.rstrip("<"), digit, number, optional
    full = number + rest[:-1]
    return full, rest[-1], full, optional[len(rest):]


def _td1(lines: list[str], r: _Reader) -> _Fields:
    l1, l2, l3 = lines
    number, digit, covered, optional1 = _long_number(l1[5:14], l1[14], l1[15:30])
    r.check("document_number", covered, digit)
    r.check("birth_date", l2[0:6], l2[6])
    r.check("expiry_date", l2[8:14], l2[14])
    r.check("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    surname, given = _names(l3)
    return _Fields(
        document_code=l1[0:2], issuing_state=l1[2:5], document_number=number,
        optional_data=optional1.strip("<"), optional_data_2=l2[18:29].strip("<"), birth=l2[0:6],
        sex=l2[7], expiry=l2[8:14], nationality=l2[15:18], surname=surname, given_names=given,
    )


def _td2(lines: list[str], r: _Reader) -> _Fields:
    l1, l2 = lines
    number, digit, covered, optional = _long_number(l2[0:9], l2[9], l2[28:35])
    r.check("document_number", covered, digit)
    r.check("birth_date", l2[13:19], l2[19])
    r.check("expiry_date", l2[21:27], l2[27])
    r.check("composite", l2[0:10] + l2[13:20] + l2[21:35], l2[35])
    surname, given = _names(l1[5:36])
    return _Fields(
        document_code=l1[0:2], issuing_state=l1[2:5], document_number=number,
        optional_data=optional.strip("<"), optional_data_2="", birth=l2[13:19], sex=l2[20],
        expiry=l2[21:27], nationality=l2[10:13], surname=surname, given_names=given,
    )


def _td3(lines: list[str], r: _Reader) -> _Fields:
    l1, l2 = lines
    r.check("document_number", l2[0:9], l2[9])
    r.check("birth_date", l2[13:19], l2[19])
    r.check("expiry_date", l2[21:27], l2[27])
    r.check("optional_data", l2[28:42], l2[42], filler_ok=True)
    r.check("composite", l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    surname, given = _names(l1[5:44])
    return _Fields(
        document_code=l1[0:2], issuing_state=l1[2:5], document_number=l2[0:9].rstrip("<"),
        optional_data=l2[28:42].strip("<"), optional_data_2="", birth=l2[13:19], sex=l2[20],
        expiry=l2[21:27], nationality=l2[10:13], surname=surname, given_names=given,
    )


_PARSERS = {"TD1": _td1, "TD2": _td2, "TD3": _td3}


def parse_mrz(text: str, *, today: date | None = None) -> Mrz:
    """Parse and verify a TD1, TD2 or TD3 MRZ; raises :class:`MrzError` if ``text`` is not one.

    ``today`` (default: the current date) resolves two-digit birth years.
    """
    lines = _split_lines(text)
    fmt = _FORMATS[(len(lines), len(lines[0]))]
    reader = _Reader(today or date.today())
    fields = _PARSERS[fmt](lines, reader)
    document_code = reader.code("document_code", fields.document_code, letters=2)
    issuing_state = reader.code("issuing_state", fields.issuing_state, letters=3)
    nationality = reader.code("nationality", fields.nationality, letters=3)
    birth_date = reader.date("birth_date", fields.birth, birth=True)
    expiry_date = reader.date("expiry_date", fields.expiry, birth=False)
    sex = reader.sex(fields.sex)
    if not fields.surname:
        reader.errors.append("surname: the name field holds no surname")
    return Mrz(
        format=fmt,
        document_code=document_code,
        issuing_state=issuing_state,
        surname=fields.surname,
        given_names=fields.given_names,
        document_number=fields.document_number,
        nationality=nationality,
        birth_date=birth_date,
        sex=sex,
        expiry_date=expiry_date,
        optional_data=fields.optional_data,
        optional_data_2=fields.optional_data_2,
        checks=dict(reader.checks),
        valid=not reader.errors,
        errors=list(reader.errors),
        lines=tuple(lines),
    )
