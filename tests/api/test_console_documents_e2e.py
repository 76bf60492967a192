"""Documents in Chromium: beside the case's data at 1280×800, shown only once an access
reason is given, as images inside the page with no policy violation, each view in the audit
log; the original downloaded as an attachment."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import document_files as files
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
from tests.support.documents import empty_local_store
from tests.support.http import bearer

REASON = "Comparing the passport photo with the applicant's details"


@pytest.fixture(autouse=True)
def _no_objects(app):
    empty_local_store(app)


def _audited_views(client, auditor: str) -> list[dict]:
    r = client.get("/v1/audit/events", query_string={"action": "document.view"},
                   headers=bearer(auditor))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def test_a_document_is_shown_only_after_an_access_reason(app, client, register_relative,
                                                         make_staff, tmp_path: Path):
    token = register_relative()[2]["access_token"]
    photo = files.specimen_passport(900, 640)
    case_id, passport, certificate = files.case_with_files(client, token, photo,
                                                           files.pdf_pages(2))
    officer = new_staff("officer", "officer@kinpass.example")
    auditor = make_staff("auditor")["access_token"]
    watch = Watch()
    with live_server(app) as base, chromium() as browser:
        page = open_page(browser, base, watch=watch)
        sign_in(page, base, officer)
        page.goto(f"{base}/console/cases/{case_id}")
        pane = page.locator(".documents-pane").bounding_box()
        data = page.locator(".case").bounding_box()
        assert pane["x"] >= data["x"] + data["width"] and pane["y"] < 800  # side by side
        assert pane["x"] + pane["width"] <= 1280

        document = page.locator(f"#document-{passport}")
        document.get_by_role("button", name="Show document").click()  # no reason given
        assert document.get_by_label("Access reason").evaluate("e => e.validity.valueMissing")
        assert page.locator(".document-view img").count() == 0
        assert _audited_views(client, auditor) == []

        document.get_by_label("Access reason").fill(REASON)
        document.get_by_role("button", name="Show document").click()
        page.wait_for_load_state("load")
        shown = page.locator(f"#document-{passport} .document-view img")
        assert shown.count() == 1
        page.wait_for_function("[...document.images].every(i => i.complete)")
        assert shown.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [900, 640]  # upright
        assert shown.get_attribute("src").startswith("data:image/jpeg;base64,")
        assert shown.bounding_box()["y"] < 800 and "Иванов" in page.content()
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, "document", full_page=False)
        [view] = _audited_views(client, auditor)
        assert (view["subject_id"], view["reason"], view["actor_id"]) == (
            passport, REASON, officer.id)

        with page.expect_download() as downloading:
            page.locator(f"#document-{passport}").get_by_role(
                "button", name="Download the original").click()
        download = downloading.value
        assert download.suggested_filename == f"document-{passport}.jpg"
        saved = tmp_path / "original.jpg"
        download.save_as(saved)
        assert saved.read_bytes() == photo

        page.locator(f"#document-{certificate}").get_by_label("Access reason").fill(REASON)
        page.locator(f"#document-{certificate}").get_by_role(
            "button", name="Show document").click()
        page.wait_for_load_state("load")
        assert page.locator(f"#document-{certificate} .document-view img").count() == 2
        assert page.locator(f"#document-{passport} .document-view img").count() == 0
        assert len(_audited_views(client, auditor)) == 3
        assert violations(page) == [] and watch.clean(), watch
