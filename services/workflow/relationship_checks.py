"""The relationship evidence check: the birth or marriage certificate links the applicant to
the soldier as she claims."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.documents.metadata import document_metadata
from services.registry.name_comparison import (
    compare_given_names,
    compare_names,
    compare_surnames,
    person_in_text,
)
from services.workflow.evidence import CLEAR, CONSIDER, FAIL, Evidence, Outcome, iso_date
from storage.models.cases import Document
from storage.vocabulary import DocumentKind, Relationship

MOTHER, FATHER = Relationship.MOTHER, Relationship.FATHER


def _child_differences(certificate: dict[str, Any], soldier: dict[str, Any],
                       prefix: str) -> list[str]:
    wrong = []
    if compare_surnames(soldier.get("surname"), certificate.get(f"{prefix}surname"),
                        any_gender=prefix == "spouse_") == "different":
        wrong.append("surname")
    if compare_given_names(soldier.get("given_name"),
                           certificate.get(f"{prefix}given_name")) == "different":
        wrong.append("given name")
    patronymic = certificate.get(f"{prefix}patronymic")
    if soldier.get("patronymic") and patronymic and compare_names(
            soldier["patronymic"], patronymic) == "different":
        wrong.append("patronymic")
    written = iso_date(certificate.get(f"{prefix}birth_date"))
    if written is not None and written != iso_date(soldier.get("birth_date")):
        wrong.append("birth date")
    return wrong


def _parent_outcome(fields: dict[str, Any], parent: dict[str, Any], name_field: str,
                    who: str) -> Outcome:
    written = fields.get(name_field)
    if not written:
        return CONSIDER, f"The birth certificate gives no {who}'s name; read it by eye."
    verdict = person_in_text(written, parent)
    if verdict == "same":
        return CLEAR, (f"The birth certificate's child is the soldier and its {who} is "
                       "the applicant (names and dates agree).")
    if verdict == "surname_differs":
        return CONSIDER, (f"The birth certificate's child is the soldier; its {who}'s given "
                          "name agrees with the applicant's but the surname does not (a "
                          "change of name by marriage?).")
    return FAIL, f"The birth certificate names another {who}: not the applicant."


def _birth_certificate_outcome(ev: Evidence, certificate: Document) -> Outcome:
    fields = document_metadata(certificate).fields
    if not fields:
        return CONSIDER, "The birth certificate carries no typed fields; read it by eye."
    case, relationship = ev.case, ev.case.relationship
    if relationship == Relationship.CHILD:
        wrong = _child_differences(fields, case.applicant, "child_")
        if wrong:
            return FAIL, ("The birth certificate is not the applicant's: it differs in "
                          f"{', '.join(wrong)}.")
        parents = [person_in_text(fields.get(f), case.soldier)
                   for f in ("mother_name", "father_name")]
        if "same" in parents:
            return CLEAR, ("The birth certificate is the applicant's and names the soldier "
                           "as a parent.")
        return FAIL, "The applicant's birth certificate does not name the soldier as a parent."
    wrong = _child_differences(fields, case.soldier, "child_")
    if wrong:
        return FAIL, ("The birth certificate's child is not the soldier: it differs in "
                      f"{', '.join(wrong)}.")
    if relationship == MOTHER:
        return _parent_outcome(fields, case.applicant, "mother_name", MOTHER)
    if relationship == FATHER:
        return _parent_outcome(fields, case.applicant, "father_name", FATHER)
    return CONSIDER, (f"The birth certificate is the soldier's; the link of a {relationship} "
                      "to him must be read from the other documents.")


def _marriage_certificate_outcome(ev: Evidence, certificate: Document) -> Outcome:
    fields = document_metadata(certificate).fields
    if not fields:
        return CONSIDER, "The marriage certificate carries no typed fields; read it by eye."
    wrong = _child_differences(fields, ev.case.soldier, "spouse_")
    if wrong:
        return FAIL, ("The marriage certificate's spouse is not the soldier: it differs in "
                      f"{', '.join(wrong)}.")
    return CLEAR, "The marriage certificate names the soldier as the applicant's spouse."


_RANK = {CLEAR: 0, CONSIDER: 1, FAIL: 2}


def _best(outcomes: Sequence[Outcome]) -> Outcome:
    return min(outcomes, key=lambda o: _RANK[o[0]])


def relationship_evidence(ev: Evidence) -> Outcome:
    relationship = ev.case.relationship
    if relationship == Relationship.OTHER:
        return CONSIDER, "No document proves an `other` relationship; the officer judges it."
    if relationship == Relationship.SPOUSE:
        certificates = ev.of_kind(DocumentKind.MARRIAGE_CERTIFICATE)
        if not certificates:
            return FAIL, "No marriage certificate was uploaded."
        return _best([_marriage_certificate_outcome(ev, c) for c in certificates])
    certificates = ev.of_kind(DocumentKind.BIRTH_CERTIFICATE)
    if not certificates:
        return FAIL, "No birth certificate was uploaded."
    return _best([_birth_certificate_outcome(ev, c) for c in certificates])
