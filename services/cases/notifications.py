"""Messages to the relative when her case changes status (from `submitted` on).

A message names the case by a short reference, never the soldier or the applicant: a text
message can be read by anyone holding the phone.
"""
from __future__ import annotations

from collections.abc import Sequence

from services.messages.outbox import notify
from storage.db import session as db
from storage.models.accounts import Account
from storage.models.cases import Case
from storage.translations import Translations, pick_language, translate
from storage.vocabulary import CaseStatus, DocumentKind, Language

EN, RU, UK = Language.EN, Language.RU, Language.UK
ANNOUNCED = frozenset(CaseStatus) - {CaseStatus.DRAFT}

DOCUMENT_NAMES: Translations[str] = {
    DocumentKind.PASSPORT: {EN: "passport", RU: "паспорт", UK: "паспорт"},
    DocumentKind.INTERNAL_PASSPORT: {EN: "internal passport", RU: "внутренний паспорт",
                                     UK: "внутрішній паспорт"},
    DocumentKind.ID_CARD: {EN: "ID card", RU: "удостоверение личности", UK: "ID-картка"},
    DocumentKind.BIRTH_CERTIFICATE: {EN: "birth certificate", RU: "свидетельство о рождении",
                                     UK: "свідоцтво про народження"},
    DocumentKind.MARRIAGE_CERTIFICATE: {EN: "marriage certificate",
                                        RU: "свидетельство о браке", UK: "свідоцтво про шлюб"},
    DocumentKind.PHOTO: {EN: "photo", RU: "фотография", UK: "фотографія"},
    DocumentKind.OTHER: {EN: "other document", RU: "другой документ", UK: "інший документ"},
}
SENTENCES: Translations[str] = {
    "please_add": {EN: " Please add: {names}.", RU: " Пожалуйста, добавьте: {names}.",
                   UK: " Будь ласка, додайте: {names}."},
}


def case_reference(case: Case) -> str:
    return case.id.hex[:8].upper()


def _documents_sentence(kinds: Sequence[str], language: str) -> str:
    if not kinds:
        return ""
    names = ", ".join(translate(DOCUMENT_NAMES, kind, language) for kind in kinds)
    return translate(SENTENCES, "please_add", language).format(names=names)


def announce_status(case: Case, *, reason: str | None = None,
                    requested_documents: Sequence[str] = ()) -> None:
    """Queue the message for the case's new status; it leaves after the commit."""
    if case.status not in ANNOUNCED:
        return
    account = db().get(Account, case.account_id)
    contact = account.email or account.phone if account else None
    if not contact:
        return
    language = pick_language(account.language)
    params = {"ref": case_reference(case)}
    if case.status == CaseStatus.INFO_REQUESTED:
        params["reason"] = reason or ""
        params["documents"] = _documents_sentence(requested_documents, language)
    notify(contact, f"case_{case.status}", language, account_id=account.id, case_id=case.id,
           **params)
