"""Request cost in process: the WSGI app called directly, no server, no sockets.

What one request costs the app itself, step by step, next to the bare Flask hello-world in
the same process, and then what the pieces of an authenticated read cost alone: /healthz (the per-request plumbing), GET /v1/me (plus the bearer token
and the session check) and GET /v1/cases/{id} (plus the case read). Each figure is the
best of --reps interleaved repetitions of --requests calls, which filters out the noise of
a shared machine far better than a load generator can.

Run: .venv/bin/python -m bench.request_cost [--requests 300] [--reps 15]
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import jwt
from sqlalchemy import bindparam, select

from api.app import create_app
from bench.hello_app import app as hello
from bench.load import PASSWORD
from schemas.cases import CaseOut
from services.workflow.views import read_relative_case
from storage.db import session as db, set_read_only
from storage.migrate import upgrade
from storage.models.accounts import AuthSession

CASE = {"relationship": "mother",
        "applicant": {"surname": "Иванова", "given_name": "Мария", "birth_date": "1971-04-02"},
        "soldier": {"surname": "Иванов", "given_name": "Алексей",
                    "birth_date": "2001-09-14"}}


def _environ(path: str, token: str | None) -> dict:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
               "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
               "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000"}
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return environ


def _caller(app: Callable, path: str, token: str | None = None) -> Callable[[], str]:
    def call() -> str:
        status: list[str] = []
        for _ in app(_environ(path, token), lambda s, h, *rest: status.append(s)):
            pass
        return status[0]
    return call


def _relative(app, data: Path) -> tuple[str, str]:
    """A verified relative with one case: (access token, case id)."""
    client = app.test_client()
    login = "cost@example.org"
    client.post("/v1/auth/register", json={"email": login, "password": PASSWORD,
                                           "full_name": "Мария Иванова"})
    code = json.loads((data / "outbox.jsonl").read_text().splitlines()[-1])["code"]
    client.post("/v1/auth/verify", json={"login": login, "code": code})
    token = client.post("/v1/auth/login", json={"login": login, "password": PASSWORD}
                        ).get_json()["access_token"]
    case = client.post("/v1/cases", json=CASE, headers={"Authorization": f"Bearer {token}"})
    return token, case.get_json()["id"]


def _parts(app, token: str, case_id: str) -> dict[str, Callable[[], object]]:
    """The pieces an authenticated read is made of, each alone (inside an app context)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    session_id, account_id = uuid.UUID(claims["sid"]), uuid.UUID(claims["sub"])
    check = select(AuthSession.revoked_at).where(AuthSession.id == bindparam("id"))
    connection = app.extensions["kinpass"].engine.connect()  # apart from the session's
    sqlite = connection.connection.driver_connection
    view = read_relative_case(uuid.UUID(case_id), account_id)
    schema = CaseOut()

    def session_lifecycle() -> None:
        db.remove()
        db().connection()

    return {
        "a read session's connection: checkout, close (autocommit: no BEGIN)":
            session_lifecycle,
        "one small Core statement (a session's revoked_at)":
            lambda: connection.execute(check, {"id": session_id}).first(),
        "the same statement through sqlite3":
            lambda: sqlite.execute("SELECT revoked_at FROM auth_sessions WHERE id = ?",
                                   (session_id.hex,)).fetchone(),
        "the case view to JSON (CaseOut, then JSON)": lambda: app.json.dumps(schema.dump(view)),
    }


def _best(calls: dict[str, Callable[[], object]], reps: int, requests: int) -> dict[str, float]:
    """Seconds per call of each, the best of `reps` interleaved runs of `requests` calls."""
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(reps):
        for name, call in calls.items():
            started = time.perf_counter()
            for _ in range(requests):
                call()
            best[name] = min(best[name], (time.perf_counter() - started) / requests)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kinpass-cost-") as tmp:
        data = Path(tmp)
        os.environ.update(KINPASS_DATA_DIR=tmp, KINPASS_NOTIFIER=f"file:{data / 'outbox.jsonl'}")
        os.environ.pop("KINPASS_DATABASE_URL", None)
        app = create_app()
        upgrade(app.extensions["kinpass"].engine)
        logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))
        token, case_id = _relative(app, data)
        steps = {"bare Flask /hello": _caller(hello, "/hello"),
                 "GET /healthz (plumbing only)": _caller(app, "/healthz"),
                 "GET /v1/me (plus token and session check)": _caller(app, "/v1/me", token),
                 "GET /v1/cases/{id} (authenticated case read)":
                     _caller(app, f"/v1/cases/{case_id}", token)}
        for name, call in steps.items():
            assert call().startswith("200"), name
        best = _best(steps, args.reps, args.requests)
        with app.app_context():
            set_read_only(True)
            parts = _best(_parts(app, token, case_id), args.reps, args.requests)
            set_read_only(False)
            db.remove()
    bare = best["bare Flask /hello"]
    print(f"in-process cost per request (SQLite; best of {args.reps} x {args.requests}):")
    print("| endpoint | µs per request | × bare |\n|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds * 1e6:.0f} | {seconds / bare:.1f} |")
    print("\nthe pieces of an authenticated read, each alone:")
    print("| piece | µs |\n|---|---|")
    for name, seconds in parts.items():
        print(f"| {name} | {seconds * 1e6:.0f} |")


if __name__ == "__main__":
    main()
