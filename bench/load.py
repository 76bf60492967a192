"""Load: `kinpass serve` under a mixed mobile workload, next to a bare Flask hello-world.

Two measurements, each side by side in one run on the same machine:
1. Authenticated case read (GET /v1/cases/{id}) vs the bare Flask endpoint, both under wrk
   when it is installed (apt-get install wrk), else under the Python generator below.
2. A mixed mobile workload (login, case read, status poll, upload) from the Python generator,
   with throughput, p50/p99 and the error count, next to the bare endpoint under the same
   generator.

Under wrk, /healthz (the per-request plumbing alone) and GET /v1/me (plus the bearer-token
and session check) are measured too, so the gap to the bare figure can be read off step by step.

Run: .venv/bin/python -m bench.load [--seconds 10] [--connections 16]
PostgreSQL: KINPASS_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/kinpass_load_bench
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.database import bench_database
from bench.servers import hello_server, kinpass_server

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


def read_worker(base: str, who: Relative, stop: float, tally: Tally) -> None:
    client = Client(base)
    while time.perf_counter() < stop:
        started = time.perf_counter()
        status, _ = client.json("GET", f"/v1/cases/{who.case_id}", token=who.token)
        tally.add("case_read", time.perf_counter() - started, status == 200)


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
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def lat(label: str) -> float:
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50": lat("50"), "p99": lat("99"),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def _median_run(runs: list[dict]) -> dict:
    """The run with the median throughput, its latencies with it; errors summed."""
    ordered = sorted(runs, key=lambda run: run["rps"])
    return {**ordered[len(ordered) // 2], "errors": sum(run["errors"] for run in runs)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = {}
    if os.environ.get("KINPASS_BENCH_DATABASE_URL"):
        env["KINPASS_DATABASE_URL"] = bench_database("")
    with kinpass_server(args.workers, **env) as (base, data), \
            hello_server(args.workers) as hello:
        people = setup_relatives(base, data, 10)
        database = "PostgreSQL" if env else "SQLite"
        print(f"servers: kinpass serve ({database}) and bare Flask, gunicorn with "
              f"{args.workers} sync workers each; {args.connections} connections, "
              f"{args.seconds} s per run")
        who = people[0]
        if shutil.which("wrk"):
            targets = [("bare Flask /hello", f"{hello}/hello", None),
                       ("GET /healthz (plumbing only)", f"{base}/healthz", None),
                       ("GET /v1/me (plus token and session check)", f"{base}/v1/me",
                        who.token),
                       ("GET /v1/cases/{id} (authenticated case read)",
                        f"{base}/v1/cases/{who.case_id}", who.token)]
            runs: dict[str, list[dict]] = {name: [] for name, _, _ in targets}
            for _ in range(args.rounds):  # interleaved, so a noisy moment hits every figure
                for name, url, token in targets:
                    runs[name].append(wrk(url, args.seconds, args.connections, token))
            medians = {name: _median_run(found) for name, found in runs.items()}
            bare = medians.pop(targets[0][0])
            ours = medians.pop(targets[-1][0])
            steps = list(medians.items())
            tool = f"wrk, median of {args.rounds} interleaved rounds"
        else:
            bare_t, bare_s = run_threads(lambda i, stop, t: hello_worker(hello, stop, t),
                                         args.connections, args.seconds)
            ours_t, ours_s = run_threads(
                lambda i, stop, t: read_worker(base, who, stop, t),
                args.connections, args.seconds)
            bare = {"rps": len(bare_t.latencies["hello"]) / bare_s,
                    "p50": pct(bare_t.latencies["hello"], .5),
                    "p99": pct(bare_t.latencies["hello"], .99), "errors": 0}
            reads = ours_t.latencies.get("case_read", [])
            ours = {"rps": len(reads) / ours_s, "p50": pct(reads, .5), "p99": pct(reads, .99),
                    "errors": sum(ours_t.errors.values())}
            steps = []
            tool = "python generator"
        print(f"\nauthenticated case read vs bare Flask ({tool}):")
        print("| endpoint | req/s | p50 ms | p99 ms | errors | / bare |\n|---|---|---|---|---|---|")
        for name, figures in [("bare Flask /hello", bare), *steps,
                              ("GET /v1/cases/{id} (authenticated case read)", ours)]:
            print(f"| {name} | {figures['rps']:.0f} | {figures['p50']:.2f} | "
                  f"{figures['p99']:.2f} | {figures['errors']} | "
                  f"{figures['rps'] / bare['rps']:.2f} |")
        print(f"ratio (ours / bare): {ours['rps'] / bare['rps']:.2f}  (target >= 0.5)")

        hello_tally, hello_secs = run_threads(lambda i, stop, t: hello_worker(hello, stop, t),
                                              args.connections, args.seconds)
        mixed, mixed_secs = run_threads(
            lambda i, stop, t: mixed_worker(base, people, stop, t, i),
            args.connections, args.seconds)
        everything = [v for values in mixed.latencies.values() for v in values]
        total = len(everything)
        print("\nmixed mobile workload (python generator, same run):")
        print("| operation | count | p50 ms | p99 ms | errors |\n|---|---|---|---|---|")
        hl = hello_tally.latencies["hello"]
        print(f"| bare Flask /hello | {len(hl)} | {pct(hl, .5):.2f} | {pct(hl, .99):.2f} | "
              f"{sum(hello_tally.errors.values())} |")
        for name in ("login", "case_read", "status_poll", "upload"):
            values = mixed.latencies.get(name, [])
            if values:
                print(f"| {name} | {len(values)} | {pct(values, .5):.2f} | "
                      f"{pct(values, .99):.2f} | {mixed.errors.get(name, 0)} |")
        print(f"mixed throughput: {total / mixed_secs:.0f} req/s vs bare "
              f"{len(hl) / hello_secs:.0f} req/s; errors: {sum(mixed.errors.values())}; "
              f"median of all: {statistics.median(everything) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
