"""The automated checks run on a case when it is submitted, re-submitted or linked.

Each check answers `clear` (the evidence agrees), `consider` (nothing to look at, or a
difference an officer should weigh) or `fail` (the evidence contradicts the claim), with a
detail an officer can read. The checks only read the case, its documents' metadata (MRZ and
typed fields, never the content) and the registry, so they are quick; in production they
still run on a worker (see services/workflow/jobs.py) so a submission never waits on them.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select

from services.documents.numbers import document_number_hmac
from services.registry.matching import MatchQuery, score_candidate
from services.registry.name_comparison import (
    compare_given_names,
    compare_names,
    compare_surnames,
    person_in_text,
)
from services.registry.prisoner_fields import record_of
from services.workflow.evidence import (
    CLEAR,
    CONSIDER,
    FAIL,
    STRONG_MATCH,
    Evidence,
    Outcome,
    gather,
    iso_date,
    kind_label,
)
from services.workflow.relationship_checks import relationship_evidence
from storage.db import session as db
from storage.models.cases import Case, Document
from storage.models.prisoners import Prisoner
from storage.vocabulary import CaseStatus, DocumentStatus, Relationship

MOTHER, FATHER = Relationship.MOTHER, Relationship.FATHER
WEAK_MATCH = 0.5
# A claim is live from submission until it is rejected or withdrawn.
CLAIMING = (CaseStatus.SUBMITTED, CaseStatus.IN_REVIEW, CaseStatus.INFO_REQUESTED,
            CaseStatus.APPROVAL_PENDING, CaseStatus.APPROVED, CaseStatus.COMPLETED)
# Relationships only one person can hold towards a soldier.
EXCLUSIVE = frozenset({MOTHER, FATHER, Relationship.SPOUSE})


# --- the checks ----------------------------------------------------------------------------------

def document_integrity(ev: Evidence) -> Outcome:
    if not ev.documents:
        return FAIL, "No documents were uploaded."
    rejected = [d for d in ev.documents if d.status == DocumentStatus.REJECTED]
    pending = [d for d in ev.documents if d.status == DocumentStatus.PENDING_UPLOAD]
    if rejected:
        return FAIL, (f"{len(rejected)} document(s) were rejected at upload "
                      f"({', '.join(kind_label(d.kind) for d in rejected)}).")
    if pending:
        return CONSIDER, (f"{len(pending)} document(s) were announced but never uploaded "
                          f"({', '.join(kind_label(d.kind) for d in pending)}).")
    hashes = [d.sha256 for d in ev.documents]
    if len(set(hashes)) < len(hashes):
        return CONSIDER, "The same file was uploaded as two different documents."
    return CLEAR, (f"All {len(ev.documents)} documents were uploaded whole, their SHA-256 "
                   "verified, and stored encrypted.")


def mrz_valid(ev: Evidence) -> Outcome:
    with_mrz = [i for i in ev.identity if i.meta.mrz]
    if not with_mrz:
        return CONSIDER, ("No MRZ was given (an internal passport has none); compare the "
                          "document with the declared data by eye.")
    problems, fine = [], []
    for item in with_mrz:
        if item.mrz_error is not None:
            problems.append(f"{item.label}: {item.mrz_error}.")
        elif item.mrz is not None and not item.mrz.valid:
            problems.append(f"{item.label} ({item.mrz.format}): " + "; ".join(item.mrz.errors)
                            + ".")
        elif item.mrz is not None:
            fine.append(f"{item.label}: {item.mrz.format} MRZ, every check digit is right.")
    if problems:
        return FAIL, " ".join(problems)
    return CLEAR, " ".join(fine)


def document_not_expired(ev: Evidence) -> Outcome:
    dated = [(i, i.expiry) for i in ev.identity if i.expiry is not None]
    if not dated:
        return CONSIDER, "No identity document gives an expiry date; check it by eye."
    expired = [f"{i.label} expired on {d.isoformat()}." for i, d in dated if d < ev.today]
    if expired:
        return FAIL, " ".join(expired)
    return CLEAR, " ".join(f"{i.label} is valid until {d.isoformat()}." for i, d in dated)


def _holder_differences(declared: dict[str, Any], holder: dict[str, Any]) -> tuple[list, list]:
    wrong, close = [], []
    for part, verdict in (
        ("surname", compare_surnames(declared.get("surname"), holder.get("surname"),
                                     any_gender=False)),
        ("given name", compare_given_names(declared.get("given_name"),
                                           holder.get("given_name"))),
    ):
        if verdict == "different":
            wrong.append(part)
        elif verdict == "close":
            close.append(part)
    if declared.get("patronymic") and holder.get("patronymic"):
        verdict = compare_names(declared["patronymic"], holder["patronymic"])
        if verdict == "different":
            wrong.append("patronymic")
        elif verdict == "close":
            close.append("patronymic")
    if holder.get("birth_date") is None:
        close.append("birth date (unreadable on the document)")
    elif holder["birth_date"] != iso_date(declared.get("birth_date")):
        wrong.append("birth date")
    citizenship, nationality = declared.get("citizenship"), holder.get("nationality")
    if citizenship and nationality and citizenship != nationality:
        close.append(f"nationality ({nationality} on the document, {citizenship} declared)")
    return wrong, close


def applicant_matches_document(ev: Evidence) -> Outcome:
    readable = [(i, i.holder()) for i in ev.identity]
    readable = [(i, h) for i, h in readable if h is not None]
    if not readable:
        return CONSIDER, ("No identity document carries a readable MRZ or typed fields; "
                          "compare it with the declared applicant by eye.")
    fails, considers, clears = [], [], []
    for item, holder in readable:
        wrong, close = _holder_differences(ev.case.applicant, holder)
        if wrong:
            fails.append(f"{item.label} differs from the declared applicant in: "
                         f"{', '.join(wrong)}.")
        elif close:
            considers.append(f"{item.label}: small differences in {', '.join(close)}.")
        else:
            clears.append(f"{item.label} agrees with the declared applicant (names across "
                          "scripts, birth date, nationality).")
    if fails:
        return FAIL, " ".join(fails + considers)
    if considers:
        return CONSIDER, " ".join(considers)
    return CLEAR, " ".join(clears)


def _describe(prisoner: Prisoner, score: float, matched_on: Sequence[str]) -> str:
    on = ", ".join(matched_on) if matched_on else "nothing"
    return f"record {prisoner.registry_number} (score {score:.2f}, matched on {on})"


def _soldier_query(case: Case) -> MatchQuery:
    soldier = case.soldier
    return MatchQuery(surname=soldier["surname"], given_name=soldier["given_name"],
                      patronymic=soldier.get("patronymic"),
                      birth_date=iso_date(soldier.get("birth_date")),
                      birth_place=soldier.get("birth_place"), unit=soldier.get("unit"))


def registry_match(ev: Evidence) -> Outcome:
    if ev.linked is not None:
        result = score_candidate(_soldier_query(ev.case), record_of(ev.linked))
        text = _describe(ev.linked, result.score, result.matched_on)
        if result.score >= STRONG_MATCH:
            return CLEAR, f"Linked to {text}."
        if result.score >= WEAK_MATCH:
            return CONSIDER, f"Linked to {text}: a partial match only."
        return FAIL, f"Linked to {text}: it does not match the declared soldier."
    if len(ev.strong) == 1:
        best = ev.strong[0]
        text = _describe(best.prisoner, best.score, best.matched_on)
        return CLEAR, f"One strong candidate: {text}; link it once reviewed."
    if ev.strong:
        return CONSIDER, (f"{len(ev.strong)} records match strongly; compare them before "
                          "linking one.")
    weak = [c for c in ev.candidates if c.score >= WEAK_MATCH]
    if weak:
        text = _describe(weak[0].prisoner, weak[0].score, weak[0].matched_on)
        return CONSIDER, f"Only partial matches: the best is {text}."
    return CONSIDER, "No registry record resembles the declared soldier."


def next_of_kin_consistency(ev: Evidence) -> Outcome:
    relationship = ev.case.relationship
    if relationship not in (MOTHER, FATHER):
        return CONSIDER, (f"The registry records only parents' names; nothing to compare for "
                          f"a {relationship}.")
    if ev.subject is None:
        return CONSIDER, "No registry record is linked or clearly matched; nothing to compare."
    written = ev.subject.mother_name if relationship == MOTHER else ev.subject.father_name
    if not written:
        return CONSIDER, (f"Registry record {ev.subject.registry_number} gives no "
                          f"{relationship}'s name.")
    verdict = person_in_text(written, ev.case.applicant)
    number = ev.subject.registry_number
    if verdict == "same":
        return CLEAR, f"Registry record {number} names the applicant as the {relationship}."
    if verdict == "surname_differs":
        return CONSIDER, (f"Registry record {number}: the {relationship}'s given name agrees "
                          "with the applicant's, the surname does not.")
    return FAIL, f"Registry record {number} names another {relationship}, not the applicant."


def duplicate_document(ev: Evidence) -> Outcome:
    numbered = [(i, i.number) for i in ev.identity if i.number]
    if not numbered:
        return CONSIDER, "No identity document gives a number to compare."
    found = []
    for item, number in numbered:
        digest = document_number_hmac(number)
        item.document.number_hmac = digest
        others = db().execute(
            select(Case.id).join(Document, Document.case_id == Case.id)
            .where(Document.number_hmac == digest, Document.status != DocumentStatus.SHREDDED,
                   Case.account_id != ev.case.account_id, Case.status.in_(CLAIMING))
            .distinct()).scalars().all()
        if others:
            found.append(f"The {item.label.lower()} number is also on {len(others)} case(s) "
                         "of another account.")
    db().flush()
    if found:
        return FAIL, " ".join(found)
    return CLEAR, "No other account's case carries the same document number."


def conflicting_claims(ev: Evidence) -> Outcome:
    if ev.subject is None:
        return CONSIDER, "No registry record is linked or clearly matched; nothing to compare."
    prisoner_id = ev.subject.id
    others = db().execute(
        select(Case.relationship).where(
            Case.id != ev.case.id, Case.account_id != ev.case.account_id,
            Case.status.in_(CLAIMING),
            or_(Case.prisoner_id == prisoner_id,
                and_(Case.prisoner_id.is_(None), Case.candidate_prisoner_id == prisoner_id))
        )).scalars().all()
    number = ev.subject.registry_number
    if not others:
        return CLEAR, f"No other account claims registry record {number}."
    clashing = sorted({r for r in others if r == ev.case.relationship and r in EXCLUSIVE})
    listed = ", ".join(sorted(set(others)))
    if clashing:
        return FAIL, (f"{len(others)} other account(s) claim registry record {number}, one "
                      f"also as the {clashing[0]}.")
    return CONSIDER, (f"{len(others)} other account(s) claim registry record {number} "
                      f"(as: {listed}).")


CHECKS: tuple[tuple[str, Callable[[Evidence], Outcome]], ...] = (
    ("document_integrity", document_integrity),
    ("mrz_valid", mrz_valid),
    ("document_not_expired", document_not_expired),
    ("applicant_matches_document", applicant_matches_document),
    ("relationship_evidence", relationship_evidence),
    ("registry_match", registry_match),
    ("next_of_kin_consistency", next_of_kin_consistency),
    ("duplicate_document", duplicate_document),
    ("conflicting_claims", conflicting_claims),
)


def run_checks(case: Case, today: date | None = None) -> list[dict[str, str]]:
    """Run every check and keep the results, the match candidates and the strongest one on
    the case."""
    ev = gather(case, today or date.today())
    results = []
    for name, check in CHECKS:
        result, detail = check(ev)
        results.append({"name": name, "result": result, "detail": detail})
    case.checks = results
    case.match_candidates = [{"prisoner_id": str(c.prisoner.id), "score": c.score,
                              "matched_on": list(c.matched_on)} for c in ev.candidates]
    case.candidate_prisoner_id = (ev.strong[0].prisoner.id
                                  if len(ev.strong) == 1 and case.prisoner_id is None else None)
    db().flush()
    return results
