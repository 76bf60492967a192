"""Every list route, declared once: its query budget (as many SQL statements for a page of 20
items as for a page of 2, for every role it admits), its items, its cursors."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from services.audit.events import SYSTEM, checkpoint_now, record_event
from services.authorizations.signing_keys import active_signing_key
from services.core import unit_of_work
from services.registry.prisoners import create_prisoner
from storage.db import session as db, utcnow
from storage.models.accounts import Account
from storage.models.audit import AuditEvent
from storage.models.authorizations import Authorization, Handover
from storage.models.cases import Case, CaseDecision, CaseStatusChange, Document
from storage.models.messages import Device
from tests.support.statements import statements

SMALL, LARGE = 2, 20
ITEMS = LARGE + 1  # every list has more than a large page, so both pages are full
STEPS = ("draft", "submitted", "in_review", "approval_pending", "approved")
PERSON = {"surname": "Иванов", "given_name": "Алексей", "birth_date": "2001-09-14"}


@dataclass
class World:
    relative_token: str
    crowded_case_id: uuid.UUID  # the relative's case with more than a page of authorizations


def _headers(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "X-Access-Reason": "budget check"}


def _account(role: str, n: int) -> Account:
    account = Account(email=f"{role}-{n}@budget.example", full_name=f"{role.title()} {n}",
                      role=role, language="uk", status="active", password_hash="-")
    db().add(account)
    return account


def _prisoner(n: int) -> uuid.UUID:
    return create_prisoner(actor=SYSTEM, registry_number=f"UA-BUDGET-{n:04d}", surname="Иванов",
                           given_name="Алексей", birth_date=date(2001, 9, 14),
                           status="held").id


def _authorization(case_id: uuid.UUID, kid: str, *, kind: str, status: str,
                   handover_id: uuid.UUID | None, at) -> Authorization:
    return Authorization(case_id=case_id, kind=kind, status=status, valid_from=at,
                         valid_until=at + timedelta(days=2), handover_id=handover_id, kid=kid,
                         token="header.claims.signature", issued_at=at,
                         entry_point="Суджа" if kind == "travel" else None)


def _case(owner_id: uuid.UUID, n: int, *, at, linked: uuid.UUID, candidate: uuid.UUID,
          deciders: list[Account], kid: str, handover_id: uuid.UUID) -> Case:
    """An approved case with everything a case view shows: history, documents, checks,
    candidates, a linked prisoner, decisions and authorizations."""
    case = Case(account_id=owner_id, status="approved", relationship="mother",
                applicant=dict(PERSON, given_name=f"Мария{n}"), soldier=dict(PERSON),
                prisoner_id=linked, created_at=at, updated_at=at, submitted_at=at,
                checks=[{"name": "registry_match", "result": "clear", "detail": "one match"}],
                match_candidates=[
                    {"prisoner_id": str(p), "score": 0.9, "matched_on": ["surname"]}
                    for p in (linked, candidate)])
    db().add(case)
    db().flush()
    for seq, step in enumerate(STEPS, start=1):
        db().add(CaseStatusChange(case_id=case.id, seq=seq, status=step, at=at))
    for kind in ("passport", "birth_certificate"):
        db().add(Document(case_id=case.id, kind=kind, content_type="image/jpeg", size=10,
                          sha256="0" * 64, status="stored", uploaded_at=at))
    for decider in deciders:
        db().add(CaseDecision(case_id=case.id, decision="approve", by=decider.id,
                              role=decider.role, reason="Все сходится", at=at))
    db().add(_authorization(case.id, kid, kind="travel", status="active", handover_id=None,
                            at=at))
    db().add(_authorization(case.id, kid, kind="pickup", status="active",
                            handover_id=handover_id, at=at))
    return case


@pytest.fixture
def world(register_relative, client) -> World:
    """More than a page of everything each list shows. The relative's cases alternate with
    other relatives' cases in the staff queue, each case with its own prisoners."""
    tokens = register_relative()[2]
    relative_id = uuid.UUID(client.get("/v1/me", headers=_headers(tokens["access_token"]))
                            .get_json()["id"])
    start = utcnow() - timedelta(days=1)
    kid = active_signing_key()[0]
    staff = [_account("officer", n) for n in range(ITEMS)]
    deciders = [_account("supervisor", 0), staff[0]]
    handovers = [Handover(location=f"Пункт №{n}", starts_at=start + timedelta(hours=n),
                          ends_at=start + timedelta(hours=n + 2)) for n in range(ITEMS)]
    db().add_all(handovers)
    others = [_account("relative", n) for n in range(ITEMS)]
    db().flush()
    shared_candidate = _prisoner(0)
    cases = []
    for n in range(2 * ITEMS):
        owner = relative_id if n % 2 == 0 else others[n // 2].id
        cases.append(_case(owner, n, at=start + timedelta(minutes=n), linked=_prisoner(n + 1),
                           candidate=shared_candidate, deciders=deciders, kid=kid,
                           handover_id=handovers[n % ITEMS].id))
    crowded = cases[0]
    for n in range(ITEMS):
        db().add(_authorization(crowded.id, kid, kind="travel", status="revoked",
                                handover_id=None, at=start - timedelta(minutes=n)))
    for n in range(ITEMS):
        record_event("budget.event", SYSTEM, subject_type="budget", subject_id=n)
        db().add(Device(account_id=relative_id, platform="fcm", token=f"budget-device-{n}",
                        created_at=start + timedelta(seconds=n)))
    unit_of_work.commit()
    for _ in range(ITEMS):
        checkpoint_now(SYSTEM)
        unit_of_work.commit()
    world = World(tokens["access_token"], crowded.id)
    db.remove()
    return world


def list_routes(app, client) -> list[tuple[str, str, tuple[str, ...]]]:
    """(spec path, URL rule, roles) of every GET route that takes `limit`, from the document."""
    document = client.get("/openapi.json").get_json()
    rules = {re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule): rule
             for rule in app.url_map.iter_rules()}
    routes = []
    for path, item in document["paths"].items():
        parameters = item.get("get", {}).get("parameters", [])
        if any(p["in"] == "query" and p["name"] == "limit" for p in parameters):
            view = app.view_functions[rules[path].endpoint]
            routes.append((path, rules[path].rule, tuple(sorted(view._kinpass_roles))))
    return sorted(routes)


def test_list_statements_do_not_grow_with_the_page(app, client, world, make_staff):
    engine = app.extensions["kinpass"].engine
    tokens = {"relative": world.relative_token}
    paths = {"{case_id}": str(world.crowded_case_id)}
    routes = list_routes(app, client)
    assert len(routes) >= 8, routes
    budgets, over = {}, []
    for path, _, roles in routes:
        url = re.sub(r"\{[a-z_]+\}", lambda m: paths[m.group()], path)
        for role in roles:
            if role not in tokens:
                tokens[role] = make_staff(role)["access_token"]
            counts = []
            for limit in (SMALL, LARGE):
                with statements(engine) as seen:
                    r = client.get(url, query_string={"limit": limit},
                                   headers=_headers(tokens[role]))
                assert r.status_code == 200, (path, role, r.get_json())
                assert len(r.get_json()["items"]) == limit, (path, role, limit)
                counts.append(len(seen))
            budgets[(path, role)] = counts
            if counts[0] != counts[1]:
                over.append((path, role, counts))
    assert not over, over
    assert {role for _, role in budgets} == {"relative", "officer", "supervisor", "auditor",
                                             "admin"}


def test_a_page_of_case_views_is_each_case_as_read_alone(client, world, make_staff):
    """The views of a page are built together, yet each is the case's own (its documents,
    decisions, candidates, authorizations), and each staff view is audited in page order."""
    officer = _headers(make_staff("officer")["access_token"])
    page = client.get("/v1/admin/cases", query_string={"limit": LARGE}, headers=officer)
    views = page.get_json()["items"]
    viewed = db().execute(select(AuditEvent.subject_id, AuditEvent.actor_role)
                          .where(AuditEvent.action == "case.view")
                          .order_by(AuditEvent.seq)).all()
    db.remove()
    assert viewed == [(view["id"], "officer") for view in views]
    assert len({view["applicant_account"]["id"] for view in views}) == LARGE // 2 + 1
    for view in views:
        assert client.get(f"/v1/admin/cases/{view['id']}", headers=officer).get_json() == view
    relative = _headers(world.relative_token)
    mine = client.get("/v1/cases", query_string={"limit": LARGE}, headers=relative).get_json()
    assert mine["items"][0]["id"] == str(world.crowded_case_id)
    assert len(mine["items"][0]["authorizations"]) == ITEMS + 2
    for view in mine["items"]:
        assert len(view["authorizations"]) >= 2 and len(view["documents"]) == 2
        assert client.get(f"/v1/cases/{view['id']}", headers=relative).get_json() == view


def test_a_cursor_of_another_list_is_refused(client, world, make_staff):
    """A well-formed cursor whose key does not fit the list is the same 400 as garbage."""
    auditor = _headers(make_staff("auditor")["access_token"])
    admin = _headers(make_staff("admin")["access_token"])
    events = client.get("/v1/audit/events", query_string={"limit": 1}, headers=auditor)
    staff = client.get("/v1/admin/staff", query_string={"limit": 1}, headers=admin)
    for url, cursor, headers in (("/v1/admin/staff", events.get_json()["next_cursor"], admin),
                                 ("/v1/audit/events", staff.get_json()["next_cursor"], auditor)):
        r = client.get(url, query_string={"cursor": cursor}, headers=headers)
        assert r.status_code == 400, r.get_json()
        assert r.get_json()["code"] == "validation_error"
        assert r.get_json()["errors"] == {"cursor": ["Not a valid cursor."]}
