"""A document's declared MRZ and fields are sealed at rest under a key of its own, read
through one accessor, and crypto-shredded with the document."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from services.core import runtime
from services.documents.metadata import DocumentMetadata, document_metadata, seal_metadata
from storage.db import session as db
from storage.domain_errors import InvalidCiphertext
from storage.models.cases import Document
from tests.support.documents import declare, document_row, jpeg, open_case
from tests.support.http import bearer

MRZ = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
FIELDS = {"document_number": "4512 345678", "surname": "Иванова", "given_name": "Мария",
          "patronymic": "Петровна", "birth_date": "1971-04-02"}
SECRETS = ["ERIKSSON", "L898902C3", "ANNA<MARIA", "4512", "345678", "Иванова", "Мария",
           "Петровна", "1971-04-02"]


@pytest.fixture
def relative(register_relative):
    return register_relative()[2]["access_token"]


def _declared(client, token: str) -> tuple[str, str]:
    case_id = open_case(client, token)
    passport = declare(client, token, case_id, jpeg(), kind="passport", mrz=MRZ)
    internal = declare(client, token, case_id, jpeg(), kind="internal_passport", fields=FIELDS)
    assert passport.status_code == internal.status_code == 201
    return passport.get_json()["id"], internal.get_json()["id"]


def _raw_rows() -> list[tuple]:
    """Every column of every document row, as the database driver hands it over."""
    with db().get_bind().connect() as conn:
        return [tuple(row) for row in conn.execute(text("SELECT * FROM documents"))]


def _as_text(value) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def test_the_database_row_holds_no_mrz_number_or_name(client, relative):
    _declared(client, relative)
    rows = _raw_rows()
    assert len(rows) == 2
    dump = " ".join(_as_text(value) for row in rows for value in row)
    raw = b"".join(bytes(v) for row in rows for v in row
                   if isinstance(v, bytes | bytearray | memoryview))
    for secret in SECRETS:
        assert secret not in dump
        assert secret.encode() not in raw
    columns = {c.name for c in Document.__table__.columns}
    assert {"mrz", "fields"}.isdisjoint(columns)
    assert {"meta_sealed", "meta_key_wrapped", "number_hmac"} <= columns


def test_the_accessor_returns_what_was_declared(client, relative):
    passport_id, internal_id = _declared(client, relative)
    assert document_metadata(document_row(passport_id)) == DocumentMetadata(mrz=MRZ, fields={})
    internal = document_metadata(document_row(internal_id))
    assert internal.mrz is None and internal.fields == FIELDS
    assert internal.fields["document_number"] == "4512 345678"


def test_each_document_has_its_own_key_bound_to_its_id(client, relative):
    passport_id, internal_id = _declared(client, relative)
    passport, internal = document_row(passport_id), document_row(internal_id)
    assert passport.meta_key_wrapped != internal.meta_key_wrapped
    moved = Document(id=internal.id, meta_sealed=passport.meta_sealed,
                     meta_key_wrapped=passport.meta_key_wrapped)
    with pytest.raises(InvalidCiphertext):
        document_metadata(moved)  # the key's wrap names the passport's id
    key = runtime.get().keys.unwrap(passport.meta_key_wrapped,
                                    b"doc-meta:" + passport.id.bytes)
    rewrapped = runtime.get().keys.wrap(key, b"doc-meta:" + internal.id.bytes)
    with pytest.raises(InvalidCiphertext):  # the ciphertext's AAD names the passport's id
        document_metadata(Document(id=internal.id, meta_sealed=passport.meta_sealed,
                                   meta_key_wrapped=rewrapped))


def test_tampered_metadata_is_refused(client, relative):
    passport_id, _ = _declared(client, relative)
    row = document_row(passport_id)
    sealed = bytearray(row.meta_sealed)
    sealed[-1] ^= 1
    with pytest.raises(InvalidCiphertext):
        document_metadata(Document(id=row.id, meta_sealed=bytes(sealed),
                                   meta_key_wrapped=row.meta_key_wrapped))


def test_a_shredded_documents_metadata_is_unrecoverable(client, relative):
    passport_id, _ = _declared(client, relative)
    r = client.delete(f"/v1/documents/{passport_id}", headers=bearer(relative))
    assert r.status_code == 204
    row = document_row(passport_id)
    assert row.status == "shredded"
    assert row.meta_sealed is None and row.meta_key_wrapped is None
    assert row.number_hmac is None
    assert document_metadata(row) == DocumentMetadata()


def test_sealing_gives_an_unsaved_document_its_id(app):
    document = Document(kind="passport")
    seal_metadata(document, mrz=None, fields={"surname": "Иванова"})
    assert isinstance(document.id, uuid.UUID)
    assert document_metadata(document).fields == {"surname": "Иванова"}
