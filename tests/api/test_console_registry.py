"""The registry in the console: search, a record and its edit, the CSV import with its dry
run first; the same services, roles and audit as /v1/admin/prisoners."""
from __future__ import annotations

import base64
import io
import re
import uuid

import pytest
from sqlalchemy import func, select, update

from api.web import registry_pages
from storage.db import session as db
from storage.models.audit import AuditEvent
from storage.models.prisoners import Prisoner
from tests.support.cases import add_prisoner
from tests.support.console import (
    csrf_of,
    page_token,
    refuse_outsiders,
    signed_in,
)
from tests.support.statements import page_statements

CSV = ("registry_number,surname,given_name,birth_date,status\n"
       "UA-1001,Шевченко,Тарас,1999-03-09,held\n"
       "UA-1002,Франко,Іван,not-a-date,held\n"
       "UA-1003,,Леся,2000-02-25,captured\n"
       "UA-1004,Коваленко,Олег,1998-01-01,held\n")
PAGES = ("/console/prisoners?q=x", "/console/prisoners/import",
         f"/console/prisoners/{uuid.uuid4()}")


def _events(action: str) -> list[AuditEvent]:
    db.remove()
    return db().execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def _count() -> int:
    db.remove()
    return db().execute(select(func.count()).select_from(Prisoner)).scalar_one()


def _upload(client, text: str, *, name: str = "registry.csv"):
    token = page_token(client, "/console/prisoners/import")
    return client.post("/console/prisoners/import", data={
        "csrf_token": token, "file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data")


def _confirm_fields(html: str) -> dict:
    form = html.split('action="/console/prisoners/import/confirm"')[1].split("</form>", 1)[0]
    return dict(re.findall(r'name="(csrf_token|content|seal)" value="([^"]*)"', form))


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_other_staff_roles_are_refused_every_page(app, role):
    client, _ = signed_in(app, role, f"{role}@kinpass.example")
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    token = csrf_of(client.get("/console/", follow_redirects=True).get_data(as_text=True))
    r = client.post("/console/prisoners/import", data={
        "csrf_token": token, "file": (io.BytesIO(CSV.encode()), "r.csv")},
        content_type="multipart/form-data")
    assert r.status_code == 403 and _count() == 0


def test_relatives_and_checkpoints_are_refused(app, client, register_relative, make_staff):
    refuse_outsiders(app, register_relative, make_staff, PAGES)


def test_search_by_number_or_name_in_either_script(app):
    add_prisoner(registry_number="UA-7001")
    add_prisoner(registry_number="UA-7002", surname="Петренко", given_name="Олег")
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")

    def found(**args) -> list[str]:
        html = officer.get("/console/prisoners", query_string=args).get_data(as_text=True)
        return re.findall(r">(UA-700\d)</a>", html)

    assert found(q="UA-7002") == ["UA-7002"]
    assert found(q="Иванов Алексей") == ["UA-7001"]
    assert found(q="IVANOV ALEKSEI") == ["UA-7001"]  # the Latin spelling
    assert found(q="PETRENKO") == ["UA-7002"]
    assert found(q="UA-70") == []  # a registry number matches exactly
    assert found() == []  # nothing is listed before a search
    html = officer.get("/console/prisoners", query_string={
        "q": "UA-7001", "reason": "Checking a claim"}).get_data(as_text=True)
    assert "UA-7001" in html
    searches = _events("prisoner.search")
    assert len(searches) == 6 and searches[-1].reason == "Checking a claim"
    assert all("UA-70" not in (e.reason or "") for e in searches)  # never what was searched


def test_a_record_is_viewed_and_edited_with_patch_semantics(app):
    prisoner_id = add_prisoner(registry_number="UA-7100", unit="<b>36</b>")
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")
    page = f"/console/prisoners/{prisoner_id}"
    html = officer.get(page).get_data(as_text=True)
    assert "&lt;b&gt;36&lt;/b&gt;" in html and "<b>36</b>" not in html
    assert len(_events("prisoner.view")) == 1
    fields = dict(re.findall(r'<input type="hidden" name="(was_[a-z_]+)" value="([^"]*)"', html))
    shown = {name[4:]: value for name, value in fields.items()}
    # someone else changes the place of birth meanwhile: the form leaves it as they made it
    db().execute(update(Prisoner).where(Prisoner.id == uuid.UUID(prisoner_id))
                 .values(birth_place="Белгород"))
    db().commit()
    form = {**shown, **fields, "status": "transferred", "unit": "",
            "csrf_token": csrf_of(html)}
    r = officer.post(page, data=form)
    assert r.status_code == 303
    db.remove()
    prisoner = db().get(Prisoner, uuid.UUID(prisoner_id))
    assert prisoner.status == "transferred" and prisoner.unit is None
    assert prisoner.birth_place == "Белгород"
    assert _events("prisoner.update")[-1].reason == "fields: status, unit"


def test_an_edit_is_checked_as_the_api_checks_it(app):
    prisoner_id = add_prisoner(registry_number="UA-7200")
    other = add_prisoner(registry_number="UA-7201")
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")
    page = f"/console/prisoners/{prisoner_id}"
    token = page_token(officer, page)
    r = officer.post(page, data={"csrf_token": token, "surname": "", "was_surname": "Иванов"})
    assert r.status_code == 400  # a required field cannot be cleared
    r = officer.post(page, data={"csrf_token": token, "registry_number": "UA-7201",
                                 "was_registry_number": "UA-7200"})
    assert r.status_code == 409  # taken, as the API says
    r = officer.post(page, data={"registry_number": "UA-7999",
                                 "was_registry_number": "UA-7200"})
    assert r.status_code == 403  # no CSRF token
    db.remove()
    assert db().get(Prisoner, uuid.UUID(prisoner_id)).registry_number == "UA-7200"
    assert other


def test_the_dry_run_changes_nothing_and_shows_the_row_errors(app):
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")
    r = _upload(officer, CSV)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-dry-run="true"' in html
    assert _count() == 0
    assert 'data-count="created">2<' in html and 'data-count="skipped">2<' in html
    errors = re.findall(r'<tr class="import-error"><td>(\d+)</td><td>([^<]*)</td>', html)
    assert errors == [("3", "birth_date"), ("4", "surname"), ("4", "status")]
    assert "Not a valid date (YYYY-MM-DD)." in html
    assert _events("prisoner.import")[0].reason.startswith("dry run: created 2")


def test_the_confirm_step_imports_the_checked_file_once(app):
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")
    fields = _confirm_fields(_upload(officer, CSV).get_data(as_text=True))
    r = officer.post("/console/prisoners/import/confirm", data=fields)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-dry-run="false"' in html
    assert 'data-count="created">2<' in html and _count() == 2
    r = officer.post("/console/prisoners/import/confirm", data=fields)
    assert 'data-count="unchanged">2<' in r.get_data(as_text=True) and _count() == 2


def test_a_file_larger_than_a_form_field_makes_the_round_trip(app):
    rows = [f"UA-{i:05d},Шевченко,Тарас,1999-03-09,held" for i in range(1500)]
    text = "registry_number,surname,given_name,birth_date,status\n" + "\n".join(rows) + "\n"
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")
    fields = _confirm_fields(_upload(officer, text).get_data(as_text=True))
    assert len(fields["content"]) > app.config["MAX_FORM_MEMORY_SIZE"]
    r = officer.post("/console/prisoners/import/confirm", data=fields)
    assert r.status_code == 200 and _count() == 1500


def test_the_confirm_step_takes_only_the_file_this_session_checked(app):
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")
    fields = _confirm_fields(_upload(officer, CSV).get_data(as_text=True))
    altered = CSV.replace("Тарас", "Тарас Григорович").encode()
    r = officer.post("/console/prisoners/import/confirm", data={
        **fields, "content": base64.b64encode(altered).decode()})
    assert r.status_code == 400
    other, _ = signed_in(app, "supervisor", "supervisor@kinpass.example")
    token = page_token(other, "/console/prisoners/import")
    r = other.post("/console/prisoners/import/confirm", data={**fields, "csrf_token": token})
    assert r.status_code == 400  # another session's seal
    r = officer.post("/console/prisoners/import/confirm", data={
        **fields, "content": "not base64!"})
    assert r.status_code == 400 and _count() == 0
    without = {name: value for name, value in fields.items() if name != "csrf_token"}
    assert officer.post("/console/prisoners/import/confirm", data=without).status_code == 403
    r = officer.post("/console/prisoners/import", data={
        "file": (io.BytesIO(CSV.encode()), "r.csv")}, content_type="multipart/form-data")
    assert r.status_code == 403 and _count() == 0
    assert len(_events("prisoner.import")) == 1  # the dry run's alone


def test_a_whole_file_refusal_and_a_file_too_large(app, monkeypatch):
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")
    r = _upload(officer, "registry_number,surname,nickname\nUA-1,X,Y\n")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Unknown columns: nickname." in html
    assert "Missing required columns" in html
    monkeypatch.setattr(registry_pages, "IMPORT_MAX_BYTES", 64)
    assert _upload(officer, CSV).status_code == 413 and _count() == 0


def test_bodies_past_the_console_limits_are_refused(app):
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")
    token = page_token(officer, "/console/prisoners/import")
    big = b"registry_number,surname,given_name,birth_date\n" + b"x" * (
        registry_pages.IMPORT_MAX_BYTES + 64 * 1024)
    r = officer.post("/console/prisoners/import", data={
        "csrf_token": token, "file": (io.BytesIO(big), "r.csv")},
        content_type="multipart/form-data")
    assert r.status_code == 413
    r = officer.post("/console/prisoners/import/confirm", data={
        "csrf_token": token, "seal": "0" * 64,
        "content": "A" * (registry_pages.CONFIRM_MAX_BYTES + 1)})
    assert r.status_code == 413 and _count() == 0


def test_the_search_page_statements_do_not_grow_with_the_page(app):
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")
    counts = page_statements(app, officer, "/console/prisoners?status=held",
                             lambda: [add_prisoner() for _ in range(3)], "prisoner-row")
    assert counts[0] == counts[1], counts


def test_search_results_page_by_keyset(app, monkeypatch):
    for i in range(5):
        add_prisoner(registry_number=f"UA-80{i}")
    officer, _ = signed_in(app, "officer", "officer@kinpass.example")
    monkeypatch.setattr(registry_pages, "PAGE", 2)
    html = officer.get("/console/prisoners?q=Иванов").get_data(as_text=True)
    pages = [re.findall(r">(UA-80\d)</a>", html)]
    while 'rel="next"' in html:
        link = re.search(r'rel="next" href="([^"]+)"', html)[1].replace("&amp;", "&")
        html = officer.get(link).get_data(as_text=True)
        pages.append(re.findall(r">(UA-80\d)</a>", html))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(n for p in pages for n in p) == [f"UA-80{i}" for i in range(5)]
