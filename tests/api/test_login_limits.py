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

from storage.db import normalize_url
from tests.api.serving import serve_kinpass
from tests.conftest import PG_URL

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
