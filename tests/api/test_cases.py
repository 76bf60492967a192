from __future__ import annotations

from sqlalchemy import select

from storage.db import session as db
from storage.models.audit import AuditEvent
from tests.support.cases import (
    APPLICANT,
    CASE_BODY,
    SOLDIER,
    add_document,
    add_prisoner,
    complete_documents,
    open_case,
    submitted_case,
    td3,
)
from tests.support.http import bearer

RELATIVE_KEYS = {"id", "status", "relationship", "applicant", "soldier", "documents",
                 "required_documents", "missing_documents", "status_history",
                 "authorizations", "info_request", "created_at", "updated_at"}


def test_create_read_list(client, register_relative):
    _, _, tokens = register_relative()
    token = tokens["access_token"]
    case = open_case(client, token)
    assert set(case) == RELATIVE_KEYS
    assert case["status"] == "draft" and case["relationship"] == "mother"
    assert case["applicant"] == APPLICANT and case["soldier"] == SOLDIER
    assert case["required_documents"] == ["passport", "birth_certificate"]
    assert case["missing_documents"] == ["passport", "birth_certificate"]
    assert [h["status"] for h in case["status_history"]] == ["draft"]
    assert case["status_history"][0]["at"].endswith("Z") and case["created_at"].endswith("Z")
    assert case["documents"] == [] and case["authorizations"] == []
    r = client.get(f"/v1/cases/{case['id']}", headers=bearer(token))
    assert r.status_code == 200 and r.get_json() == case
    r = client.get("/v1/cases", headers=bearer(token))
    assert r.status_code == 200 and r.get_json() == {"items": [case], "next_cursor": None}
    events = db().query(AuditEvent).filter_by(action="case.create").all()
    assert len(events) == 1 and events[0].subject_id == case["id"]


def test_list_pages_with_cursor(client, register_relative):
    _, _, tokens = register_relative()
    token = tokens["access_token"]
    ids = [open_case(client, token)["id"] for _ in range(3)]
    first = client.get("/v1/cases?limit=2", headers=bearer(token)).get_json()
    assert [c["id"] for c in first["items"]] == ids[:2] and first["next_cursor"]
    second = client.get(f"/v1/cases?limit=2&cursor={first['next_cursor']}",
                        headers=bearer(token)).get_json()
    assert [c["id"] for c in second["items"]] == ids[2:] and second["next_cursor"] is None
    for bad in ("garbage", "W10", "eyJ4IjoxfQ"):
        r = client.get(f"/v1/cases?cursor={bad}", headers=bearer(token))
        assert r.status_code == 400 and r.get_json()["code"] == "validation_error"
    assert client.get("/v1/cases?limit=0", headers=bearer(token)).status_code == 400
    assert client.get("/v1/cases?limit=101", headers=bearer(token)).status_code == 400


def test_list_shows_each_case_with_its_own_documents_and_history(client, register_relative):
    _, _, tokens = register_relative()
    token = tokens["access_token"]
    with_documents = open_case(client, token)["id"]
    submitted = submitted_case(client, token)["id"]
    bare = open_case(client, token)["id"]
    add_document(with_documents, "photo")
    items = client.get("/v1/cases", headers=bearer(token)).get_json()["items"]
    assert [c["id"] for c in items] == [with_documents, submitted, bare]
    for item in items:  # the page and the single read are one view
        assert item == client.get(f"/v1/cases/{item['id']}", headers=bearer(token)).get_json()
    by_id = {c["id"]: c for c in items}
    assert [d["kind"] for d in by_id[with_documents]["documents"]] == ["photo"]
    assert {d["kind"] for d in by_id[submitted]["documents"]} == {"passport",
                                                                  "birth_certificate"}
    assert by_id[bare]["documents"] == []
    assert [h["status"] for h in by_id[submitted]["status_history"]][:2] == ["draft",
                                                                           "submitted"]
    assert [h["status"] for h in by_id[bare]["status_history"]] == ["draft"]
    assert by_id[submitted]["missing_documents"] == []
    assert by_id[bare]["missing_documents"] == ["passport", "birth_certificate"]


def test_consistent_case_submits_and_is_checked_inline(client, register_relative, outbox):
    email, _, tokens = register_relative()
    token = tokens["access_token"]
    add_prisoner()
    case = submitted_case(client, token)
    assert case["status"] == "in_review"
    assert [h["status"] for h in case["status_history"]] == ["draft", "submitted", "in_review"]
    assert case["missing_documents"] == [] and len(case["documents"]) == 2
    for hidden in ("checks", "match_candidates", "linked_prisoner", "decisions",
                   "applicant_account", "prisoner_id"):
        assert hidden not in case
    messages = outbox(email)
    assert [m["template"] for m in messages[-2:]] == ["case_submitted", "case_in_review"]
    assert all(m["language"] == "ru" for m in messages[-2:])
    assert "получена" in messages[-2]["text"] and "рассматривает сотрудник" in messages[-1]["text"]
    assert "Иванов" not in messages[-1]["text"]


def test_submit_without_documents_names_them(client, register_relative):
    _, _, tokens = register_relative()
    token = tokens["access_token"]
    case = open_case(client, token)
    r = client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    assert r.status_code == 409 and r.get_json()["code"] == "documents_missing"
    assert r.get_json()["missing"] == ["passport", "birth_certificate"]
    add_document(case["id"], "internal_passport",
                 fields={"document_number": "4510 123456", "surname": "Иванова",
                         "given_name": "Мария", "birth_date": "1971-04-02"})
    r = client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    assert r.status_code == 409 and r.get_json()["missing"] == ["birth_certificate"]
    add_document(case["id"], "birth_certificate", status="pending_upload")
    r = client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    assert r.status_code == 409 and r.get_json()["missing"] == ["birth_certificate"]
    case = client.get(f"/v1/cases/{case['id']}", headers=bearer(token)).get_json()
    assert case["status"] == "draft" and case["missing_documents"] == ["birth_certificate"]


def test_spouse_needs_marriage_certificate(client, register_relative):
    _, _, tokens = register_relative()
    case = open_case(client, tokens["access_token"], {**CASE_BODY, "relationship": "spouse"})
    assert case["required_documents"] == ["passport", "marriage_certificate"]
    other = open_case(client, tokens["access_token"], {**CASE_BODY, "relationship": "other"})
    assert other["required_documents"] == ["passport"]


def test_other_peoples_cases_are_404(client, register_relative):
    _, _, mine = register_relative()
    _, _, theirs = register_relative()
    case = open_case(client, theirs["access_token"])
    complete_documents(case["id"])
    for method, path in (("get", ""), ("patch", ""), ("post", "/submit"),
                         ("post", "/withdraw")):
        r = getattr(client, method)(f"/v1/cases/{case['id']}{path}",
                                    json={"relationship": "father"} if method == "patch" else None,
                                    headers=bearer(mine["access_token"]))
        assert r.status_code == 404 and r.get_json()["code"] == "not_found", (method, path)
    assert client.get("/v1/cases/not-a-uuid", headers=bearer(mine["access_token"])).status_code == 404
    listed = client.get("/v1/cases", headers=bearer(mine["access_token"])).get_json()
    assert listed["items"] == []
    r = client.get(f"/v1/cases/{case['id']}", headers=bearer(theirs["access_token"]))
    assert r.get_json()["status"] == "draft"


def test_staff_cannot_use_relative_routes_nor_see_drafts(client, register_relative, make_staff):
    _, _, tokens = register_relative()
    case = open_case(client, tokens["access_token"])
    officer = make_staff("officer")
    r = client.get(f"/v1/cases/{case['id']}", headers=bearer(officer["access_token"]))
    assert r.status_code == 403
    # the route reads only; its refusal is still in the audit log
    denied = db().execute(select(AuditEvent).where(AuditEvent.action == "access.denied")
                          .where(AuditEvent.subject_id == "cases.get_case")).scalars().all()
    assert [(e.outcome, e.reason[:17]) for e in denied] == [("denied", "403 forbidden GET")]
    r = client.get(f"/v1/admin/cases/{case['id']}", headers=bearer(officer["access_token"]))
    assert r.status_code == 404
    listed = client.get("/v1/admin/cases", headers=bearer(officer["access_token"])).get_json()
    assert listed["items"] == []


def test_bad_create_bodies(client, register_relative):
    _, _, tokens = register_relative()
    token = tokens["access_token"]
    bad = [
        ({**CASE_BODY, "relationship": "cousin"}, "relationship"),
        ({**CASE_BODY, "status": "approved"}, "status"),
        ({**CASE_BODY, "applicant": {**APPLICANT, "birth_date": "1971-13-02"}}, "applicant"),
        ({**CASE_BODY, "applicant": {**APPLICANT, "surname": "Ivanova2"}}, "applicant"),
        ({**CASE_BODY, "applicant": {**APPLICANT, "surname": "Иvanova"}}, "applicant"),
        ({**CASE_BODY, "applicant": {**APPLICANT, "surname": "И" * 101}}, "applicant"),
        ({**CASE_BODY, "applicant": {**APPLICANT, "citizenship": "Russia"}}, "applicant"),
        ({**CASE_BODY, "soldier": {**SOLDIER, "birth_date": "2999-01-01"}}, "soldier"),
        ({**CASE_BODY, "soldier": {k: v for k, v in SOLDIER.items() if k != "surname"}},
         "soldier"),
        ({"relationship": "mother", "applicant": APPLICANT}, "soldier"),
    ]
    for body, field in bad:
        r = client.post("/v1/cases", json=body, headers=bearer(token))
        assert r.status_code == 400, body
        assert r.get_json()["code"] == "validation_error" and field in r.get_json()["errors"]
    r = client.post("/v1/cases", data="{", content_type="application/json", headers=bearer(token))
    assert r.status_code == 400 and r.get_json()["code"] == "malformed_json"
    assert client.get("/v1/cases", headers=bearer(token)).get_json()["items"] == []


def test_latin_names_are_accepted(client, register_relative):
    _, _, tokens = register_relative()
    body = {**CASE_BODY, "applicant": {**APPLICANT, "surname": "Ivanova", "given_name": "Mariia"}}
    case = open_case(client, tokens["access_token"], body)
    assert case["applicant"]["surname"] == "Ivanova"


def test_passport_mrz_helper_is_valid():
    from services.documents.mrz import parse_mrz
    assert parse_mrz(td3()).valid
