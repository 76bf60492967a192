"""Who may reach a document: its relative, or staff on a case they may see."""
from __future__ import annotations

import uuid

from services.cases.policy import case_for_relative, case_for_staff
from storage.db import session as db
from storage.domain_errors import NotFound
from storage.models.accounts import Account
from storage.models.cases import Document


def document_for_relative(document_id: uuid.UUID, account: Account) -> Document:
    """The relative's own document; anyone else's answers 404 like a missing one."""
    document = db().get(Document, document_id)
    if document is None:
        raise NotFound()
    case_for_relative(document.case_id, account)
    return document


def document_for_staff(document_id: uuid.UUID, account: Account) -> Document:
    """A document of a case staff may see: never one of a draft."""
    document = db().get(Document, document_id)
    if document is None:
        raise NotFound()
    case_for_staff(document.case_id, account)
    return document
