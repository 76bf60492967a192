"""Account actions land in the hash chain, secrets never do, and tampering is named."""
from __future__ import annotations

from itertools import pairwise

from sqlalchemy import select, text

from services.audit.reading import verify_chain
from storage.db import session as db
from storage.models import AuditEvent
from tests.support.databases import owner_engine
from tests.support.http import bearer


def _events() -> list[AuditEvent]:
    rows = db().execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    db.remove()
    return rows


def test_account_flow_is_audited(client, register_relative, make_staff, outbox):
    email, password, tokens = register_relative()
    client.post("/v1/auth/login", json={"login": email, "password": "wrong-password-9"})
    client.post("/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    client.post("/v1/auth/logout", headers=bearer(tokens["access_token"]))
    client.get("/v1/admin/staff", headers=bearer(register_relative()[2]["access_token"]))
    client.get("/v1/me")
    rows = _events()
    actions = [(r.action, r.outcome) for r in rows]
    assert actions[:6] == [("account.register", "success"), ("account.verify", "success"),
                           ("auth.login", "success"), ("auth.login", "failure"),
                           ("auth.refresh", "success"), ("auth.logout", "success")]
    assert ("access.denied", "denied") in actions[-2:]
    forbidden = [r for r in rows if r.action == "access.denied" and "403" in (r.reason or "")]
    assert forbidden and forbidden[0].actor_role == "relative" and forbidden[0].actor_id
    assert all(r.request_id and r.ip == "127.0.0.1" for r in rows)
    codes = [m["code"] for m in outbox() if "code" in m]
    dump = " ".join(str([getattr(r, c.key) for c in AuditEvent.__table__.columns]) for r in rows)
    for secret in [password, "wrong-password-9", tokens["access_token"],
                   tokens["refresh_token"], *codes]:
        assert secret not in dump
    report = verify_chain(db())
    assert report.ok and report.events == len(rows) and report.first_bad_seq is None
    assert report.head_hash == rows[-1].hash


def test_altered_row_is_named(client, register_relative, app):
    register_relative()
    register_relative()
    rows = _events()
    assert len(rows) >= 6
    target = rows[3].seq
    with owner_engine(app.extensions["kinpass"].engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE audit_events SET reason = 'edited' WHERE seq = :s"),
                     {"s": target})
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    report = verify_chain(db())
    db.remove()
    assert not report.ok and report.first_bad_seq == target


def test_chain_links_each_event_to_the_previous(client, register_relative):
    register_relative()
    rows = _events()
    assert rows[0].seq == 1 and rows[0].prev_hash == "0" * 64
    for before, after in pairwise(rows):
        assert after.seq == before.seq + 1 and after.prev_hash == before.hash
