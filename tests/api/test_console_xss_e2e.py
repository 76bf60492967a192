"""Every text a relative controls, made hostile, shown in Chromium on the queue, the case
page and the printable sheet: rendered as text, never run, never fetched."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from storage.db import session as db
from storage.models.accounts import Account
from storage.models.cases import Case
from tests.support.browser import Watch, chromium, live_server, open_page, sign_in, violations
from tests.support.cases import submitted_case
from tests.support.console import new_staff

PAYLOADS = (
    "<script>window.__xss = 'script'</script>",
    '"><img src=x onerror="window.__xss = \'img\'">',
    "<svg onload=\"window.__xss = 'svg'\"></svg>",
    "javascript:window.__xss='href'",
    "</textarea><iframe srcdoc=\"<script>parent.__xss='frame'</script>\"></iframe>",
    "{{ 7*7 }}<b>bold</b>",
)
PERSON_FIELDS = ("surname", "given_name", "patronymic", "birth_place", "citizenship", "unit")


@pytest.fixture
def browser():
    with chromium() as running:
        yield running


def _hostile_case(client, register_relative) -> str:
    _, _, tokens = register_relative()
    case = submitted_case(client, tokens["access_token"])
    case_id = uuid.UUID(case["id"])
    row = db().get(Case, case_id)
    texts = iter(PAYLOADS * 3)
    applicant = {**row.applicant, **{f: next(texts) for f in PERSON_FIELDS[:5]}}
    soldier = {**row.soldier, **{f: next(texts) for f in PERSON_FIELDS if f != "citizenship"}}
    db().execute(update(Case).where(Case.id == case_id)
                 .values(applicant=applicant, soldier=soldier))
    db().execute(update(Account).where(Account.id == row.account_id)
                 .values(full_name=PAYLOADS[1]))
    db().commit()
    db.remove()
    return case["id"]


def test_relative_controlled_texts_stay_text_in_the_browser(app, client, register_relative,
                                                            browser):
    case_id = _hostile_case(client, register_relative)
    officer = new_staff("officer", "officer@kinpass.example")
    watch = Watch()
    with live_server(app) as base:
        page = open_page(browser, base, watch=watch)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        sign_in(page, base, officer)
        for path in ("/console/cases", f"/console/cases/{case_id}"):
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert page.evaluate("window.__xss === undefined"), path
            assert page.locator("main script, main img[src=x], main svg[onload], "
                                "main iframe, main b").count() == 0, path
            shown = page.inner_text("main")
            assert "<script>window.__xss = 'script'</script>" in shown, path
        for payload in PAYLOADS:
            assert payload in shown
        assert page.locator("a[href^='javascript:']").count() == 0
        assert dialogs == [] and violations(page) == [] and watch.clean(), watch
