"""The console's pages against the JSON API: a queue page of 100 cases and a case page,
server time p50 next to the JSON list of the same 100 cases (and the JSON case) through
the API, and a bare Flask page, in one run and one process; and the statements per page at
10 and at 100 cases.

Each request goes through the whole WSGI app (Flask test client, no sockets), SQLite in a
temporary data dir. Every page and list writes its `case.view` audit events, as the API's
list does (100 events a page, chained at commit).

Run: .venv/bin/python -m bench.console [--rounds 40]
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta

import pyotp
from sqlalchemy import event

from api.app import create_app
from bench.hello_app import app as hello
from services.accounts import staff as accounts
from services.audit.events import SYSTEM
from services.core import unit_of_work
from storage.db import session as db, utcnow
from storage.migrate import upgrade
from storage.models.accounts import Account
from storage.models.cases import Case, CaseStatusChange

APPLICANT = {"surname": "Иванова", "given_name": "Мария", "patronymic": "Петровна",
             "birth_date": "1971-04-02", "citizenship": "RUS"}
CHECKS = [{"name": name, "result": "clear", "detail": "Checked."} for name in (
    "document_integrity", "mrz_valid", "document_not_expired", "applicant_matches_document",
    "relationship_evidence", "registry_match", "next_of_kin_consistency",
    "duplicate_document", "conflicting_claims")]


def _cases(count: int, batch: str) -> str:
    """`count` cases in review from ten relatives; the id of the first."""
    relatives = []
    for n in range(10):
        account = Account(email=f"bench-{batch}-{n}@example.org", full_name="Мария",
                          role="relative",
                          status="active", password_hash="x")
        db().add(account)
        relatives.append(account)
    db().flush()
    start = utcnow() - timedelta(days=3)
    ids = []
    for n in range(count):
        at = start + timedelta(seconds=n)
        case = Case(account_id=relatives[n % 10].id, status="in_review", relationship="mother",
                    applicant=APPLICANT, soldier={"surname": f"Иванов{n}",
                                                  "given_name": "Алексей",
                                                  "birth_date": "2001-09-14"},
                    checks=CHECKS, match_candidates=[], created_at=at, updated_at=at,
                    submitted_at=at)
        db().add(case)
        db().flush()
        for seq, status in enumerate(("draft", "submitted", "in_review"), start=1):
            db().add(CaseStatusChange(case_id=case.id, seq=seq, status=status, at=at))
        ids.append(case.id)
    unit_of_work.commit()
    return str(ids[0])


def _officer(app) -> tuple[object, dict]:
    """A console client signed in, and the bearer header of an API login (two sessions)."""
    created = accounts.create_staff(email="bench-officer@kinpass.example", full_name="Officer",
                                    role="officer", actor=SYSTEM)
    unit_of_work.commit()
    db.remove()
    totp = pyotp.TOTP(created["totp_secret"])
    step = int(time.time() // 30)
    api = app.test_client().post("/v1/auth/login", json={
        "login": created["email"], "password": created["password"],
        "otp": totp.generate_otp(step)}).get_json()
    console = app.test_client()
    page = console.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    r = console.post("/console/login", data={
        "csrf_token": token, "email": created["email"], "password": created["password"],
        "otp": totp.generate_otp(step + 1)})
    assert r.status_code == 303, r.status_code
    return console, {"Authorization": f"Bearer {api['access_token']}"}


def _p50(calls: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """The median time of each call, over `rounds` rounds that call each once in turn (so
    that a busy moment of a shared machine falls on all of them alike)."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def _statements(app, call: Callable[[], object]) -> int:
    seen: list[str] = []
    engine = app.extensions["kinpass"].engine

    def count(*_args: object) -> None:
        seen.append("")

    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def _run(rounds: int) -> None:
    app = create_app()
    upgrade(app.extensions["kinpass"].engine)
    logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))
    with app.app_context():
        first = _cases(10, "a")
        console, bearer = _officer(app)
    api = app.test_client()
    bare = hello.test_client()

    def ok(response) -> None:
        assert response.status_code == 200, response.status_code

    pages = {"console queue page": lambda: ok(console.get("/console/cases")),
             "JSON list (limit=100)":
                 lambda: ok(api.get("/v1/admin/cases?limit=100", headers=bearer))}
    counted = {name: [_statements(app, call)] for name, call in pages.items()}
    with app.app_context():
        _cases(90, "b")
    for name, call in pages.items():
        counted[name].append(_statements(app, call))
    calls = {
        "bare Flask /hello": lambda: ok(bare.get("/hello")),
        "JSON list of 100 cases (GET /v1/admin/cases?limit=100)": pages["JSON list (limit=100)"],
        "console queue page of 100 cases (GET /console/cases)": pages["console queue page"],
        "JSON case (GET /v1/admin/cases/{id})":
            lambda: ok(api.get(f"/v1/admin/cases/{first}", headers=bearer)),
        "console case page (GET /console/cases/{id})":
            lambda: ok(console.get(f"/console/cases/{first}")),
    }
    for call in calls.values():
        call()  # warm
    p50 = _p50(calls, rounds)
    listed = p50["JSON list of 100 cases (GET /v1/admin/cases?limit=100)"]
    case = p50["JSON case (GET /v1/admin/cases/{id})"]
    print(f"server time p50 of {rounds} requests each (SQLite, in process, one run):")
    print("| request | ms p50 | × its JSON twin |\n|---|---|---|")
    for name, seconds in p50.items():
        twin = case if "case (" in name or "case page" in name else listed
        print(f"| {name} | {seconds * 1e3:.1f} | {seconds / twin:.2f} |")
    print("\nstatements per request:")
    print("| request | 10 cases | 100 cases |\n|---|---|---|")
    for name, (ten, hundred) in counted.items():
        print(f"| {name} | {ten} | {hundred} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kinpass-console-") as tmp:
        os.environ.update(KINPASS_DATA_DIR=tmp, KINPASS_NOTIFIER="none")
        os.environ.pop("KINPASS_DATABASE_URL", None)
        _run(args.rounds)


if __name__ == "__main__":
    main()
