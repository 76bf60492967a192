"""Verifications of one contact at the same moment, against a real `kinpass serve` with
several workers (on PostgreSQL when the suite runs there): never a 5xx, one account per
contact, every loser told 400 `invalid_code`, and a registration's two contacts verified at
once end on one account."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from tests.support.accounts import outbox_messages
from tests.support.databases import PG_URL, fresh_database, worker_name
from tests.support.serving import serve_kinpass

CONTACTS = 4
REGISTRATIONS = 4  # of each contact (at most five codes an hour go to one contact)


def _post(base: str, path: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers=headers, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _at_once(base: str, calls: list[dict]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(calls))
    answers: list[tuple[int, dict] | None] = [None] * len(calls)

    def call(n: int) -> None:
        barrier.wait(timeout=30)
        answers[n] = _post(base, "/v1/auth/verify", calls[n])

    threads = [threading.Thread(target=call, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(answers), "a verification never came back"
    return answers  # type: ignore[return-value]


@pytest.fixture
def served(tmp_path):
    env = {"KINPASS_WORKERS": "4"}
    if PG_URL:
        env["KINPASS_DATABASE_URL"] = fresh_database(f"verify_race_{worker_name()}")
    with serve_kinpass(tmp_path, **env) as (base, *_):
        yield base, tmp_path / "outbox.jsonl"


def _register(base: str, outbox, password: str, **contacts: str) -> dict:
    status, answer = _post(base, "/v1/auth/register", {
        "password": password, "full_name": "Марія Іваненко", **contacts})
    assert status == 202, answer
    return {contact: outbox_messages(outbox, contact)[-1]["code"]
            for contact in contacts.values()} | {"registration": answer["registration"]}


def test_registrations_of_one_contact_verified_at_once_make_one_account(served):
    base, outbox = served
    calls, passwords = [], {}
    for c in range(CONTACTS):
        email = f"race{c}@example.org"
        for r in range(REGISTRATIONS):
            password = f"Kyiv-Reunion-{c}{r}-2026"
            sent = _register(base, outbox, password, email=email)
            calls.append({"login": email, "code": sent[email],
                          "registration": sent["registration"]})
            passwords[sent["registration"]] = password
    answers = _at_once(base, calls)
    assert all(status < 500 for status, _ in answers), answers
    for c in range(CONTACTS):
        email = f"race{c}@example.org"
        mine = [(call, answer) for call, answer in zip(calls, answers, strict=True)
                if call["login"] == email]
        won = [call for call, (status, _) in mine if status == 200]
        assert len(won) == 1, mine
        assert all(answer == (400, {**answer[1], "code": "invalid_code"})
                   for call, answer in mine if call not in won), mine
        logins = [_post(base, "/v1/auth/login", {"login": email, "password": password})[0]
                  for registration, password in passwords.items()
                  if any(call["registration"] == registration for call, _ in mine)]
        assert sorted(logins) == [200] + [401] * (REGISTRATIONS - 1)
        winner = passwords[won[0]["registration"]]
        assert _post(base, "/v1/auth/login", {"login": email, "password": winner})[0] == 200


def test_both_contacts_of_a_registration_verified_at_once_join_one_account(served):
    base, outbox = served
    calls, people = [], []
    for n in range(CONTACTS):
        email, phone = f"both{n}@example.org", f"+38067000000{n}"
        sent = _register(base, outbox, "Kyiv-Reunion-2026", email=email, phone=phone)
        calls += [{"login": email, "code": sent[email], "registration": sent["registration"]},
                  {"login": phone, "code": sent[phone], "registration": sent["registration"]}]
        people.append((email, phone))
    answers = _at_once(base, calls)
    assert [status for status, _ in answers] == [200] * len(calls), answers
    for email, phone in people:
        me = []
        for login in (email, phone):
            status, tokens = _post(base, "/v1/auth/login",
                                   {"login": login, "password": "Kyiv-Reunion-2026"})
            assert status == 200, tokens
            me.append(_post(base, "/v1/me", {}, tokens["access_token"])[1])
        assert me[0]["id"] == me[1]["id"]
        assert (me[0]["email"], me[0]["phone"]) == (email, phone)
