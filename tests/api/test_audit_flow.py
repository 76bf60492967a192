"""One mother's whole journey, as the auditor reads it back: every step is in the log, in
order, with who, what, outcome and request — and no secret of hers is."""
from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main as cli
from services.audit import events as audit, reading as audit_reading
from storage.db import session as db, utcnow
from storage.models import AuditEvent
from tests.support.cases import BIRTH_CERTIFICATE, add_prisoner, open_case, td3
from tests.support.documents import MARKER, jpeg, upload
from tests.support.http import bearer


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _walk(client, register_relative, make_staff, outbox) -> dict:
    email, password, tokens = register_relative()
    mother = bearer(tokens["access_token"])
    officer = make_staff("officer")
    supervisor = make_staff("supervisor")
    gate = make_staff("checkpoint")
    auditor = make_staff("auditor")
    prisoner_id = add_prisoner()
    start = db().execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalar()
    db.remove()

    case = open_case(client, tokens["access_token"])
    passport = upload(client, tokens["access_token"], case["id"], jpeg(20_000),
                      kind="passport", mrz=td3(number="751234567"))
    upload(client, tokens["access_token"], case["id"], jpeg(20_000), kind="birth_certificate",
           fields=BIRTH_CERTIFICATE)
    _ok(client.post(f"/v1/cases/{case['id']}/submit", headers=mother), 202)
    staff = bearer(officer["access_token"])
    _ok(client.get(f"/v1/admin/cases/{case['id']}", headers=staff))
    content = client.get(f"/v1/admin/documents/{passport['id']}/content",
                         headers={**staff, "X-Access-Reason": "identity check for the hotline"})
    assert content.status_code == 200 and content.data.startswith(b"\xff\xd8")
    _ok(client.post(f"/v1/admin/cases/{case['id']}/link", json={"prisoner_id": prisoner_id},
                    headers=staff))
    _ok(client.post(f"/v1/admin/cases/{case['id']}/decisions",
                    json={"decision": "approve", "reason": "documents and registry agree"},
                    headers=staff), 201)
    _ok(client.post(f"/v1/admin/cases/{case['id']}/decisions",
                    json={"decision": "approve", "reason": "second pair of eyes: agreed"},
                    headers=bearer(supervisor["access_token"])), 201)
    now = utcnow()
    handover = _ok(client.post("/v1/admin/handovers", json={
        "location": "Kyiv", "starts_at": _iso(now - timedelta(hours=1)),
        "ends_at": _iso(now + timedelta(hours=5))}, headers=staff), 201)
    travel = _ok(client.post(f"/v1/admin/cases/{case['id']}/authorizations", json={
        "kind": "travel", "valid_from": _iso(now - timedelta(hours=1)),
        "valid_until": _iso(now + timedelta(days=3))}, headers=staff), 201)
    pickup = _ok(client.post(f"/v1/admin/cases/{case['id']}/authorizations", json={
        "kind": "pickup", "handover_id": handover["id"]}, headers=staff), 201)
    checkpoint = bearer(gate["access_token"])
    verdict = _ok(client.post("/v1/checkpoint/verify", json={"token": pickup["token"]},
                              headers=checkpoint))
    assert verdict["result"] == "valid"
    _ok(client.post("/v1/checkpoint/redeem", json={"token": pickup["token"]},
                    headers=checkpoint))
    assert client.get(f"/v1/admin/cases/{case['id']}", headers=mother).status_code == 403
    return {"start": start, "case": case, "email": email, "password": password,
            "tokens": [tokens["access_token"], tokens["refresh_token"], travel["token"],
                       pickup["token"], officer["access_token"], officer["refresh_token"],
                       supervisor["access_token"], gate["access_token"]],
            "secrets": [officer["password"], officer["totp_secret"], supervisor["password"],
                        gate["password"], auditor["password"]],
            "auditor": bearer(auditor["access_token"]), "staff": (officer, supervisor, gate)}


# Link and decisions answer with the staff view of the case, which is itself a read.
EXPECTED = [
    ("case.create", "relative", "case", "success"),
    ("document.create", "relative", "document", "success"),
    ("document.upload", "relative", "document", "success"),
    ("document.create", "relative", "document", "success"),
    ("document.upload", "relative", "document", "success"),
    ("case.submit", "relative", "case", "success"),
    ("case.view", "officer", "case", "success"),
    ("document.view", "officer", "document", "success"),
    ("case.link", "officer", "case", "success"),
    ("case.view", "officer", "case", "success"),
    ("case.decision", "officer", "case", "success"),
    ("case.view", "officer", "case", "success"),
    ("case.decision", "supervisor", "case", "success"),
    ("case.view", "supervisor", "case", "success"),
    ("handover.create", "officer", "handover", "success"),
    ("authorization.issue", "officer", "authorization", "success"),
    ("authorization.issue", "officer", "authorization", "success"),
    ("checkpoint.verify", "checkpoint", "authorization", "success"),
    ("case.complete", "checkpoint", "case", "success"),
    ("checkpoint.redeem", "checkpoint", "authorization", "success"),
    ("access.denied", "relative", "endpoint", "denied"),
]


def test_the_whole_flow_is_logged_in_order(client, register_relative, make_staff, outbox):
    walked = _walk(client, register_relative, make_staff, outbox)
    rows = db().execute(select(AuditEvent).where(AuditEvent.seq > walked["start"])
                        .order_by(AuditEvent.seq)).scalars().all()
    db.remove()
    written = [(r.action, r.actor_role, r.subject_type, r.outcome) for r in rows]
    assert written == EXPECTED
    case_events = [r for r in rows if r.subject_type == "case"]
    assert {r.subject_id for r in case_events} == {walked["case"]["id"]}
    decisions = [r for r in rows if r.action == "case.decision"]
    assert all(r.reason for r in decisions)
    (viewed,) = [r for r in rows if r.action == "document.view"]
    number = audit.searchable_hash("751234567")
    assert viewed.reason == "identity check for the hotline"
    assert viewed.document_number_hmac == number
    created = [r for r in rows if r.action == "document.create"]
    assert [r.document_number_hmac for r in created].count(number) == 1
    assert all(r.document_number_hmac is None for r in rows if r.subject_type != "document")
    assert all(r.request_id and r.ip == "127.0.0.1" and r.actor_id for r in rows)
    officer = walked["staff"][0]
    views = [r for r in rows if r.action == "case.view"]
    assert str(views[0].actor_id) == str(officer["id"])

    report = audit_reading.verify_log(audit.SYSTEM)
    assert report.ok and report.first_bad_seq is None and report.events >= rows[-1].seq
    api = _ok(client.get("/v1/audit/verify", headers=walked["auditor"]))
    assert api["ok"] is True and api["head"]["seq"] >= rows[-1].seq


def test_no_secret_of_the_flow_enters_the_log(client, register_relative, make_staff, outbox):
    walked = _walk(client, register_relative, make_staff, outbox)
    export = client.get("/v1/audit/export", headers=walked["auditor"])
    assert export.status_code == 200
    dump = export.get_data(as_text=True)
    events = [json.loads(line) for line in dump.splitlines()]
    assert len(events) > 20
    codes = [m["code"] for m in outbox() if m.get("code")]
    assert codes
    forbidden = [walked["password"], *walked["tokens"], *walked["secrets"], *codes,
                 "751234567", "IVANOVA<<MARIIA", "P<RUS", MARKER.decode()]
    for secret in forbidden:
        assert secret not in dump, secret
        for token_part in secret.split(".") if secret.count(".") == 2 else []:
            assert token_part not in dump


def test_an_auditor_finds_who_saw_a_passport_from_its_number(client, register_relative,
                                                             make_staff, outbox, base_config,
                                                             monkeypatch):
    """`kinpass audit hash 75 1234 567` prints the value the log holds; the events list
    filters on it; no reason carries it."""
    walked = _walk(client, register_relative, make_staff, outbox)
    monkeypatch.setenv("KINPASS_DATA_DIR", base_config["data_dir"])
    monkeypatch.setenv("KINPASS_DATABASE_URL", base_config["database_url"])
    printed = CliRunner().invoke(cli, ["audit", "hash", "75 1234 567"])
    assert printed.exit_code == 0, printed.output
    number = printed.output.strip()
    assert number == audit.searchable_hash("751234567")
    found = client.get(f"/v1/audit/events?document_number_hmac={number}",
                       headers=walked["auditor"]).get_json()["items"]
    assert [(e["action"], e["document_number_hmac"]) for e in found] == [
        ("document.create", number), ("document.view", number)]
    assert found[-1]["actor_role"] == "officer"
    assert found[-1]["reason"] == "identity check for the hotline"
    upper = client.get(f"/v1/audit/events?document_number_hmac={number.upper()}",
                       headers=walked["auditor"]).get_json()["items"]
    # The first search is itself an event about the number now.
    assert [(e["seq"], e["action"]) for e in upper[:2]] == [(e["seq"], e["action"])
                                                           for e in found]
    assert [(e["action"], e["subject_id"]) for e in upper[2:]] == [("audit.read", "events")]
    (document_id,) = {e["subject_id"] for e in found}
    events = client.get(f"/v1/audit/events?subject_type=document&subject_id={document_id}",
                        headers=walked["auditor"]).get_json()["items"]
    assert [e["action"] for e in events] == ["document.create", "document.upload",
                                             "document.view"]
    dump = client.get("/v1/audit/export", headers=walked["auditor"]).get_data(as_text=True)
    exported = [json.loads(line) for line in dump.splitlines()]
    assert not [e for e in exported if number in (e["reason"] or "")]
    searches = [e for e in exported if e["action"] == "audit.read"
                and e["document_number_hmac"] == number]
    assert [e["subject_id"] for e in searches] == ["events", "events"]
    assert all(number not in (e["reason"] or "") for e in searches)


def test_the_number_filter_takes_a_digest_only(client, make_staff):
    auditor = bearer(make_staff("auditor")["access_token"])
    for bad in ("751234567", "g" * 64, "a" * 63, "a" * 65, "a" * 63 + "%0A"):
        r = client.get(f"/v1/audit/events?document_number_hmac={bad}", headers=auditor)
        assert r.status_code == 400 and r.get_json()["code"] == "validation_error"
