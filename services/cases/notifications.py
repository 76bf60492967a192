"""Messages to the relative when her case changes status (from `submitted` on).

A message names the case by a short reference, never the soldier or the applicant: a text
message can be read by anyone holding the phone.
"""
from __future__ import annotations

from collections.abc import Sequence

from services.messages.outbox import notify, pick_language
from storage.db import session as db
from storage.models.accounts import Account
from storage.models.cases import Case

ANNOUNCED = frozenset({"submitted", "in_review", "info_requested", "approval_pending",
                       "approved", "completed", "rejected", "withdrawn"})

DOCUMENT_NAMES: dict[str, dict[str, str]] = {
    "passport": {"en": "passport", "ru": "паспорт", "uk": "паспорт"},
    "internal_passport": {"en": "internal passport", "ru": "внутренний паспорт",
                          "uk": "внутрішній паспорт"},
    "id_card": {"en": "ID card", "ru": "удостоверение личности", "uk": "ID-картка"},
    "birth_certificate": {"en": "birth certificate", "ru": "свидетельство о рождении",
                          "uk": "свідоцтво про народження"},
    "marriage_certificate": {"en": "marriage certificate", "ru": "свидетельство о браке",
                             "uk": "свідоцтво про шлюб"},
    "photo": {"en": "photo", "ru": "фотография", "uk": "фотографія"},
    "other": {"en": "other document", "ru": "другой документ", "uk": "інший документ"},
}
PLEASE_ADD = {"en": " Please add: {names}.", "ru": " Пожалуйста, добавьте: {names}.",
              "uk": " Будь ласка, додайте: {names}."}


def case_reference(case: Case) -> str:
    return case.id.hex[:8].upper()


def _documents_sentence(kinds: Sequence[str], language: str) -> str:
    if not kinds:
        return ""
    names = ", ".join(DOCUMENT_NAMES[kind][language] for kind in kinds)
    return PLEASE_ADD[language].format(names=names)


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
    if case.status == "info_requested":
        params["reason"] = reason or ""
        params["documents"] = _documents_sentence(requested_documents, language)
    notify(contact, f"case_{case.status}", language, **params)
