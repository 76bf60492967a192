"""Load: `kinpass serve` as it ships, on SQLite and on PostgreSQL, next to a bare Flask
hello-world under gunicorn's default sync workers, all with the same number of worker
processes, in one run (wrk, keep-alive, needs `apt-get install wrk`):

1. wrk on /healthz (the plumbing), /v1/me (plus the token and session check), a case read and
   the officer queue (10 and 100 cases a page), rounds interleaved so a noisy moment hits
   every figure; each as a ratio to the bare figure, p50/p99 beside it.
2. Hostile clients: idle connections and half-sent heads held open while /healthz is probed,
   and trickled bodies, against each server.
3. The same app under granian, for the choice of server (same data dir, same figures).
4. A mixed mobile workload (login, case read, status poll, upload) from a Python generator:
   throughput, p50/p99 and the error count.

Run: .venv/bin/python -m bench.load [--seconds 8] [--rounds 3]
PostgreSQL: KINPASS_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/
kinpass_load_bench, dropped and recreated); --no-postgres to leave it out.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bench import hostile
from bench.database import bench_database
from bench.servers import granian_server, hello_server, kinpass_server
from storage.db import normalize_url
from storage.models.cases import Case, CaseStatusChange

PASSWORD = "Kyiv-Reunion-2026"
JPEG = b"\xff\xd8\xff\xe0" + bytes(random.Random(7).getrandbits(8) for _ in range(64 * 1024)) \
    + b"\xff\xd9"


class Client:
    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise

    def json(self, method: str, path: str, payload: dict | None = None,
             token: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, body = self.call(method, path, json.dumps(payload).encode()
                                 if payload is not None else None, headers)
        return status, json.loads(body) if body else {}


@dataclass
class Relative:
    login: str
    token: str
    case_id: str


def setup_relatives(base: str, data: Path, count: int) -> list[Relative]:
    client = Client(base)
    people = []
    for i in range(count):
        login = f"bench{i}@example.org"
        status, _ = client.json("POST", "/v1/auth/register", {
            "email": login, "password": PASSWORD, "full_name": "Мария Иванова"})
        assert status == 202, status
        outbox = [json.loads(line) for line in (data / "outbox.jsonl").read_text().splitlines()]
        code = [m for m in outbox if m["to"] == login][-1]["code"]
        assert client.json("POST", "/v1/auth/verify", {"login": login, "code": code})[0] == 200
        status, tokens = client.json("POST", "/v1/auth/login",
                                     {"login": login, "password": PASSWORD})
        assert status == 200, tokens
        status, case = client.json("POST", "/v1/cases", {
            "relationship": "mother",
            "applicant": {"surname": "Иванова", "given_name": "Мария",
                          "birth_date": "1971-04-02"},
            "soldier": {"surname": "Иванов", "given_name": "Алексей",
                        "birth_date": "2001-09-14"}}, tokens["access_token"])
        assert status == 201, case
        people.append(Relative(login, tokens["access_token"], case["id"]))
    return people


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault(name, []).append(seconds)
            if not ok:
                self.errors[name] = self.errors.get(name, 0) + 1


def _upload(client: Client, who: Relative) -> bool:
    status, doc = client.json("POST", f"/v1/cases/{who.case_id}/documents", {
        "kind": "photo", "content_type": "image/jpeg", "size": len(JPEG),
        "sha256": hashlib.sha256(JPEG).hexdigest(), "encryption": "server"}, who.token)
    if status != 201:
        return False
    path = urlsplit(doc["upload"]["url"]).path
    status, _ = client.call("PUT", path, JPEG, {"Content-Type": "image/jpeg",
                                                "Authorization": f"Bearer {who.token}"})
    return status == 200


def mixed_worker(base: str, people: list[Relative], stop: float, tally: Tally,
                 seed: int) -> None:
    rng = random.Random(seed)
    client = Client(base)
    while time.perf_counter() < stop:
        who = rng.choice(people)
        roll = rng.random()
        started = time.perf_counter()
        if roll < 0.05:
            name = "login"
            ok = client.json("POST", "/v1/auth/login",
                             {"login": who.login, "password": PASSWORD})[0] == 200
        elif roll < 0.15:
            name = "upload"
            ok = _upload(client, who)
        elif roll < 0.55:
            name = "case_read"
            ok = client.json("GET", f"/v1/cases/{who.case_id}", token=who.token)[0] == 200
        else:
            name = "status_poll"
            ok = client.json("GET", "/v1/cases?limit=5", token=who.token)[0] == 200
        tally.add(name, time.perf_counter() - started, ok)


def hello_worker(base: str, stop: float, tally: Tally) -> None:
    client = Client(base)
    while time.perf_counter() < stop:
        started = time.perf_counter()
        status, _ = client.call("GET", "/hello")
        tally.add("hello", time.perf_counter() - started, status == 200)


def run_threads(work, threads: int, seconds: float) -> tuple[Tally, float]:
    """work(i, stop, tally) in `threads` threads for `seconds`."""
    tally = Tally()
    stop = time.perf_counter() + seconds
    workers = [threading.Thread(target=work, args=(i, stop, tally)) for i in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return tally, time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def wrk(url: str, seconds: int, connections: int, token: str | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def lat(label: str) -> float:
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return {"rps": rps, "p50": lat("50"), "p99": lat("99"), "errors": errors}




DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/kinpass_load_bench"
QUEUE_CASES = 110
IDLE = 250
SLOW = 40
OFFICER_PASSWORD = "Kyiv-Reunion-2026-Officer"


def _median_run(runs: list[dict]) -> dict:
    """The run with the median throughput, its latencies with it; errors summed."""
    ordered = sorted(runs, key=lambda run: run["rps"])
    return {**ordered[len(ordered) // 2], "errors": sum(run["errors"] for run in runs)}


def _server_env(data: Path, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "KINPASS_DATA_DIR": str(data)}
    if database_url:
        env["KINPASS_DATABASE_URL"] = database_url
    else:
        env.pop("KINPASS_DATABASE_URL", None)
    return env


def officer_token(base: str, data: Path, database_url: str | None) -> str:
    created = json.loads(subprocess.run(
        [str(Path(sys.executable).parent / "kinpass"), "staff", "create", "--email",
         "officer@bench.example", "--role", "officer", "--password", OFFICER_PASSWORD],
        env=_server_env(data, database_url), capture_output=True, check=True).stdout)
    status, tokens = Client(base).json("POST", "/v1/auth/login", {
        "login": "officer@bench.example", "password": OFFICER_PASSWORD,
        "otp": pyotp.TOTP(created["totp_secret"]).now()})
    assert status == 200, tokens
    return tokens["access_token"]


def submitted_cases(database_url: str, owners: list[uuid.UUID], count: int) -> None:
    """`count` submitted cases in the officer's queue, written straight to the database."""
    engine = create_engine(normalize_url(database_url))
    now = datetime.now(UTC)
    person = {"surname": "Иванов", "given_name": "Алексей", "birth_date": "2001-09-14"}
    with Session(engine) as session:
        for n in range(count):
            at = now - timedelta(minutes=count - n)
            case = Case(account_id=owners[n % len(owners)], status="submitted",
                        relationship="mother", soldier=person, created_at=at, updated_at=at,
                        submitted_at=at, applicant=dict(person, given_name=f"Мария{n}"),
                        checks=[{"name": "registry_match", "result": "clear",
                                 "detail": "none"}])
            session.add(case)
            session.flush()
            for seq, step in enumerate(("draft", "submitted"), start=1):
                session.add(CaseStatusChange(case_id=case.id, seq=seq, status=step, at=at))
        session.commit()
    engine.dispose()


@dataclass
class Served:
    name: str
    base: str
    data: Path
    database_url: str | None
    people: list[Relative] = field(default_factory=list)
    officer: str = ""


def prepare(served: Served) -> None:
    served.people = setup_relatives(served.base, served.data, 10)
    owners = [uuid.UUID(Client(served.base).json("GET", "/v1/me", token=who.token)[1]["id"])
              for who in served.people]
    submitted_cases(served.database_url or f"sqlite:///{served.data / 'kinpass.db'}", owners,
                    QUEUE_CASES)
    served.officer = officer_token(served.base, served.data, served.database_url)


def targets(served: Served, label: str | None = None) -> list[tuple[str, str, str | None]]:
    who, name = served.people[0], label or served.name
    queue = f"{served.base}/v1/admin/cases?status=submitted&limit="
    return [(f"{name}: GET /healthz", f"{served.base}/healthz", None),
            (f"{name}: GET /v1/me", f"{served.base}/v1/me", who.token),
            (f"{name}: GET /v1/cases/{{id}}", f"{served.base}/v1/cases/{who.case_id}",
             who.token),
            (f"{name}: officer queue, 10 a page", queue + "10", served.officer),
            (f"{name}: officer queue, 100 a page", queue + "100", served.officer)]


def hostile_figures(name: str, base: str, probe_path: str, bodies: bool) -> list[str]:
    rows = []
    idle = hostile.held_while_probing(base, probe_path, IDLE)
    rows.append(f"| {name} | {IDLE} idle connections | {idle['held']} | "
                f"{idle['answered']}/{hostile.PROBES} | {idle['slowest_ms']:.0f} |")
    slow = hostile.held_while_probing(base, probe_path, SLOW, hostile.SLOW_HEAD)
    rows.append(f"| {name} | {SLOW} half-sent heads | {slow['held']} | "
                f"{slow['answered']}/{hostile.PROBES} | {slow['slowest_ms']:.0f} |")
    if bodies:
        body = hostile.held_while_probing(base, probe_path, SLOW, hostile.TRICKLED_BODY)
        rows.append(f"| {name} | {SLOW} trickled bodies | {body['held']} | "
                    f"{body['answered']}/{hostile.PROBES} | {body['slowest_ms']:.0f} |")
    return rows


def mixed(served: Served, hello: str, seconds: int, connections: int) -> list[str]:
    hello_tally, hello_secs = run_threads(lambda i, stop, t: hello_worker(hello, stop, t),
                                          connections, seconds)
    tally, secs = run_threads(lambda i, stop, t: mixed_worker(served.base, served.people, stop,
                                                              t, i), connections, seconds)
    hl = hello_tally.latencies["hello"]
    lines = ["| operation | count | p50 ms | p99 ms | errors |", "|---|---|---|---|---|",
             f"| bare Flask /hello | {len(hl)} | {pct(hl, .5):.2f} | {pct(hl, .99):.2f} | "
             f"{sum(hello_tally.errors.values())} |"]
    for name in ("login", "case_read", "status_poll", "upload"):
        values = tally.latencies.get(name, [])
        if values:
            lines.append(f"| {name} | {len(values)} | {pct(values, .5):.2f} | "
                         f"{pct(values, .99):.2f} | {tally.errors.get(name, 0)} |")
    total = sum(len(v) for v in tally.latencies.values())
    lines.append(f"{served.name} mixed: {total / secs:.0f} req/s vs bare "
                 f"{len(hl) / hello_secs:.0f} req/s; errors: {sum(tally.errors.values())}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-granian", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench.load needs wrk (apt-get install wrk)")
    with contextlib.ExitStack() as stack:
        hello = stack.enter_context(hello_server(args.workers))
        servers = [Served("SQLite", *stack.enter_context(kinpass_server(args.workers)), None)]
        if not args.no_postgres:
            os.environ.setdefault("KINPASS_BENCH_DATABASE_URL", DEFAULT_POSTGRES)
            url = bench_database("")
            servers.append(Served("PostgreSQL", *stack.enter_context(
                kinpass_server(args.workers, KINPASS_DATABASE_URL=url)), url))
        for served in servers:
            prepare(served)
        plan = [("bare Flask /hello (gunicorn sync)", f"{hello}/hello", None)]
        for served in servers:
            plan += targets(served, f"kinpass serve, {served.name}")
        granian = None
        if not args.no_granian and shutil.which(str(Path(sys.executable).parent / "granian")):
            granian = Served("granian, SQLite", stack.enter_context(
                granian_server(servers[0].data, args.workers)), servers[0].data, None,
                servers[0].people, servers[0].officer)
            plan += targets(granian)[:3]
        print(f"servers: {args.workers} worker processes each; wrk -t2 -c{args.connections}, "
              f"{args.seconds} s a run, median of {args.rounds} interleaved rounds")
        runs: dict[str, list[dict]] = {name: [] for name, _, _ in plan}
        for _ in range(args.rounds):
            for name, url, token in plan:
                runs[name].append(wrk(url, args.seconds, args.connections, token))
        medians = {name: _median_run(found) for name, found in runs.items()}
        bare = medians[plan[0][0]]
        print("\n| endpoint | req/s | p50 ms | p99 ms | errors | / bare |")
        print("|---|---|---|---|---|---|")
        for name, figures in medians.items():
            print(f"| {name} | {figures['rps']:.0f} | {figures['p50']:.2f} | "
                  f"{figures['p99']:.2f} | {figures['errors']} | "
                  f"{figures['rps'] / bare['rps']:.2f} |")
        for served in servers:
            small = medians[f"kinpass serve, {served.name}: officer queue, 10 a page"]
            large = medians[f"kinpass serve, {served.name}: officer queue, 100 a page"]
            print(f"officer queue, {served.name}: a page of 100 takes "
                  f"{small['rps'] / large['rps']:.2f}x a page of 10")

        print("\n| server | clients held open | still open | probes answered < 1 s | "
              "slowest probe ms |\n|---|---|---|---|---|")
        for row in hostile_figures("bare Flask, gunicorn sync", hello, "/hello", False):
            print(row)
        for served in [*servers, *([granian] if granian else [])]:
            label = served.name if served is granian else f"kinpass serve, {served.name}"
            for row in hostile_figures(label, served.base, "/healthz", True):
                print(row)

        print("\nmixed mobile workload (python generator, 16 threads):")
        for served in servers:
            print("\n".join(mixed(served, hello, args.seconds, args.connections)))


if __name__ == "__main__":
    main()
