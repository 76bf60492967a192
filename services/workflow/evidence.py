"""What the automated checks look at: a case's documents as read from their sealed
metadata (MRZ and typed fields, never the content), and its registry candidates."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.cases.requirements import documents_of
from services.documents.metadata import DocumentMetadata, document_metadata
from services.documents.mrz import Mrz, MrzError, parse_mrz
from services.registry.prisoners import Candidate, match_prisoners
from storage.db import session as db
from storage.models.cases import Case, Document
from storage.models.prisoners import Prisoner
from storage.vocabulary import IDENTITY_KINDS, CheckOutcome, DocumentKind, DocumentStatus

CLEAR, CONSIDER, FAIL = CheckOutcome.CLEAR, CheckOutcome.CONSIDER, CheckOutcome.FAIL
Outcome = tuple[CheckOutcome, str]

STRONG_MATCH = 0.85
CANDIDATES_KEPT = 5
# What an officer reads in a check's detail; a kind not named here is spelled from its value.
KIND_LABELS = {DocumentKind.PASSPORT: "Passport",
               DocumentKind.INTERNAL_PASSPORT: "Internal passport",
               DocumentKind.ID_CARD: "ID card",
               DocumentKind.BIRTH_CERTIFICATE: "Birth certificate",
               DocumentKind.MARRIAGE_CERTIFICATE: "Marriage certificate"}


def iso_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


@dataclass
class IdentityDocument:
    document: Document
    meta: DocumentMetadata
    mrz: Mrz | None = None
    mrz_error: str | None = None

    @property
    def label(self) -> str:
        return kind_label(self.document.kind)

    @property
    def fields(self) -> dict[str, Any]:
        return self.meta.fields

    @property
    def number(self) -> str | None:
        if self.mrz is not None and self.mrz.document_number:
            return self.mrz.document_number
        value = self.fields.get("document_number")
        return str(value) if value else None

    @property
    def expiry(self) -> date | None:
        if self.mrz is not None and self.mrz.expiry_date is not None:
            return self.mrz.expiry_date
        return iso_date(self.fields.get("expiry_date"))

    def holder(self) -> dict[str, Any] | None:
        """Who the document names: from a readable MRZ, else from typed fields."""
        if self.mrz is not None and self.mrz.surname:
            return {"surname": self.mrz.surname, "given_name": self.mrz.given_names,
                    "birth_date": self.mrz.birth_date, "nationality": self.mrz.nationality}
        if self.fields.get("surname") and self.fields.get("given_name"):
            return {"surname": self.fields["surname"], "given_name": self.fields["given_name"],
                    "patronymic": self.fields.get("patronymic"),
                    "birth_date": iso_date(self.fields.get("birth_date")),
                    "nationality": self.fields.get("nationality")}
        return None


@dataclass
class Evidence:
    case: Case
    today: date
    documents: list[Document]
    identity: list[IdentityDocument]
    candidates: list[Candidate]
    linked: Prisoner | None
    subject: Prisoner | None = None  # the linked prisoner, else the one strong candidate
    strong: list[Candidate] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Document]:
        return [d for d in self.documents if d.kind == kind and d.status == DocumentStatus.STORED]


def _read_identity(document: Document, today: date) -> IdentityDocument:
    item = IdentityDocument(document, document_metadata(document))
    if item.meta.mrz:
        try:
            item.mrz = parse_mrz(item.meta.mrz, today=today)
        except MrzError as exc:
            item.mrz_error = str(exc)
    return item


def gather(case: Case, today: date) -> Evidence:
    documents = [d for d in documents_of(case) if d.status != DocumentStatus.SHREDDED]
    identity = [_read_identity(d, today) for d in documents
                if d.kind in IDENTITY_KINDS and d.status == DocumentStatus.STORED]
    soldier = case.soldier
    candidates = match_prisoners(
        surname=soldier["surname"], given_name=soldier["given_name"],
        patronymic=soldier.get("patronymic"), birth_date=iso_date(soldier.get("birth_date")),
        birth_place=soldier.get("birth_place"), unit=soldier.get("unit"),
        limit=CANDIDATES_KEPT, audit=False)
    linked = db().get(Prisoner, case.prisoner_id) if case.prisoner_id else None
    strong = [c for c in candidates if c.score >= STRONG_MATCH]
    evidence = Evidence(case, today, documents, identity, candidates, linked, strong=strong)
    evidence.subject = linked or (strong[0].prisoner if len(strong) == 1 else None)
    return evidence
