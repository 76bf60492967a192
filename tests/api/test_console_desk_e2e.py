"""The registry, the auditors' and the admins' pages in Chromium: an officer imports the
registry after its dry run and edits a record; an auditor filters, verifies, signs a head
and exports; an admin creates a staff account (secrets once) and disables it with a fresh
code, which ends its API session at once."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
import requests
from sqlalchemy import select, update

from storage.db import session as db, utcnow
from storage.models.accounts import Account, AuthSession
from storage.models.prisoners import Prisoner
from tests.support.browser import (
    Watch,
    chromium,
    live_server,
    open_page,
    screenshot,
    sign_in,
    violations,
)
from tests.support.console import new_staff

CSV = ("registry_number,surname,given_name,patronymic,birth_date,unit,status\n"
       "UA-5001,Шевченко,Тарас,Григорович,1999-03-09,36 ОБрМП,held\n"
       "UA-5002,Франко,Іван,Якович,1998-13-40,,held\n"
       "UA-5003,Українка,Леся,,2000-02-25,<script>alert(1)</script>,held\n"
       "UA-5004,,Олег,,1997-01-01,,captured\n")


@pytest.fixture
def browser():
    with chromium() as running:
        yield running


def _read(query):
    """Read in a unit of its own, closed at once (an open one would hold SQLite's write
    lock against the server)."""
    db.remove()
    try:
        return db().execute(query).scalars().all()
    finally:
        db.remove()


def _stale_code(staff) -> None:
    db().execute(update(AuthSession).where(AuthSession.account_id == uuid.UUID(staff.id))
                 .values(otp_at=utcnow() - timedelta(minutes=6)))
    db().commit()
    db.remove()


def test_an_officer_imports_after_the_dry_run_and_edits(app, browser):
    officer = new_staff("officer", "officer@kinpass.example")
    watch = Watch()
    with live_server(app) as base:
        page = open_page(browser, base, watch=watch)
        sign_in(page, base, officer)
        page.get_by_role("link", name="Registry").click()
        page.get_by_role("link", name="Import a CSV file").click()
        page.set_input_files("#file", files=[{"name": "registry.csv", "mimeType": "text/csv",
                                              "buffer": CSV.encode()}])
        page.get_by_role("button", name="Check the file (dry run)").click()
        page.wait_for_load_state("load")
        assert page.locator("[data-dry-run=true]").count() == 1
        assert page.locator("[data-count=created]").inner_text() == "2"
        assert page.locator("tr.import-error").count() == 3
        assert _read(select(Prisoner)) == []  # the dry run changed nothing
        screenshot(page, "registry")
        page.get_by_role("button", name="Import", exact=True).click()
        page.wait_for_load_state("load")
        assert page.locator("[data-dry-run=false] [data-count=created]").inner_text() == "2"
        assert sorted(p.registry_number for p in _read(select(Prisoner))) == [
            "UA-5001", "UA-5003"]

        page.get_by_role("link", name="Back to the registry").click()
        page.get_by_label("Name or registry number").fill("UKRAINKA LESIA")
        page.get_by_role("button", name="Search").click()
        page.wait_for_load_state("load")
        assert page.locator("tr.prisoner-row").count() == 1
        assert page.locator("script", has_text="alert").count() == 0
        page.get_by_label("Name or registry number").fill("")
        page.select_option("#status", "held")
        page.get_by_role("button", name="Search").click()
        page.wait_for_load_state("load")
        assert page.locator("tr.prisoner-row").count() == 2
        page.get_by_role("link", name="UA-5001").click()
        page.fill("#unit", "")
        page.fill("#rank", "солдат")
        page.get_by_role("button", name="Save changes").click()
        page.wait_for_load_state("load")
        prisoner = next(p for p in _read(select(Prisoner))
                        if p.registry_number == "UA-5001")
        assert prisoner.unit is None and prisoner.rank == "солдат"
        assert violations(page) == [] and watch.clean(), watch


def test_an_auditor_filters_verifies_signs_and_exports(app, browser, tmp_path: Path):
    auditor = new_staff("auditor", "auditor@kinpass.example")
    watch = Watch()
    with live_server(app) as base:
        page = open_page(browser, base, watch=watch)
        sign_in(page, base, auditor)
        page.get_by_role("link", name="Audit log").click()
        page.wait_for_load_state("load")
        assert page.locator("tr.audit-event").count() >= 2
        screenshot(page, "audit")
        page.get_by_label("Action").fill("auth.login")
        page.get_by_role("button", name="Show").click()
        page.wait_for_load_state("load")
        actions = page.eval_on_selector_all(
            "tr.audit-event", "rows => rows.map(r => r.dataset.action)")
        assert actions and set(actions) == {"auth.login"}

        page.get_by_role("link", name="Verify the log").click()
        page.wait_for_load_state("load")
        assert page.locator(".verification").get_attribute("data-ok") == "true"
        assert "The log holds" in page.content()

        page.get_by_role("link", name="Signed heads").click()
        page.wait_for_load_state("load")
        assert "No tree head has been signed yet." in page.content()
        page.get_by_role("button", name="Sign a tree head now").click()
        page.wait_for_load_state("load")
        assert int(page.locator(".tree-size").inner_text()) > 0

        page.get_by_role("link", name="Events").click()
        with page.expect_download() as download:
            page.get_by_role("button", name="Export as NDJSON").click()
        target = tmp_path / "audit.ndjson"
        download.value.save_as(target)
        assert download.value.suggested_filename == "kinpass-audit.ndjson"
        events = [json.loads(line) for line in target.read_text().splitlines()]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert "audit.tree_head" in {e["action"] for e in events}
        assert violations(page) == [] and watch.clean(), watch


def test_an_admin_creates_and_disables_staff(app, browser):
    admin = new_staff("admin", "admin@kinpass.example")
    new_staff("supervisor", "supervisor@kinpass.example")
    watch = Watch()
    with live_server(app) as base:
        page = open_page(browser, base, watch=watch)
        sign_in(page, base, admin)
        page.get_by_role("link", name="Staff").click()
        page.wait_for_load_state("load")
        page.get_by_label("Email").fill("nova@kinpass.example")
        page.get_by_label("Full name").fill("Олена Нова")
        page.select_option("#role", "officer")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_load_state("load")
        password = page.locator("code.password").inner_text()
        secret = page.locator("code.totp-secret").inner_text()
        assert page.locator(".totp-qr svg path").count() == 1
        assert page.locator(".totp-qr svg").bounding_box()["width"] > 100
        r = requests.post(f"{base}/v1/auth/login", timeout=30, json={
            "login": "nova@kinpass.example", "password": password,
            "otp": pyotp.TOTP(secret).now()})
        assert r.status_code == 200, r.text
        bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}

        page.get_by_role("link", name="Back to the staff list").click()
        page.wait_for_load_state("load")
        assert password not in page.content() and secret not in page.content()
        _stale_code(admin)
        page.reload()
        row = page.locator("tr.staff-row[data-email='nova@kinpass.example']")
        row.locator("input[name=otp]").fill(admin.code())
        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Disable").click()
        page.wait_for_load_state("load")
        assert page.locator("tr.staff-row[data-email='nova@kinpass.example']"
                            ).get_attribute("data-status") == "disabled"
        screenshot(page, "staff")
        r = requests.get(f"{base}/v1/me", headers=bearer, timeout=30)
        assert r.status_code == 401 and r.json()["code"] == "token_revoked"
        assert _read(select(Account.status).where(
            Account.email == "nova@kinpass.example")) == ["disabled"]
        assert violations(page) == [] and watch.clean(), watch
