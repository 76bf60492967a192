"""The queue and the case file in the console: the same services, rules and audit as
/v1/admin/cases, with four eyes and the fresh one-time code for the second approval."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from storage.db import session as db, utcnow
from storage.models.accounts import AuthSession
from storage.models.audit import AuditEvent
from storage.models.cases import Case
from tests.support.cases import add_prisoner, submitted_case
from tests.support.console import console_login, new_staff, post_form
from tests.support.statements import page_statements


def _signed_in(app, role: str, email: str):
    client = app.test_client()
    staff = new_staff(role, email)
    assert console_login(client, staff).status_code == 303
    return client, staff


def _case(client, register_relative) -> str:
    _, _, tokens = register_relative()
    return submitted_case(client, tokens["access_token"])["id"]


def _id(case_id: str) -> uuid.UUID:
    return uuid.UUID(case_id)


def _status(case_id: str) -> str:
    db.remove()
    return db().execute(select(Case.status).where(Case.id == _id(case_id))).scalar_one()


def _actions(action: str) -> list:
    return db().execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def test_the_queue_lists_submitted_cases_and_counts(app, client, register_relative):
    case_id = _case(client, register_relative)
    officer, _ = _signed_in(app, "officer", "officer@kinpass.example")
    html = officer.get("/console/cases", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert f"/console/cases/{case_id}" in html and "Иванов Алексей" in html
    assert 'data-status="in_review">1<' in html
    assert len(_actions("case.view")) == 1  # audited as the API's list is


def test_queue_filters_search_and_order(app, client, register_relative):
    prisoner = add_prisoner(registry_number="UA-7777")
    first, second = _case(client, register_relative), _case(client, register_relative)
    db().execute(update(Case).where(Case.id == _id(first)).values(
        submitted_at=utcnow() - timedelta(days=10)))
    db().commit()
    officer, _ = _signed_in(app, "officer", "officer@kinpass.example")

    def listed(**args) -> list[str]:
        html = officer.get("/console/cases", query_string=args).get_data(as_text=True)
        return [c for c in (first, second) if f"/console/cases/{c}" in html]

    assert listed() == [first, second]
    assert listed(older="7") == [first]
    html = officer.get("/console/cases", query_string={"order": "newest"}).get_data(as_text=True)
    assert html.index(second) < html.index(first)
    assert listed(q="Иванова") == [first, second]  # the applicant's surname as written
    assert listed(q="IVANOV ALEKSEI") == [first, second]  # through the registry, Latin
    assert listed(q="UA-7777") == [first, second]  # the candidate's registry number
    assert listed(q="Петренко") == []
    # the same passport number on another account's earlier case
    assert listed(failing="any") == [second] == listed(failing="duplicate_document")
    assert listed(failing="mrz_valid") == [] and listed(status="approved") == []
    assert officer.get("/console/cases?status=nonsense").status_code == 400
    assert prisoner


def test_a_relative_controlled_text_is_rendered_as_text(app, client, register_relative):
    _, _, tokens = register_relative()
    case_id = submitted_case(client, tokens["access_token"])["id"]
    hostile = "<script>alert(1)</script>"
    db().execute(update(Case).where(Case.id == _id(case_id)).values(
        soldier={"surname": hostile, "given_name": '"><img src=x onerror=alert(1)>',
                 "birth_date": "2001-09-14", "unit": "<b>u</b>"}))
    db().commit()
    officer, _ = _signed_in(app, "officer", "officer@kinpass.example")
    for path in ("/console/cases", f"/console/cases/{case_id}"):
        html = officer.get(path).get_data(as_text=True)
        assert hostile not in html and "<img src=x" not in html and "<b>u</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_officer_then_a_different_supervisor_with_a_fresh_code(app, client, register_relative):
    case_id = _case(client, register_relative)
    prisoner_id = add_prisoner()
    page = f"/console/cases/{case_id}"
    officer, _ = _signed_in(app, "officer", "officer@kinpass.example")
    assert post_form(officer, f"{page}/link", {"prisoner_id": prisoner_id},
                     token_from=page).status_code == 303
    r = post_form(officer, f"{page}/decisions", {"decision": "approve",
                                                  "reason": "Documents agree."})
    assert r.status_code == 303 and _status(case_id) == "approval_pending"

    html = officer.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "A different supervisor must give the second approval." in html
    assert 'value="approve"' not in html  # the first approver has no Approve button
    r = post_form(officer, f"{page}/decisions", {"decision": "approve", "reason": "Again."},
                  token_from=page)
    assert r.status_code == 409 and _status(case_id) == "approval_pending"

    supervisor, staff = _signed_in(app, "supervisor", "supervisor@kinpass.example")
    db().execute(update(AuthSession).where(AuthSession.account_id == _id(staff.id))
                 .values(otp_at=utcnow() - timedelta(minutes=6)))
    db().commit()
    r = post_form(supervisor, f"{page}/decisions", {"decision": "approve",
                                                     "reason": "Second look."})
    asked = r.get_data(as_text=True)
    assert r.status_code == 401 and 'name="otp"' in asked
    assert _status(case_id) == "approval_pending"
    # the page that asks for the code sends the same act again with it
    replayed = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', asked))
    assert replayed["decision"] == "approve" and replayed["reason"] == "Second look."
    action = re.search(r'<form method="post" action="([^"]+)"', asked.split("<main")[1])[1]
    r = supervisor.post(action, data={**replayed, "otp": staff.code()})
    assert r.status_code == 303 and _status(case_id) == "approved"
    decisions = [e.reason for e in _actions("case.decision") if e.outcome == "success"]
    assert decisions == ["approve", "approve"]
    assert _actions("auth.reauthenticate")


def test_reject_and_request_information(app, client, register_relative):
    rejected, asked = _case(client, register_relative), _case(client, register_relative)
    officer, _ = _signed_in(app, "officer", "officer@kinpass.example")
    r = post_form(officer, f"/console/cases/{rejected}/decisions",
                  {"decision": "reject", "reason": "The certificate is not hers."},
                  token_from=f"/console/cases/{rejected}")
    assert r.status_code == 303 and _status(rejected) == "rejected"
    r = post_form(officer, f"/console/cases/{asked}/decisions",
                  {"decision": "request_info", "reason": "A clearer scan, please.",
                   "requested_documents": ["passport", "birth_certificate"]},
                  token_from=f"/console/cases/{asked}")
    assert r.status_code == 303 and _status(asked) == "info_requested"
    assert db().get(Case, _id(asked)).requested_documents == ["passport", "birth_certificate"]
    r = post_form(officer, f"/console/cases/{asked}/decisions",
                  {"decision": "reject", "reason": "x"}, token_from="/console/cases")
    assert r.status_code == 409  # not from info_requested, exactly as the API


def test_a_blank_reason_is_refused_as_the_api_refuses_it(app, client, register_relative):
    case_id = _case(client, register_relative)
    officer, _ = _signed_in(app, "officer", "officer@kinpass.example")
    r = post_form(officer, f"/console/cases/{case_id}/decisions",
                  {"decision": "reject", "reason": "   "}, token_from=f"/console/cases/{case_id}")
    assert r.status_code == 400 and _status(case_id) == "in_review"


def test_auditors_and_admins_do_not_see_cases(app, client, register_relative):
    case_id = _case(client, register_relative)
    auditor, _ = _signed_in(app, "auditor", "auditor@kinpass.example")
    assert auditor.get("/console/cases").status_code == 403
    assert auditor.get(f"/console/cases/{case_id}").status_code == 403


def test_queue_statements_do_not_grow_with_the_page(app, client, register_relative):
    officer, _ = _signed_in(app, "officer", "officer@kinpass.example")

    def three_cases() -> None:
        for _ in range(3):
            _case(client, register_relative)

    counts = page_statements(app, officer, "/console/cases", three_cases, "case-row")
    assert counts[0] == counts[1], counts
