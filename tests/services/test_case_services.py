"""The case services called directly, as the routes call them: states, access policy,
required documents, opening and editing, review with four eyes, submit and withdraw."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.cases import operations as cases, policy, requirements, states
from services.core import unit_of_work
from services.workflow import lifecycle, review
from storage.db import session as db, utcnow
from storage.domain_errors import (
    DocumentsMissing,
    FourEyesRequired,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from storage.models.audit import AuditEvent
from storage.models.cases import Case, CaseDecision, Document
from storage.vocabulary import CaseStatus, Decision, DocumentKind, DocumentStatus, Relationship
from tests.support.accounts import add_account
from tests.support.cases import APPLICANT, SOLDIER, add_prisoner

S = CaseStatus


@pytest.fixture
def relative(app):
    account = add_account("relative")
    unit_of_work.commit()
    return account


def draft(relative, relationship: Relationship = Relationship.MOTHER) -> Case:
    return cases.open_case(account=relative, relationship=relationship,
                           applicant=dict(APPLICANT), soldier=dict(SOLDIER))


def stored(case: Case, kind: str, *, created_at=None) -> Document:
    document = Document(case_id=case.id, kind=kind, content_type="image/jpeg", size=10,
                        sha256="0" * 64, status=DocumentStatus.STORED, uploaded_at=utcnow(),
                        created_at=created_at or utcnow())
    db().add(document)
    db().flush()
    return document


def walk(case: Case, *statuses: CaseStatus) -> Case:
    for status in statuses:
        states.transition(case, status)
    return case


def actions() -> list[str]:
    return [a for a in db().execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars()]


# --- states ---------------------------------------------------------------------------------

def test_every_status_is_in_the_table_and_closed_ones_lead_nowhere():
    assert set(states.TRANSITIONS) == set(CaseStatus)
    for status in states.CLOSED:
        assert states.TRANSITIONS[status] == frozenset()
    assert all(S.WITHDRAWN in nxt for s, nxt in states.TRANSITIONS.items()
               if s not in states.CLOSED)


def test_a_transition_records_history_and_times(relative):
    case = draft(relative)
    assert [c.status for c in case.history] == [S.DRAFT]
    walk(case, S.SUBMITTED)
    assert case.submitted_at is not None and case.closed_at is None and case.version == 2
    walk(case, S.WITHDRAWN)
    assert case.closed_at is not None
    assert [(c.seq, c.status) for c in case.history] == [(1, S.DRAFT), (2, S.SUBMITTED),
                                                         (3, S.WITHDRAWN)]


@pytest.mark.parametrize("to", [S.APPROVED, S.IN_REVIEW, S.COMPLETED, S.DRAFT])
def test_a_transition_not_in_the_table_is_invalid_state(relative, to):
    case = draft(relative)
    with pytest.raises(InvalidState):
        states.transition(case, to)
    assert case.status == S.DRAFT and len(case.history) == 1


def test_a_transition_that_lost_a_race_is_invalid_state(relative):
    case = draft(relative)
    db().execute(update(Case).where(Case.id == case.id).values(version=Case.version + 1)
                 .execution_options(synchronize_session=False))
    with pytest.raises(InvalidState):
        states.transition(case, S.SUBMITTED)


# --- access policy --------------------------------------------------------------------------

def test_a_relative_sees_only_her_own_case(relative):
    case = draft(relative)
    assert policy.case_for_relative(case.id, relative) is case
    stranger = add_account("relative")
    with pytest.raises(NotFound):
        policy.case_for_relative(case.id, stranger)
    with pytest.raises(NotFound):
        policy.case_for_relative(uuid.uuid4(), relative)


def test_staff_never_see_a_draft_nor_one_withdrawn_unsubmitted(relative):
    officer = add_account("officer")
    case = draft(relative)
    with pytest.raises(NotFound):
        policy.case_for_staff(case.id, officer)
    walk(case, S.WITHDRAWN)
    with pytest.raises(NotFound):
        policy.case_for_staff(case.id, officer)
    submitted = walk(draft(relative), S.SUBMITTED)
    assert policy.case_for_staff(submitted.id, officer) is submitted


def test_actions_follow_the_status(relative):
    case = draft(relative)
    assert policy.require_relative_action(case.id, relative, "edit") is case
    walk(case, S.SUBMITTED)
    with pytest.raises(InvalidState):
        policy.require_relative_action(case.id, relative, "edit")
    with pytest.raises(InvalidState):
        policy.require_staff_action(case.id, add_account("officer"), "decide")


# --- required documents ---------------------------------------------------------------------

@pytest.mark.parametrize(("relationship", "needed"), [
    (Relationship.MOTHER, ["passport", "birth_certificate"]),
    (Relationship.SPOUSE, ["passport", "marriage_certificate"]),
    (Relationship.OTHER, ["passport"]),
])
def test_required_documents_follow_the_relationship(relative, relationship, needed):
    case = draft(relative, relationship)
    assert requirements.required_documents(case) == needed
    assert requirements.missing_documents(case) == needed


def test_any_identity_document_stands_for_the_passport(relative):
    case = draft(relative)
    stored(case, DocumentKind.INTERNAL_PASSPORT)
    assert requirements.missing_documents(case) == ["birth_certificate"]


def test_a_requested_document_must_come_after_the_request(relative):
    case = draft(relative)
    stored(case, DocumentKind.PASSPORT)
    stored(case, DocumentKind.BIRTH_CERTIFICATE)
    earlier = stored(case, DocumentKind.PHOTO, created_at=utcnow() - timedelta(days=1))
    walk(case, S.SUBMITTED, S.IN_REVIEW, S.INFO_REQUESTED)
    case.requested_documents = [DocumentKind.PHOTO]
    assert earlier.created_at < case.history[-1].at
    assert requirements.missing_documents(case) == ["photo"]
    stored(case, DocumentKind.PHOTO)
    assert requirements.missing_documents(case) == []


# --- opening and editing --------------------------------------------------------------------

def test_opening_a_case_is_a_draft_with_its_event(relative):
    case = draft(relative)
    assert case.status == S.DRAFT and case.version == 1 and case.account_id == relative.id
    unit_of_work.commit()
    assert actions()[-1] == "case.create"


def test_a_merge_patch_merges_people_and_null_clears(relative):
    case = draft(relative)
    patched = cases.patch_case(case_id=case.id, account=relative, changes={
        "soldier": {"unit": None, "birth_place": "Орёл"}, "relationship": Relationship.FATHER})
    assert patched.relationship == Relationship.FATHER and patched.version == 2
    assert patched.soldier["birth_place"] == "Орёл" and "unit" not in patched.soldier
    assert patched.soldier["surname"] == SOLDIER["surname"]
    assert patched.applicant == APPLICANT


def test_a_patch_of_a_submitted_case_is_refused(relative):
    case = walk(draft(relative), S.SUBMITTED)
    with pytest.raises(InvalidState):
        cases.patch_case(case_id=case.id, account=relative, changes={"soldier": {"unit": "x"}})


# --- submit and withdraw --------------------------------------------------------------------

def test_submit_names_what_is_missing(relative):
    case = draft(relative)
    stored(case, DocumentKind.PASSPORT)
    with pytest.raises(DocumentsMissing) as refused:
        lifecycle.submit_case(case.id, relative)
    assert refused.value.extra == {"missing": ["birth_certificate"]}
    assert case.status == S.DRAFT


def test_submit_queues_the_status_message(relative):
    case = draft(relative)
    stored(case, DocumentKind.PASSPORT)
    stored(case, DocumentKind.BIRTH_CERTIFICATE)
    lifecycle.submit_case(case.id, relative)
    assert case.status in (S.SUBMITTED, S.IN_REVIEW)
    queued = unit_of_work.current().messages
    assert [m.template for m in queued][:1] == ["case_submitted"]
    assert queued[0].to == relative.email and case.id.hex[:8].upper() in queued[0].text


def test_withdraw_shreds_every_document(relative):
    case = draft(relative)
    document = stored(case, DocumentKind.PASSPORT)
    document.wrapped_dek = b"wrapped"
    lifecycle.withdraw_case(case.id, relative)
    assert case.status == S.WITHDRAWN
    assert document.status == DocumentStatus.SHREDDED and document.wrapped_dek is None
    with pytest.raises(InvalidState):
        lifecycle.withdraw_case(case.id, relative)


# --- review: linking and four eyes ----------------------------------------------------------

@pytest.fixture
def in_review(relative):
    case = draft(relative)
    stored(case, DocumentKind.PASSPORT)
    stored(case, DocumentKind.BIRTH_CERTIFICATE)
    walk(case, S.SUBMITTED, S.IN_REVIEW)
    unit_of_work.commit()
    return case


def test_linking_an_unknown_prisoner_is_a_validation_error(in_review):
    officer = add_account("officer")
    with pytest.raises(ValidationFailed) as refused:
        review.link_case(case_id=in_review.id, prisoner_id=uuid.uuid4(), actor=officer)
    assert "prisoner_id" in refused.value.errors


def test_approval_needs_a_link_first(in_review):
    with pytest.raises(InvalidState):
        review.decide_case(case_id=in_review.id, actor=add_account("officer"),
                           decision=Decision.APPROVE, reason="Documents consistent")


def test_four_eyes_a_second_supervisor_approves(in_review):
    case_id = in_review.id
    prisoner_id = uuid.UUID(add_prisoner())
    first = add_account("supervisor")
    review.link_case(case_id=case_id, prisoner_id=prisoner_id, actor=first)
    case = review.decide_case(case_id=case_id, actor=first, decision=Decision.APPROVE,
                              reason="Documents consistent")
    assert case.status == S.APPROVAL_PENDING
    with pytest.raises(FourEyesRequired):
        review.decide_case(case_id=case_id, actor=first, decision=Decision.APPROVE,
                           reason="Approving twice")
    assert unit_of_work.current().keeps_refusal
    with pytest.raises(FourEyesRequired):
        review.decide_case(case_id=case_id, actor=add_account("officer"),
                           decision=Decision.APPROVE, reason="Not a supervisor")
    second = add_account("supervisor")
    case = review.decide_case(case_id=case_id, actor=second, decision=Decision.APPROVE,
                              reason="Second approval")
    assert case.status == S.APPROVED
    decisions = db().execute(select(CaseDecision.by).where(CaseDecision.case_id == case_id)
                             .order_by(CaseDecision.at)).scalars().all()
    assert decisions == [first.id, second.id]


def test_request_info_keeps_the_requested_kinds_once(in_review):
    case = review.decide_case(case_id=in_review.id, actor=add_account("officer"),
                              decision=Decision.REQUEST_INFO, reason="Photo is unreadable",
                              requested_documents=["photo", "photo", "passport"])
    assert case.status == S.INFO_REQUESTED
    assert case.requested_documents == ["photo", "passport"]
    message = unit_of_work.current().messages[-1]
    assert message.template == "case_info_requested" and "Photo is unreadable" in message.text
