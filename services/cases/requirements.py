"""The documents a case needs, by relationship and by what an officer asked for."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.db import session as db
from storage.models.cases import Case, Document
from storage.vocabulary import (
    IDENTITY_KINDS,
    CaseStatus,
    DocumentKind,
    DocumentStatus,
    Relationship,
)

BIRTH, MARRIAGE = DocumentKind.BIRTH_CERTIFICATE, DocumentKind.MARRIAGE_CERTIFICATE
EVIDENCE_BY_RELATIONSHIP: dict[Relationship, DocumentKind | None] = {
    Relationship.MOTHER: BIRTH, Relationship.FATHER: BIRTH, Relationship.CHILD: BIRTH,
    Relationship.SIBLING: BIRTH, Relationship.GRANDPARENT: BIRTH,
    Relationship.SPOUSE: MARRIAGE, Relationship.OTHER: None,
}


def required_documents(case: Case) -> list[str]:
    kinds: list[str] = [DocumentKind.PASSPORT]
    evidence = EVIDENCE_BY_RELATIONSHIP[case.relationship]
    if evidence:
        kinds.append(evidence)
    for kind in case.requested_documents or []:
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def _last_info_request_at(case: Case) -> Any:
    times = [change.at for change in case.history if change.status == CaseStatus.INFO_REQUESTED]
    return times[-1] if times else None


def missing_documents(case: Case, documents: list[Document] | None = None) -> list[str]:
    """Required kinds with no stored document; a kind an officer asked for must have been
    uploaded after the request. A missing identity document is reported as `passport`."""
    if documents is None:
        documents = documents_of(case)
    stored = [d for d in documents if d.status == DocumentStatus.STORED]
    requested_since = _last_info_request_at(case)
    requested = set(case.requested_documents or [])
    missing = []
    for kind in required_documents(case):
        kinds = IDENTITY_KINDS if kind == DocumentKind.PASSPORT else (kind,)
        candidates = [d for d in stored if d.kind in kinds]
        if kind in requested and requested_since is not None:
            candidates = [d for d in candidates if d.created_at >= requested_since]
        if not candidates:
            missing.append(kind)
    return missing


def documents_of(case: Case) -> list[Document]:
    return list(db().execute(select(Document).where(Document.case_id == case.id)
                             .order_by(Document.created_at, Document.id)).scalars())
