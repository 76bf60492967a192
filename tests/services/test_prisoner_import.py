"""import_prisoners on raw byte streams: the byte cap holds however the body arrives."""
from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import func, insert, select

from services.audit.events import SYSTEM
from services.registry import prisoner_import
from services.registry.prisoner_import import import_prisoners
from storage.db import session as db
from storage.domain_errors import Conflict, PayloadTooLarge, ValidationFailed
from storage.models import Prisoner

HEADER = b"registry_number,surname,given_name,birth_date\n"


class Trickle(io.RawIOBase):
    """A body of unknown length that arrives a few bytes at a time (chunked upload)."""

    def __init__(self, data: bytes) -> None:
        self._data, self.served = data, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._data[self.served:self.served + min(size if size > 0 else 7, 7)]
        self.served += len(chunk)
        return chunk


def _count() -> int:
    return db().execute(select(func.count()).select_from(Prisoner)).scalar_one()


def test_stream_past_the_cap_is_refused_without_reading_it_all(app):
    body = HEADER + b"R1,Ivanov,Ivan,1990-01-01\n" * 100_000
    stream = Trickle(body)
    with pytest.raises(PayloadTooLarge):
        import_prisoners(stream, actor=SYSTEM, max_bytes=10_000)
    assert stream.served <= 10_000 + 1 + 64 * 1024
    db.rollback()
    assert _count() == 0


def test_trickled_stream_within_the_cap_imports(app):
    body = HEADER + "R1,Щербаков,Юрий,1990-03-05\nR2,Иванов,Иван,1991-01-01\n".encode()
    report = import_prisoners(Trickle(body), actor=SYSTEM, max_bytes=len(body))
    assert (report.created, report.skipped) == (2, 0)
    assert _count() == 2


def test_utf16_is_refused_as_not_utf8(app):
    body = (HEADER.decode() + "R1,Щербаков,Юрий,1990-03-05\n").encode("utf-16")
    with pytest.raises(ValidationFailed) as caught:
        import_prisoners(io.BytesIO(body), actor=SYSTEM)
    assert "UTF-8" in caught.value.errors["file"][0]


def test_registry_number_taken_meanwhile_is_a_conflict_and_imports_nothing(app, monkeypatch):
    """Another writer takes a number between a batch's look-up and its bulk insert (COPY on
    PostgreSQL): the whole import is refused, not half written."""
    write = prisoner_import._Importer._write

    def racing(creates, *rest):
        db().execute(insert(Prisoner.__table__), [{**creates[-1], "id": uuid.uuid4()}])
        write(creates, *rest)

    monkeypatch.setattr(prisoner_import._Importer, "_write", staticmethod(racing))
    body = HEADER + "R1,Щербаков,Юрий,1990-03-05\nR2,Иванов,Иван,1991-01-01\n".encode()
    with pytest.raises(Conflict) as caught:
        import_prisoners(io.BytesIO(body), actor=SYSTEM)
    assert "meanwhile" in caught.value.errors["registry_number"][0]
    db.rollback()
    assert _count() == 0
