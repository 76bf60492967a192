"""A case with its status history and its documents, read in one statement: each list comes
back as a JSON array built by the database (`json_agg` on PostgreSQL, `json_group_array` on
SQLite) and is turned back into typed rows here."""
from __future__ import annotations

import uuid
from collections import namedtuple
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Select,
    bindparam,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from storage.models.cases import Case, CaseStatusChange, Document

CASE_COLUMNS = ("id", "account_id", "status", "relationship", "applicant", "soldier",
                "requested_documents", "created_at", "updated_at")
Change = namedtuple("Change", "case_id status at")
DocumentRow = namedtuple("DocumentRow", "id case_id kind content_type size sha256 encryption "
                                        "status created_at uploaded_at")
_HISTORY = (CaseStatusChange.case_id, CaseStatusChange.status, CaseStatusChange.at)
_HISTORY_ORDER = (CaseStatusChange.seq,)
_DOCUMENTS = tuple(getattr(Document, name) for name in DocumentRow._fields)
_DOCUMENT_ORDER = (Document.created_at, Document.id)


def _array(dialect: str, model: Any, columns: tuple, order: tuple) -> Any:
    """The outer query's case's rows of `columns`, in `order`, as a JSON array of objects
    keyed by column name."""
    rows = (select(*columns, *(column.label(f"order_{n}") for n, column in enumerate(order)))
            .where(model.case_id == Case.id).correlate(Case))
    if dialect != "postgresql":
        rows = rows.order_by(*order)  # json_group_array keeps the order it is fed
    inner = rows.subquery()
    pairs = [part for column in columns
             for part in (literal_column(f"'{column.key}'"), inner.c[column.key])]
    if dialect == "postgresql":
        keys = [inner.c[f"order_{n}"] for n in range(len(order))]
        array = func.json_agg(aggregate_order_by(func.json_build_object(*pairs), *keys))
    else:
        array = func.json_group_array(func.json_object(*pairs))
    return select(type_coerce(array, JSON)).select_from(inner).scalar_subquery()


_QUERIES: dict[tuple[str, bool], Select] = {}


def _query(dialect: str, many: bool) -> Select:
    """The statement for one case (`id`) or several (`ids`), built once per dialect."""
    key = (dialect, many)
    if key not in _QUERIES:
        history = _array(dialect, CaseStatusChange, _HISTORY, _HISTORY_ORDER)
        documents = _array(dialect, Document, _DOCUMENTS, _DOCUMENT_ORDER)
        query = select(*(getattr(Case, name) for name in CASE_COLUMNS),
                       history.label("history"), documents.label("documents"))
        _QUERIES[key] = query.where(Case.id.in_(bindparam("ids", expanding=True)) if many
                                    else Case.id == bindparam("id"))
    return _QUERIES[key]


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _change(item: dict[str, Any]) -> Change:
    return Change(uuid.UUID(item["case_id"]), item["status"], _when(item["at"]))


def _document(item: dict[str, Any]) -> DocumentRow:
    return DocumentRow(**{**item, "id": uuid.UUID(item["id"]),
                          "case_id": uuid.UUID(item["case_id"]),
                          "created_at": _when(item["created_at"]),
                          "uploaded_at": _when(item["uploaded_at"])})


def read_cases(connection: Connection,
               case_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[Any, list, list]]:
    """Each case found: its row (the CASE_COLUMNS), its status changes and its documents."""
    many = len(case_ids) > 1
    params = {"ids": case_ids} if many else {"id": case_ids[0]}
    found = {}
    for row in connection.execute(_query(connection.dialect.name, many), params):
        history = [_change(item) for item in row.history or []]
        documents = [_document(item) for item in row.documents or []]
        found[row.id] = (row, history, documents)
    return found
