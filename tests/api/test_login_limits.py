"""The per-login limit holds under a burst of concurrent attempts (one atomic step in the
database and in Redis), and the owner locked out by someone else's guesses gets in by code."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.accounts.contacts import QUARTER
from storage.db import normalize_url
from tests.support.clock import at_window_start
from tests.support.databases import PG_URL
from tests.support.serving import serve_kinpass

LIMIT = 10
BURST = 30


def _post(base: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _fresh_pg_database(suffix: str) -> str:
    url = make_url(normalize_url(PG_URL))
    name = f"{url.database}_{suffix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.mark.parametrize("counter", ["database", "redis"])
def test_a_burst_of_wrong_logins_gets_exactly_the_limit(tmp_path, counter):
    env = {"KINPASS_WORKERS": "4"}
    if PG_URL:
        env["KINPASS_DATABASE_URL"] = _fresh_pg_database("login_burst")
    if counter == "redis":
        env["KINPASS_REDIS_URL"] = "redis://127.0.0.1:6379/14"
    with serve_kinpass(tmp_path, **env) as (base, *_):
        body = {"login": "burst-target@example.org", "password": "not-the-password-1"}
        with ThreadPoolExecutor(BURST) as pool:
            statuses = list(pool.map(lambda _: _post(base, "/v1/auth/login", body)[0],
                                     range(BURST)))
    assert statuses.count(401) == LIMIT, statuses
    assert statuses.count(429) == BURST - LIMIT, statuses


def _wrong_logins(client, login: str, times: int, ip: str = "203.0.113.7") -> list[int]:
    return [client.post("/v1/auth/login", json={"login": login, "password": "guess-guess-1"},
                        environ_base={"REMOTE_ADDR": ip}).status_code for _ in range(times)]


def test_the_owner_locked_out_by_a_stranger_unlocks_with_a_code(client, outbox,
                                                                 register_relative):
    email, password, _ = register_relative()
    assert _wrong_logins(client, email, LIMIT + 1) == [401] * LIMIT + [429]
    r = client.post("/v1/auth/login", json={"login": email, "password": password})
    assert r.status_code == 429 and r.get_json()["code"] == "rate_limited"
    assert r.get_json()["unlock"] == "code_sent" and r.headers["Retry-After"]
    message = outbox(email)[-1]
    assert message["template"] == "unlock_code" and message["language"] == "ru"
    code = message["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    r = client.post("/v1/auth/unlock", json={"login": email, "code": wrong,
                                             "password": password})
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_code"
    r = client.post("/v1/auth/unlock", json={"login": email, "code": code,
                                             "password": "guess-guess-1"})
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_code"
    r = client.post("/v1/auth/unlock", json={"login": email, "code": code, "password": password})
    assert r.status_code == 200 and r.get_json()["token_type"] == "Bearer"
    again = client.post("/v1/auth/unlock", json={"login": email, "code": code,
                                                 "password": password})
    assert again.status_code == 400
    assert _wrong_logins(client, email, 1) == [429]


def test_a_wrong_password_past_the_limit_sends_no_code(client, outbox, register_relative):
    email, _, _ = register_relative()
    _wrong_logins(client, email, LIMIT + 3)
    r = client.post("/v1/auth/login", json={"login": email, "password": "still-wrong-1"})
    assert r.status_code == 429 and "unlock" not in r.get_json()
    assert all(m["template"] != "unlock_code" for m in outbox(email))


def test_unlock_does_not_lift_the_address_limit(client, outbox, register_relative,
                                                monkeypatch):
    at_window_start(monkeypatch, QUARTER)
    email, password, _ = register_relative()
    _wrong_logins(client, email, LIMIT + 1, ip="198.51.100.9")
    client.post("/v1/auth/login", json={"login": email, "password": password},
                environ_base={"REMOTE_ADDR": "198.51.100.9"})
    code = outbox(email)[-1]["code"]
    for n in range(100):
        _wrong_logins(client, f"other{n}@example.org", 1, ip="198.51.100.10")
    r = client.post("/v1/auth/unlock", json={"login": email, "code": code, "password": password},
                    environ_base={"REMOTE_ADDR": "198.51.100.10"})
    assert r.status_code == 429 and "unlock" not in r.get_json()
    r = client.post("/v1/auth/unlock", json={"login": email, "code": code, "password": password},
                    environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert r.status_code == 200
