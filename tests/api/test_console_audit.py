"""The auditors' pages: the events with every filter of GET /v1/audit/events, keyset pages,
the verification that names a tampered event, the signed heads and the export; auditors
only, each read in the log as the API's are."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from api.web import audit_pages
from services.audit.events import SYSTEM, record_event
from services.core import unit_of_work
from storage.db import session as db, utcnow
from storage.models.audit import AuditEvent, AuditTreeHead
from tests.support.console import csrf_of, refuse_outsiders, signed_in
from tests.support.databases import owner_engine
from tests.support.statements import page_statements

PAGES = ("/console/audit", "/console/audit/verify", "/console/audit/heads",
         "/console/audit/export")
HMAC = "ab" * 32
KYIV = ZoneInfo("Europe/Kyiv")


def _append(n: int, action: str = "test.event", **fields) -> None:
    for i in range(n):
        record_event(action, fields.pop("actor", SYSTEM), subject_type="thing",
                     subject_id=f"id-{i}", reason=f"reason {i}", **fields)
        unit_of_work.commit()
    db.remove()


def _seqs(client, **args) -> list[int]:
    r = client.get("/console/audit", query_string=args)
    assert r.status_code == 200, r.status_code
    return [int(s) for s in re.findall(r'class="audit-event" data-seq="(\d+)"',
                                       r.get_data(as_text=True))]


def _kyiv(moment) -> str:
    return moment.astimezone(KYIV).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.parametrize("role", ["officer", "supervisor", "admin"])
def test_other_staff_roles_are_refused_every_page(app, role):
    client, _ = signed_in(app, role, f"{role}@kinpass.example")
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    token = csrf_of(client.get("/console/", follow_redirects=True).get_data(as_text=True))
    assert client.post("/console/audit/heads", data={"csrf_token": token}).status_code == 403
    db.remove()
    assert db().execute(select(AuditTreeHead)).first() is None


def test_relatives_and_checkpoints_are_refused(app, register_relative, make_staff):
    refuse_outsiders(app, register_relative, make_staff, PAGES)


def test_every_filter_of_the_api(app):
    auditor, staff = signed_in(app, "auditor", "auditor@kinpass.example")
    start = len(_seqs(auditor))  # the sign-in's own events, and this read
    _append(2, "test.one")
    _append(1, "test.two", document_number_hmac=HMAC)
    everything = _seqs(auditor)
    assert len(everything) == start + 4  # and the read before
    assert _seqs(auditor, action="test.one") == everything[start + 1:start + 3]
    assert _seqs(auditor, action="test.two") == [everything[start + 3]]
    assert _seqs(auditor, subject_type="thing", subject_id="id-1") == [everything[start + 2]]
    assert _seqs(auditor, document_number_hmac=HMAC.upper()) == [everything[start + 3]]
    mine = _seqs(auditor, actor_id=staff.id)
    assert everything[start] in mine and not set(everything[start + 1:]) & set(mine)
    now = utcnow()
    assert _seqs(auditor, since=_kyiv(now + timedelta(hours=1))) == []
    assert _seqs(auditor, until=_kyiv(now - timedelta(hours=1))) == []
    window = _seqs(auditor, since=_kyiv(now - timedelta(hours=1)),
                   until=_kyiv(now + timedelta(hours=1)))
    assert window[:len(everything)] == everything
    assert auditor.get("/console/audit", query_string={
        "since": _kyiv(now), "until": _kyiv(now - timedelta(hours=1))}).status_code == 400
    assert auditor.get("/console/audit?document_number_hmac=xyz").status_code == 400
    assert auditor.get("/console/audit?actor_id=nobody").status_code == 400
    reads = db().execute(select(AuditEvent.reason).where(
        AuditEvent.action == "audit.read", AuditEvent.subject_id == "events")).scalars().all()
    assert "action=test.one" in reads


def test_keyset_pages(app, monkeypatch):
    auditor, _ = signed_in(app, "auditor", "auditor@kinpass.example")
    _append(5, "test.page")
    monkeypatch.setattr(audit_pages, "PAGE", 2)
    html = auditor.get("/console/audit?action=test.page").get_data(as_text=True)
    seen = [int(s) for s in re.findall(r'data-seq="(\d+)"', html)]
    pages = [seen]
    while 'rel="next"' in html:
        link = re.search(r'rel="next" href="([^"]+)"', html)[1].replace("&amp;", "&")
        assert "action=test.page" in link
        html = auditor.get(link).get_data(as_text=True)
        pages.append([int(s) for s in re.findall(r'data-seq="(\d+)"', html)])
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [s for p in pages for s in p]
    assert flat == sorted(flat) and len(set(flat)) == 5


def test_verification_holds_then_names_the_tampered_event(app):
    _append(4)
    auditor, _ = signed_in(app, "auditor", "auditor@kinpass.example")
    html = auditor.get("/console/audit/verify").get_data(as_text=True)
    assert 'data-ok="true"' in html and "The log holds" in html
    with owner_engine().begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        conn.execute(text("UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 3"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    db.remove()
    html = auditor.get("/console/audit/verify").get_data(as_text=True)
    assert 'data-ok="false"' in html and 'class="first-bad" data-seq="3"' in html
    assert "The log does not hold." in html
    verifications = db().execute(select(AuditEvent).where(
        AuditEvent.action == "audit.read", AuditEvent.subject_id == "verify")).scalars().all()
    assert len(verifications) == 2


def test_tree_heads_latest_and_signed_on_demand(app):
    auditor, _ = signed_in(app, "auditor", "auditor@kinpass.example")
    html = auditor.get("/console/audit/heads").get_data(as_text=True)
    assert "No tree head has been signed yet." in html
    r = auditor.post("/console/audit/heads", data={"other": "x"})
    assert r.status_code == 403  # no CSRF token
    db.remove()
    assert db().execute(select(AuditTreeHead)).first() is None
    r = auditor.post("/console/audit/heads", data={"csrf_token": csrf_of(html)})
    assert r.status_code == 303
    html = auditor.get("/console/audit/heads").get_data(as_text=True)
    db.remove()
    head = db().execute(select(AuditTreeHead)).scalar_one()
    assert f'class="tree-size">{head.tree_size}<' in html and head.root_hash in html
    assert head.jws in html
    assert db().execute(select(AuditEvent).where(
        AuditEvent.action == "audit.tree_head")).scalar_one()


def test_the_export_is_the_apis_as_a_download(app, client, make_staff):
    _append(3, "test.export")
    auditor, _ = signed_in(app, "auditor", "auditor@kinpass.example")
    r = auditor.get("/console/audit/export")
    assert r.status_code == 200 and r.mimetype == "application/x-ndjson"
    assert r.headers["Content-Disposition"] == 'attachment; filename="kinpass-audit.ndjson"'
    assert r.headers["Cache-Control"] == "no-store"
    console_lines = [json.loads(line) for line in r.get_data(as_text=True).splitlines()]
    api = make_staff("auditor")
    r = client.get("/v1/audit/export", headers={"Authorization": f"Bearer {api['access_token']}"})
    api_lines = [json.loads(line) for line in r.get_data(as_text=True).splitlines()]
    shared = min(len(console_lines), len(api_lines))
    assert shared >= 4 and console_lines[:shared] == api_lines[:shared]
    assert [e["action"] for e in console_lines[:3]] == ["test.export"] * 3
    later = _kyiv(utcnow() + timedelta(hours=1))
    r = auditor.get("/console/audit/export", query_string={"since": later})
    assert r.status_code == 200 and r.get_data() == b""
    exports = db().execute(select(AuditEvent).where(
        AuditEvent.action == "audit.read", AuditEvent.subject_id == "export")).scalars().all()
    assert len(exports) == 3


def test_the_events_page_statements_do_not_grow_with_the_page(app):
    auditor, _ = signed_in(app, "auditor", "auditor@kinpass.example")
    counts = page_statements(app, auditor, "/console/audit?action=test.count",
                             lambda: _append(3, "test.count"), "audit-event")
    assert counts[0] == counts[1], counts


def test_texts_in_events_are_rendered_as_text_in_ukrainian_by_default(app):
    hostile = "<script>alert(1)</script>"
    record_event("test.hostile", SYSTEM, subject_type="thing", subject_id=hostile,
                 reason=hostile)
    unit_of_work.commit()
    db.remove()
    auditor, _ = signed_in(app, "auditor", "auditor@kinpass.example")
    auditor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "uk"
    html = auditor.get("/console/audit").get_data(as_text=True)
    assert 'data-action="test.hostile"' in html and hostile not in html
    assert "&lt;script&gt;" in html and "Журнал аудиту" in html
