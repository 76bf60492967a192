"""The prisoner registry: create, read, list with q, update, roles, audit."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from storage.db import session as db
from storage.models import AuditEvent, PrisonerBlockingKey
from tests.support.http import bearer

BASE = "/v1/admin/prisoners"
YURI = {"registry_number": "UA-2024-000123", "surname": "Щербаков", "given_name": "Юрий",
        "patronymic": "Иванович", "birth_date": "1990-03-05", "birth_place": "г. Тула",
        "unit": "в/ч 12345", "rank": "рядовой", "captured_on": "2024-02-10",
        "mother_name": "Щербакова Нина Петровна"}


@pytest.fixture
def officer(make_staff):
    return bearer(make_staff("officer")["access_token"])


def _create(client, headers, **fields):
    r = client.post(BASE, json={**YURI, **fields}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _actions() -> list[str]:
    return list(db().execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def test_create_computes_icao_latin_and_reads_back(client, officer):
    body = _create(client, officer)
    assert body["surname_latin"] == "SHCHERBAKOV"
    assert body["given_name_latin"] == "IURII"
    assert body["patronymic_latin"] == "IVANOVICH"
    assert body["status"] == "held" and body["father_name"] is None
    assert body["created_at"].endswith("Z")
    got = client.get(f"{BASE}/{body['id']}", headers=officer)
    assert got.status_code == 200 and got.get_json() == body
    assert set(body) == {
        "id", "registry_number", "surname", "given_name", "patronymic", "surname_latin",
        "given_name_latin", "patronymic_latin", "birth_date", "birth_place", "unit", "rank",
        "service_number", "status", "captured_on", "mother_name", "father_name", "created_at",
        "updated_at"}
    assert "prisoner.create" in _actions()
    keys = db().execute(select(PrisonerBlockingKey.key).where(
        PrisonerBlockingKey.prisoner_id == uuid.UUID(body["id"]))).scalars().all()
    assert "d:19900305" in keys and "d:19900503" in keys


@pytest.mark.parametrize(("fields", "latin"), [
    ({"surname": "Шевчук", "given_name": "Олексій", "patronymic": "Євгенович"},
     ("SHEVCHUK", "OLEKSII", "IEVGENOVYCH")),
    ({"surname": "Smith", "given_name": "John", "patronymic": None}, ("SMITH", "JOHN", None)),
    ({"surname": "Подъячев", "given_name": "Пётр", "patronymic": "Ильич"},
     ("PODIEIACHEV", "PETR", "ILICH")),
])
def test_latin_fields_for_ukrainian_and_latin_names(client, officer, fields, latin):
    body = _create(client, officer, **fields)
    assert (body["surname_latin"], body["given_name_latin"], body["patronymic_latin"]) == latin


def test_taken_registry_number_is_409(client, officer):
    _create(client, officer)
    r = client.post(BASE, json={**YURI, "surname": "Иванов"}, headers=officer)
    assert r.status_code == 409 and r.get_json()["code"] == "conflict"
    assert client.get(BASE, query_string={"q": "Иванов"}, headers=officer).get_json()["items"] == []


@pytest.mark.parametrize("body", [
    {**YURI, "surname": ""},
    {**YURI, "surname": "   "},
    {**YURI, "given_name": "x" * 101},
    {**YURI, "surname": "Ivanov3"},
    {**YURI, "surname": "ბერიძე"},
    {**YURI, "birth_date": "1990-02-30"},
    {**YURI, "birth_date": "2999-01-01"},
    {**YURI, "birth_date": 19900305},
    {**YURI, "captured_on": "1980-01-01"},
    {**YURI, "status": "escaped"},
    {**YURI, "registry_number": "UA\n1"},
    {**YURI, "surname_latin": "X"},
    {**YURI, "unit": 12345},
    {k: v for k, v in YURI.items() if k != "birth_date"},
])
def test_bad_create_is_400_and_stores_nothing(client, officer, body):
    r = client.post(BASE, json=body, headers=officer)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["code"] == "validation_error" and r.get_json()["errors"]
    assert client.get(BASE, headers=officer).get_json()["items"] == []


@pytest.mark.parametrize("q", [
    "UA-2024-000123", "Щербаков", "SHCHERBAKOV", "shcherbakov", "Юрий Щербаков",
    "Yuriy Shcherbakov", "IURII SHCHERBAKOV", "Щербаков Юрий Иванович", "Yury Ivanovich Scherbakov",
    "  щербаков   юрий ",
])
def test_list_q_finds_by_registry_number_or_name_in_either_script(client, officer, q):
    mine = _create(client, officer)
    _create(client, officer, registry_number="UA-2", surname="Иванов", given_name="Юрий")
    _create(client, officer, registry_number="UA-3", surname="Щербаков", given_name="Олег")
    r = client.get(BASE, query_string={"q": q}, headers=officer)
    assert r.status_code == 200
    ids = [p["id"] for p in r.get_json()["items"]]
    assert mine["id"] in ids and len(ids) == (2 if q.strip().lower() in (
        "щербаков", "shcherbakov") else 1)


def test_list_registry_number_is_exact(client, officer):
    _create(client, officer)
    for q in ("UA-2024-00012", "ua-2024-000123"):
        assert client.get(BASE, query_string={"q": q}, headers=officer).get_json()["items"] == []


def test_list_filters_and_pages(client, officer):
    for i in range(5):
        _create(client, officer, registry_number=f"N{i}", birth_date=f"199{i}-01-01",
                status="released" if i % 2 else "held")
    held = client.get(BASE, query_string={"status": "held"}, headers=officer).get_json()
    assert {p["registry_number"] for p in held["items"]} == {"N0", "N2", "N4"}
    dated = client.get(BASE, query_string={"birth_date": "1993-01-01"}, headers=officer).get_json()
    assert [p["registry_number"] for p in dated["items"]] == ["N3"]
    seen, cursor = [], None
    while True:
        page = client.get(BASE, query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=officer).get_json()
        seen += [p["registry_number"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"N{i}" for i in range(5)] and len(seen) == 5


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"cursor": "junk"},
                                   {"status": "lost"}, {"birth_date": "1990-13-01"},
                                   {"foo": "bar"}, {"q": "x" * 201}])
def test_list_bad_query_is_400(client, officer, query):
    r = client.get(BASE, query_string=query, headers=officer)
    assert r.status_code == 400 and r.get_json()["code"] == "validation_error"


def test_patch_updates_latin_keys_and_audits(client, officer):
    body = _create(client, officer)
    r = client.patch(f"{BASE}/{body['id']}", json={"surname": "Щукин", "patronymic": None,
                                                     "status": "released",
                                                     "birth_date": "1991-07-20"},
                     headers=officer)
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["surname_latin"] == "SHCHUKIN" and out["patronymic_latin"] is None
    assert out["patronymic"] is None and out["status"] == "released"
    assert out["updated_at"] >= body["updated_at"] and out["created_at"] == body["created_at"]
    keys = set(db().execute(select(PrisonerBlockingKey.key).where(
        PrisonerBlockingKey.prisoner_id == uuid.UUID(body["id"]))).scalars())
    assert "d:19910720" in keys and "d:19900305" not in keys
    assert not any("BAKOV" in k for k in keys)
    assert client.get(BASE, query_string={"q": "Shchukin"}, headers=officer).get_json()["items"]
    event = db().execute(select(AuditEvent).where(AuditEvent.action == "prisoner.update")
                         ).scalar_one()
    assert event.subject_id == body["id"] and "surname" in event.reason
    assert "Щукин" not in (event.reason or "")


@pytest.mark.parametrize("patch", [{}, {"surname": None}, {"status": None}, {"birth_date": None},
                                   {"registry_number": ""}, {"id": str(uuid.uuid4())},
                                   {"surname_latin": "X"}, {"captured_on": "1989-01-01"}])
def test_bad_patch_is_400_and_changes_nothing(client, officer, patch):
    body = _create(client, officer)
    r = client.patch(f"{BASE}/{body['id']}", json=patch, headers=officer)
    assert r.status_code == 400 and r.get_json()["code"] == "validation_error"
    assert client.get(f"{BASE}/{body['id']}", headers=officer).get_json() == body


def test_patch_to_taken_number_is_409(client, officer):
    body = _create(client, officer)
    _create(client, officer, registry_number="UA-2")
    r = client.patch(f"{BASE}/{body['id']}", json={"registry_number": "UA-2"}, headers=officer)
    assert r.status_code == 409 and r.get_json()["code"] == "conflict"
    same = client.patch(f"{BASE}/{body['id']}", json={"registry_number": YURI["registry_number"]},
                        headers=officer)
    assert same.status_code == 200


@pytest.mark.parametrize("path", [f"{BASE}/8d0e5f7a-3c1b-4e2d-9f60-5a4b3c2d1e0f", f"{BASE}/not-a-uuid"])
def test_unknown_or_malformed_id_is_404(client, officer, path):
    assert client.get(path, headers=officer).status_code == 404
    assert client.patch(path, json={"rank": "x"}, headers=officer).status_code == 404


@pytest.mark.parametrize("role", ["admin", "auditor", "checkpoint"])
def test_other_staff_roles_are_403(client, make_staff, role):
    headers = bearer(make_staff(role)["access_token"])
    assert client.post(BASE, json=YURI, headers=headers).status_code == 403
    assert client.get(BASE, headers=headers).status_code == 403
    assert client.post(f"{BASE}/match", json={"surname": "A", "given_name": "B"},
                       headers=headers).status_code == 403


def test_relatives_and_anonymous_are_refused(client, register_relative):
    _, _, tokens = register_relative()
    assert client.get(BASE, headers=bearer(tokens["access_token"])).status_code == 403
    assert client.get(BASE).status_code == 401
    assert client.post(f"{BASE}/import", data=b"x", content_type="text/csv").status_code == 401


def test_supervisor_may_use_the_registry(client, make_staff):
    headers = bearer(make_staff("supervisor")["access_token"])
    assert _create(client, headers)["registry_number"] == YURI["registry_number"]


def _events(action: str) -> list[AuditEvent]:
    db.remove()  # what the request committed, not what this session holds
    return list(db().execute(select(AuditEvent).where(AuditEvent.action == action)
                             .order_by(AuditEvent.seq)).scalars())


def test_reading_a_record_is_audited_with_actor_subject_and_reason(client, make_staff):
    staff = make_staff("officer")
    headers = bearer(staff["access_token"])
    body = _create(client, headers)
    reason = "Hotline call: mother asks whether her son is held"
    r = client.get(f"{BASE}/{body['id']}", headers={**headers, "X-Access-Reason": reason})
    assert r.status_code == 200
    assert client.get(f"{BASE}/{body['id']}", headers=headers).status_code == 200
    first, second = _events("prisoner.view")
    assert str(first.actor_id) == str(staff["id"]) and first.actor_role == "officer"
    assert (first.subject_type, first.subject_id) == ("prisoner", body["id"])
    assert first.outcome == "success" and first.reason == reason
    assert second.subject_id == body["id"] and second.reason is None
    assert client.get(f"{BASE}/{uuid.uuid4()}", headers=headers).status_code == 404
    assert len(_events("prisoner.view")) == 2


def test_search_is_audited_without_what_was_searched_for(client, make_staff):
    staff = make_staff("supervisor")
    headers = bearer(staff["access_token"])
    _create(client, headers)
    reason = "Checking a hotline caller's claim"
    queries = [{"q": "Щербаков Юрий", "birth_date": "1990-03-05"},
               {"q": YURI["registry_number"]}, {"q": "Shcherbakov"}, {}]
    for query in queries:
        r = client.get(BASE, query_string=query,
                       headers={**headers, "X-Access-Reason": reason})
        assert r.status_code == 200 and len(r.get_json()["items"]) == 1
    events = _events("prisoner.search")
    assert len(events) == len(queries)
    for event in events:
        assert str(event.actor_id) == str(staff["id"]) and event.actor_role == "supervisor"
        assert event.subject_type == "prisoner" and event.subject_id is None
        assert event.reason == reason
        written = " ".join(str(getattr(event, c.key)) for c in AuditEvent.__table__.columns)
        for personal in ("Щербаков", "Юрий", "SHCHERBAKOV", "Shcherbakov", "IURII",
                         YURI["registry_number"], "000123", "1990-03-05"):
            assert personal.lower() not in written.lower(), personal
    client.get(BASE, headers=headers)
    assert _events("prisoner.search")[-1].reason is None


def test_too_long_access_reason_is_400_and_not_audited(client, officer):
    body = _create(client, officer)
    long = {**officer, "X-Access-Reason": "x" * 2001}
    for path in (BASE, f"{BASE}/{body['id']}"):
        r = client.get(path, headers=long)
        assert r.status_code == 400 and r.get_json()["code"] == "validation_error"
    assert _events("prisoner.view") == [] and _events("prisoner.search") == []
