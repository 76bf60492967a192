"""Bulk import of the prisoner registry from CSV, streamed in batches.

The file is read line by line from a byte stream (never whole), parsed with :mod:`csv` and
applied in batches: one query loads the batch's existing records by registry number, then
bulk INSERT / UPDATE and the blocking keys. Everything happens in the caller's unit of work, so
a whole-file rejection found late (bad UTF-8, broken quoting) leaves nothing behind.
"""
from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, BinaryIO

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.audit.events import record_event
from services.registry.prisoner_fields import (
    DATE_FIELDS,
    DEFAULT_STATUS,
    INPUT_FIELDS,
    REQUIRED_FIELDS,
    check_values,
    delete_keys,
    derived_values,
    insert_keys,
    key_rows,
    tidy,
)
from storage.db import session as db, utcnow
from storage.domain_errors import Conflict, PayloadTooLarge, ValidationFailed
from storage.models.prisoners import Prisoner, bulk_insert_prisoners, prepare_bulk_load

IMPORT_MAX_BYTES = 64 * 1024 * 1024
BATCH_ROWS = 1000
MAX_REPORTED_ERRORS = 1000
READ_CHUNK = 64 * 1024
# Columns of a Prisoner that the server computes: accepted in a header (a file exported from
# the API imports as it is) and ignored.
READ_ONLY_COLUMNS = frozenset(("id", "created_at", "updated_at", "surname_latin",
                               "given_name_latin", "patronymic_latin"))
KEY_FIELDS = ("surname", "given_name", "birth_date")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
_BOM = "\ufeff"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    dry_run: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_truncated: bool = False

    def error(self, line: int, field_name: str | None, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"line": line, "field": field_name, "message": message})
        else:
            self.errors_truncated = True


class _CappedReader(io.RawIOBase):
    """A byte stream that refuses to be read past ``limit`` bytes (413)."""

    def __init__(self, source: BinaryIO, limit: int | None) -> None:
        self._source, self._limit, self._count = source, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        if self._limit is not None:
            want = min(want, self._limit - self._count + 1)
        data = self._source.read(want)
        self._count += len(data)
        if self._limit is not None and self._count > self._limit:
            raise PayloadTooLarge()
        buffer[: len(data)] = data
        return len(data)


def _lines(stream: BinaryIO, limit: int | None) -> Iterator[str]:
    """Physical lines as text; UTF-8 (a BOM is allowed) or the whole file is refused."""
    raw = io.BufferedReader(_CappedReader(stream, limit), READ_CHUNK)
    number = 0
    for chunk in iter(raw.readline, b""):
        number += 1
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed(errors={"file": [
                f"Line {number} is not UTF-8 text; save the file as UTF-8 (CSV UTF-8)."]}) from None
        yield text[1:] if number == 1 and text.startswith(_BOM) else text


def _read_header(reader: Any) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        header = []
    columns = [tidy(name) for name in header]
    problems = []
    unknown = [c for c in columns if c not in INPUT_FIELDS and c not in READ_ONLY_COLUMNS]
    if unknown:
        problems.append("Unknown columns: " + ", ".join(sorted(set(unknown))[:20]) + ".")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        problems.append("Repeated columns: " + ", ".join(repeated[:20]) + ".")
    missing = [c for c in REQUIRED_FIELDS if c not in columns]
    if missing:
        problems.append("Missing required columns: " + ", ".join(missing) + ".")
    if problems:
        raise ValidationFailed(errors={"header": problems})
    return columns


def _parse_row(columns: list[str], cells: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, cell in zip(columns, cells, strict=True):
        if name in READ_ONLY_COLUMNS:
            continue
        text = tidy(cell)
        if not text:
            if name in REQUIRED_FIELDS:
                errors[name] = "Missing data for required field."
            values[name] = DEFAULT_STATUS if name == "status" else None
        elif name in DATE_FIELDS:
            try:
                if not _DATE_RE.match(text):
                    raise ValueError
                values[name] = date.fromisoformat(text)
            except ValueError:
                errors[name] = "Not a valid date (YYYY-MM-DD)."
        else:
            values[name] = text
    checked = {k: v for k, v in values.items() if k not in errors}
    for name, messages in check_values(checked).items():
        errors.setdefault(name, messages[0])
    return values, errors


class _Importer:
    def __init__(self, columns: list[str], dry_run: bool, report: ImportReport) -> None:
        self.fields = [c for c in columns if c in INPUT_FIELDS]
        self.dry_run = dry_run
        self.report = report
        self.seen: dict[str, int] = {}
        self.batch: list[dict[str, Any]] = []

    def add(self, line: int, values: dict[str, Any]) -> None:
        number = values["registry_number"]
        first = self.seen.get(number)
        if first is not None:
            self.report.error(line, "registry_number", f"Repeats line {first} of this file.")
            self.report.skipped += 1
            return
        self.seen[number] = line
        self.batch.append(values)
        if len(self.batch) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        existing = {row.registry_number: row for row in db().execute(
            select(Prisoner.id, *[getattr(Prisoner, f) for f in INPUT_FIELDS])
            .where(Prisoner.registry_number.in_([v["registry_number"] for v in batch])))}
        now = utcnow()
        creates: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        reindex: list[uuid.UUID] = []
        keys: list[tuple[uuid.UUID, str]] = []
        for values in batch:
            current = existing.get(values["registry_number"])
            if current is None:
                row = {f: None for f in INPUT_FIELDS} | {"status": DEFAULT_STATUS} | values
                row |= derived_values(row) | {"id": uuid.uuid4(), "created_at": now,
                                              "updated_at": now}
                creates.append(row)
                keys += key_rows(row["id"], row)
                continue
            changed = {f: v for f, v in values.items() if getattr(current, f) != v}
            if not changed:
                self.report.unchanged += 1
                continue
            updates.append({"id": current.id, **changed, **derived_values(changed),
                            "updated_at": now})
            if changed.keys() & set(KEY_FIELDS):
                reindex.append(current.id)
                keys += key_rows(current.id, {f: changed.get(f, getattr(current, f))
                                              for f in KEY_FIELDS})
        self.report.created += len(creates)
        self.report.updated += len(updates)
        if not self.dry_run:
            self._write(creates, updates, reindex, keys)

    @staticmethod
    def _write(creates: list[dict[str, Any]], updates: list[dict[str, Any]],
               reindex: list[uuid.UUID], keys: list[tuple[uuid.UUID, str]]) -> None:
        try:
            bulk_insert_prisoners(db().connection(), creates)
            if updates:
                db().execute(update(Prisoner), updates)
        except IntegrityError:  # a registry number taken meanwhile by another writer
            raise Conflict(errors={"registry_number": [
                "A registry number in the file was taken meanwhile; import again."]}) from None
        delete_keys(reindex)
        insert_keys(keys)


def import_prisoners(stream: BinaryIO, *, actor: Any, dry_run: bool = False,
                     max_bytes: int | None = IMPORT_MAX_BYTES) -> ImportReport:
    """Create or update registry records from a CSV byte stream, keyed on registry_number.

    Whole-file refusals (400): a header with unknown, repeated or missing required columns;
    text that is not UTF-8; text that is not well-formed CSV. Otherwise each bad row is reported
    (line, field, message — the header being line 1) and skipped, and the good rows are kept.
    A column absent from the file leaves that field as it is; an empty cell clears it (status:
    back to ``held``). ``dry_run`` validates and counts and writes nothing.
    """
    report = ImportReport(dry_run=dry_run)
    prepare_bulk_load(db().connection())
    reader = csv.reader(_lines(stream, max_bytes), strict=True)
    try:
        columns = _read_header(reader)
        importer = _Importer(columns, dry_run, report)
        last_line = reader.line_num
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not cells:
                continue
            if len(cells) != len(columns):
                report.error(line, None, f"Expected {len(columns)} cells, found {len(cells)}.")
                report.skipped += 1
                continue
            values, errors = _parse_row(columns, cells)
            if errors:
                for name, message in errors.items():
                    report.error(line, name, message)
                report.skipped += 1
                continue
            importer.add(line, values)
        importer.flush()
    except csv.Error:
        raise ValidationFailed(errors={"file": [
            f"Line {max(reader.line_num, 1)} is not well-formed CSV (a stray quote, a NUL byte "
            "or a cell over 128 KiB)."]}) from None
    record_event("prisoner.import", actor, subject_type="prisoner",
                 reason=(f"{'dry run: ' if dry_run else ''}created {report.created}, updated "
                         f"{report.updated}, unchanged {report.unchanged}, skipped "
                         f"{report.skipped}"))
    return report
