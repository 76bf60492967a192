from __future__ import annotations

from datetime import date

from storage.db import session as db
from storage.models.audit import AuditEvent
from tests.support.cases import (
    BIRTH_CERTIFICATE,
    CASE_BODY,
    add_document,
    add_prisoner,
    checks_of,
    complete_documents,
    open_case,
    submitted_case,
    td3,
)
from tests.support.http import bearer

ALL_CHECKS = ["document_integrity", "mrz_valid", "document_not_expired",
              "applicant_matches_document", "relationship_evidence", "registry_match",
              "next_of_kin_consistency", "duplicate_document", "conflicting_claims"]


def _decide(client, token, case_id, decision, reason="Checked against the registry.", **extra):
    return client.post(f"/v1/admin/cases/{case_id}/decisions",
                       json={"decision": decision, "reason": reason, **extra},
                       headers=bearer(token))


def _link(client, token, case_id, prisoner_id):
    return client.post(f"/v1/admin/cases/{case_id}/link", json={"prisoner_id": prisoner_id},
                       headers=bearer(token))


def test_consistent_case_passes_every_check_and_four_eyes(client, register_relative,
                                                          make_staff, outbox):
    email, _, tokens = register_relative()
    prisoner_id = add_prisoner()
    case = submitted_case(client, tokens["access_token"])
    officer, supervisor = make_staff("officer"), make_staff("supervisor")
    otoken, stoken = officer["access_token"], supervisor["access_token"]

    r = client.get(f"/v1/admin/cases/{case['id']}", headers=bearer(otoken))
    body = r.get_json()
    assert r.status_code == 200
    assert [c["name"] for c in body["checks"]] == ALL_CHECKS
    assert body["match_candidates"][0]["prisoner"]["id"] == prisoner_id
    assert body["match_candidates"][0]["score"] > 0.9
    assert body["linked_prisoner"] is None and body["decisions"] == []
    assert body["applicant_account"]["email"] == email

    r = _link(client, otoken, case["id"], prisoner_id)
    assert r.status_code == 200
    body = r.get_json()
    assert body["linked_prisoner"]["id"] == prisoner_id
    results = {c["name"]: c for c in body["checks"]}
    assert {n: c["result"] for n, c in results.items()} == dict.fromkeys(ALL_CHECKS, "clear"), \
        results
    assert all(c["detail"] for c in body["checks"])

    r = _decide(client, otoken, case["id"], "approve")
    assert r.status_code == 201 and r.get_json()["status"] == "approval_pending"
    r = _decide(client, otoken, case["id"], "approve")
    assert r.status_code == 409 and r.get_json()["code"] == "four_eyes_required"
    other_officer = make_staff("officer")
    r = _decide(client, other_officer["access_token"], case["id"], "approve")
    assert r.status_code == 409 and r.get_json()["code"] == "four_eyes_required"
    r = _decide(client, stoken, case["id"], "approve", reason="Second pair of eyes: agreed.")
    assert r.status_code == 201
    body = r.get_json()
    assert body["status"] == "approved"
    assert [(d["decision"], d["role"]) for d in body["decisions"]] == [
        ("approve", "officer"), ("approve", "supervisor")]
    assert body["decisions"][0]["by"] == str(officer["id"])

    mine = client.get(f"/v1/cases/{case['id']}", headers=bearer(tokens["access_token"])).get_json()
    assert [h["status"] for h in mine["status_history"]] == [
        "draft", "submitted", "in_review", "approval_pending", "approved"]
    assert "decisions" not in mine and "checks" not in mine
    templates = [m["template"] for m in outbox(email)]
    assert templates[-2:] == ["case_approval_pending", "case_approved"]
    assert "одобрена" in outbox(email)[-1]["text"]
    views = db().query(AuditEvent).filter_by(action="case.view", subject_id=case["id"]).count()
    assert views >= 4
    denied = db().query(AuditEvent).filter_by(action="case.decision", outcome="denied").count()
    assert denied == 2


def test_supervisor_cannot_approve_twice(client, register_relative, make_staff):
    _, _, tokens = register_relative()
    prisoner_id = add_prisoner()
    case = submitted_case(client, tokens["access_token"])
    supervisor = make_staff("supervisor")
    token = supervisor["access_token"]
    assert _link(client, token, case["id"], prisoner_id).status_code == 200
    assert _decide(client, token, case["id"], "approve").status_code == 201
    r = _decide(client, token, case["id"], "approve")
    assert r.status_code == 409 and r.get_json()["code"] == "four_eyes_required"
    assert _decide(client, make_staff("supervisor")["access_token"], case["id"],
                   "approve").status_code == 201


def test_approve_without_link_is_invalid_state(client, register_relative, make_staff):
    _, _, tokens = register_relative()
    case = submitted_case(client, tokens["access_token"])
    r = _decide(client, make_staff("officer")["access_token"], case["id"], "approve")
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"


def test_flags(client, register_relative, make_staff):
    """Each inconsistency is caught by the check that owns it."""
    officer = make_staff("officer")["access_token"]
    add_prisoner()
    _, _, first = register_relative()
    good = submitted_case(client, first["access_token"])
    assert checks_of(client, officer, good["id"])["conflicting_claims"]["result"] == "clear"

    cases = {
        "wrong check digit": dict(passport_mrz=td3()[:-1] + str((int(td3()[-1]) + 1) % 10)),
        "expired": dict(passport_mrz=td3(expiry=date(2020, 1, 31))),
        "another mother": dict(certificate={**BIRTH_CERTIFICATE,
                                            "mother_name": "Петренко Ольга Ивановна"}),
        "reused passport": dict(),
    }
    results = {}
    for label, documents in cases.items():
        _, _, tokens = register_relative()
        case = submitted_case(client, tokens["access_token"], **documents)
        results[label] = checks_of(client, officer, case["id"])
    assert results["wrong check digit"]["mrz_valid"]["result"] == "fail"
    assert "composite" in results["wrong check digit"]["mrz_valid"]["detail"]
    assert results["expired"]["mrz_valid"]["result"] == "clear"
    assert results["expired"]["document_not_expired"]["result"] == "fail"
    assert "2020-01-31" in results["expired"]["document_not_expired"]["detail"]
    assert results["another mother"]["relationship_evidence"]["result"] == "fail"
    assert "another mother" in results["another mother"]["relationship_evidence"]["detail"]
    # every later case reuses the first one's passport number and claims the same soldier
    for label in cases:
        assert results[label]["duplicate_document"]["result"] == "fail", label
        assert results[label]["conflicting_claims"]["result"] == "fail", label
    assert results["reused passport"]["mrz_valid"]["result"] == "clear"
    assert results["reused passport"]["applicant_matches_document"]["result"] == "clear"
    # the first claim learns of the others once its checks re-run
    prisoner_id = checks_of(client, officer, good["id"]) and client.get(
        f"/v1/admin/cases/{good['id']}", headers=bearer(officer)).get_json()[
        "match_candidates"][0]["prisoner"]["id"]
    r = _link(client, officer, good["id"], prisoner_id)
    flagged = {c["name"]: c["result"] for c in r.get_json()["checks"]}
    assert flagged["conflicting_claims"] == "fail" and flagged["duplicate_document"] == "fail"


def test_father_and_mother_claims_are_a_consideration_not_a_failure(client, register_relative,
                                                                    make_staff):
    officer = make_staff("officer")["access_token"]
    add_prisoner()
    _, _, mother = register_relative()
    submitted_case(client, mother["access_token"])
    _, _, father = register_relative()
    case = open_case(client, father["access_token"], {
        **CASE_BODY, "relationship": "father",
        "applicant": {"surname": "Иванов", "given_name": "Сергей", "patronymic": "Николаевич",
                      "birth_date": "1970-01-05", "citizenship": "RUS"}})
    complete_documents(case["id"], passport_mrz=td3(surname="IVANOV", given="SERGEI",
                                                    number="759999999", sex="M",
                                                    birth=date(1970, 1, 5)))
    client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(father["access_token"]))
    checks = checks_of(client, officer, case["id"])
    assert checks["conflicting_claims"]["result"] == "consider"
    assert "mother" in checks["conflicting_claims"]["detail"]
    assert checks["relationship_evidence"]["result"] == "clear"
    assert checks["next_of_kin_consistency"]["result"] == "clear"
    assert checks["applicant_matches_document"]["result"] == "clear"
    assert checks["duplicate_document"]["result"] == "clear"


def test_registry_mother_differs(client, register_relative, make_staff):
    officer = make_staff("officer")["access_token"]
    prisoner_id = add_prisoner(mother_name="Сидорова Анна Павловна")
    _, _, tokens = register_relative()
    case = submitted_case(client, tokens["access_token"])
    r = _link(client, officer, case["id"], prisoner_id)
    checks = {c["name"]: c for c in r.get_json()["checks"]}
    assert checks["next_of_kin_consistency"]["result"] == "fail"
    assert checks["registry_match"]["result"] == "clear"


def test_applicant_differs_from_passport(client, register_relative, make_staff):
    officer = make_staff("officer")["access_token"]
    _, _, tokens = register_relative()
    case = submitted_case(client, tokens["access_token"],
                          passport_mrz=td3(surname="PETROVA", birth=date(1972, 4, 2)))
    checks = checks_of(client, officer, case["id"])
    assert checks["applicant_matches_document"]["result"] == "fail"
    assert "surname" in checks["applicant_matches_document"]["detail"]
    assert "birth date" in checks["applicant_matches_document"]["detail"]
    assert checks["registry_match"]["result"] == "consider"
    assert checks["next_of_kin_consistency"]["result"] == "consider"


def test_request_info_loop(client, register_relative, make_staff, outbox):
    email, _, tokens = register_relative()
    token = tokens["access_token"]
    case = submitted_case(client, token)
    officer = make_staff("officer")["access_token"]
    r = _decide(client, officer, case["id"], "request_info",
                reason="Фотография свидетельства размыта, загрузите её ещё раз.",
                requested_documents=["birth_certificate"])
    assert r.status_code == 201 and r.get_json()["status"] == "info_requested"
    message = outbox(email)[-1]
    assert message["template"] == "case_info_requested" and message["language"] == "ru"
    assert "«Фотография свидетельства размыта, загрузите её ещё раз.»" in message["text"]
    assert "Пожалуйста, добавьте: свидетельство о рождении." in message["text"]

    mine = client.get(f"/v1/cases/{case['id']}", headers=bearer(token)).get_json()
    assert mine["status"] == "info_requested"
    assert mine["missing_documents"] == ["birth_certificate"]
    r = client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    assert r.status_code == 409 and r.get_json()["missing"] == ["birth_certificate"]
    r = client.patch(f"/v1/cases/{case['id']}", json={"soldier": {"unit": None}},
                     headers=bearer(token))
    assert r.status_code == 200 and "unit" not in r.get_json()["soldier"]
    add_document(case["id"], "birth_certificate", fields=BIRTH_CERTIFICATE)
    r = client.post(f"/v1/cases/{case['id']}/submit", headers=bearer(token))
    assert r.status_code == 202 and r.get_json()["status"] == "in_review"
    assert [h["status"] for h in r.get_json()["status_history"]] == [
        "draft", "submitted", "in_review", "info_requested", "submitted", "in_review"]
    detail = client.get(f"/v1/admin/cases/{case['id']}", headers=bearer(officer)).get_json()
    assert [d["decision"] for d in detail["decisions"]] == ["request_info"]
    assert detail["decisions"][0]["reason"].startswith("Фотография")


def test_reject(client, register_relative, make_staff, outbox):
    email, _, tokens = register_relative(language="uk")
    case = submitted_case(client, tokens["access_token"])
    officer = make_staff("officer")["access_token"]
    r = _decide(client, officer, case["id"], "reject", reason="The certificate is forged.")
    assert r.status_code == 201 and r.get_json()["status"] == "rejected"
    message = outbox(email)[-1]
    assert message["template"] == "case_rejected" and message["language"] == "uk"
    assert "відхилено" in message["text"] and "forged" not in message["text"]
    for decision in ("approve", "reject", "request_info"):
        r = _decide(client, officer, case["id"], decision)
        assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"
    r = client.post(f"/v1/cases/{case['id']}/withdraw", headers=bearer(tokens["access_token"]))
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"


def test_decision_input(client, register_relative, make_staff):
    _, _, tokens = register_relative()
    case = submitted_case(client, tokens["access_token"])
    officer = make_staff("officer")["access_token"]
    path = f"/v1/admin/cases/{case['id']}/decisions"
    for body, field in (({"decision": "approve"}, "reason"),
                        ({"decision": "approve", "reason": "   "}, "reason"),
                        ({"decision": "approve", "reason": "x" * 2001}, "reason"),
                        ({"decision": "maybe", "reason": "Because."}, "decision"),
                        ({"decision": "reject", "reason": "No.",
                          "requested_documents": ["photo"]}, "requested_documents"),
                        ({"decision": "request_info", "reason": "More.",
                          "requested_documents": ["selfie"]}, "requested_documents")):
        r = client.post(path, json=body, headers=bearer(officer))
        assert r.status_code == 400 and field in r.get_json()["errors"], body
    r = _link(client, officer, case["id"], "00000000-0000-0000-0000-000000000000")
    assert r.status_code == 400 and "prisoner_id" in r.get_json()["errors"]
    r = _link(client, officer, case["id"], "not-a-uuid")
    assert r.status_code == 400 and "prisoner_id" in r.get_json()["errors"]
    detail = client.get(f"/v1/admin/cases/{case['id']}", headers=bearer(officer)).get_json()
    assert detail["status"] == "in_review" and detail["decisions"] == []


def test_invalid_state_comes_before_the_body(client, register_relative, make_staff):
    _, _, tokens = register_relative()
    token = tokens["access_token"]
    case = submitted_case(client, token)
    r = client.patch(f"/v1/cases/{case['id']}", json={"status": "approved"},
                     headers=bearer(token))
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"
    draft = open_case(client, token)
    officer = make_staff("officer")["access_token"]
    r = client.post(f"/v1/admin/cases/{draft['id']}/decisions", json={"nonsense": 1},
                    headers=bearer(officer))
    assert r.status_code == 404
    r = _decide(client, officer, case["id"], "reject", reason="Rejected.")
    assert r.status_code == 201
    r = client.post(f"/v1/admin/cases/{case['id']}/decisions", json={"nonsense": 1},
                    headers=bearer(officer))
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"
    r = client.post(f"/v1/admin/cases/{case['id']}/link", json={}, headers=bearer(officer))
    assert r.status_code == 409 and r.get_json()["code"] == "invalid_state"


def test_queue_oldest_first_with_status_filter(client, register_relative, make_staff):
    officer = make_staff("officer")["access_token"]
    ids = []
    for _ in range(3):
        _, _, tokens = register_relative()
        ids.append(submitted_case(client, tokens["access_token"])["id"])
    _, _, tokens = register_relative()
    open_case(client, tokens["access_token"])
    page = client.get("/v1/admin/cases?limit=2", headers=bearer(officer)).get_json()
    assert [c["id"] for c in page["items"]] == ids[:2]
    assert "checks" in page["items"][0]
    rest = client.get(f"/v1/admin/cases?limit=2&cursor={page['next_cursor']}",
                      headers=bearer(officer)).get_json()
    assert [c["id"] for c in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    _decide(client, officer, ids[1], "reject", reason="No.")
    rejected = client.get("/v1/admin/cases?status=rejected", headers=bearer(officer)).get_json()
    assert [c["id"] for c in rejected["items"]] == [ids[1]]
    for bad in ("status=draft", "status=nope", "cursor=%%%", "limit=0"):
        r = client.get(f"/v1/admin/cases?{bad}", headers=bearer(officer))
        assert r.status_code == 400 and r.get_json()["code"] == "validation_error", bad
    for role in ("auditor", "checkpoint", "admin"):
        r = client.get("/v1/admin/cases", headers=bearer(make_staff(role)["access_token"]))
        assert r.status_code == 403
