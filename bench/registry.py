"""Prisoner registry: CSV import rate, and match latency next to a point lookup.

    .venv/bin/python -m bench.registry [--records 100000] [--queries 300]
    KINPASS_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/kinpass_bench .venv/bin/python -m bench.registry

A registry of realistic Russian names (namesakes, brothers, Zipf-distributed surnames) is
imported in one POST /v1/admin/prisoners/import; the baseline is csv parsing alone of the same
bytes. Then, through the API in the same process (Flask test client, an officer's bearer
token, audit written and committed per request), POST /v1/admin/prisoners/match for claims in
every romanisation, with typos, swapped dates and no patronymic, next to
GET /v1/admin/prisoners/{id} for the same number of random records (a staff read too: its
prisoner.view event is written and committed like the match's prisoner.match); then the same
claims through services.registry.prisoners.match_prisoners alone (no HTTP, no audit write).
"""
from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import tempfile
import time

import pyotp
from sqlalchemy import func, select, text

from api.app import create_app
from bench.database import bench_database
from services.accounts import staff as accounts
from services.audit.events import SYSTEM
from services.core import unit_of_work
from services.registry import prisoners
from storage.db import session as db
from storage.models import Base, PrisonerBlockingKey
from tests.support.registry import SEED, build_registry, queries_for

KINDS = ("cyrillic", "icao", "gost_52535_tc", "mvd_310", "surname_typo", "no_patronymic",
         "swapped_date", "feminine_surname", "combined")


def _officer(client) -> dict:
    created = accounts.create_staff(email="bench-officer@kinpass.example", full_name="Bench",
                                    role="officer", actor=SYSTEM)
    unit_of_work.commit()
    db.remove()
    r = client.post("/v1/auth/login", json={"login": created["email"],
                                            "password": created["password"],
                                            "otp": pyotp.TOTP(created["totp_secret"]).now()})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def _csv(records) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["registry_number", "surname", "given_name", "patronymic", "birth_date",
                     "birth_place", "unit"])
    for r in records:
        writer.writerow([f"R{r.ref:07d}", r.surname, r.given_name, r.patronymic,
                         r.birth_date.isoformat(), r.birth_place, r.unit])
    return out.getvalue().encode()


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="kinpass-bench-registry-")
    app = create_app({"data_dir": data_dir, "database_url": bench_database(data_dir),
                      "storage_url": "file://", "notifier": "log"})
    engine = app.extensions["kinpass"].engine
    Base.metadata.create_all(engine)
    client = app.test_client()
    headers = _officer(client)
    print(f"database: {engine.dialect.name}; records: {args.records:,}")

    registry = build_registry(size=args.records)
    body = _csv(registry.records)
    started = time.perf_counter()
    parsed = sum(1 for _ in csv.reader(io.StringIO(body.decode())))
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    r = client.post("/v1/admin/prisoners/import", data=body,
                    headers={**headers, "Content-Type": "text/csv"})
    import_s = time.perf_counter() - started
    assert r.status_code == 200 and r.get_json()["created"] == args.records, r.get_json()
    db.remove()
    keys = db().execute(select(func.count()).select_from(PrisonerBlockingKey)).scalar_one()
    db.remove()
    print(f"import: {args.records / import_s:,.0f} rows/s ({import_s:.1f} s for "
          f"{len(body) / 2**20:.1f} MiB, {keys:,} blocking keys); baseline csv parsing alone: "
          f"{(parsed - 1) / parse_s:,.0f} rows/s")
    again = time.perf_counter()
    r = client.post("/v1/admin/prisoners/import", data=body,
                    headers={**headers, "Content-Type": "text/csv"})
    assert r.get_json()["unchanged"] == args.records
    print(f"re-import (all unchanged): {args.records / (time.perf_counter() - again):,.0f} rows/s")
    if engine.dialect.name == "postgresql":  # the steady state autovacuum reaches on its own
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE prisoners, prisoner_blocking_keys"))

    ids = [p["id"] for p in client.get("/v1/admin/prisoners?limit=100",
                                       headers=headers).get_json()["items"]]
    rng = random.Random(SEED + 99)
    claims = []
    for record in rng.sample(registry.records, args.queries):
        variants = queries_for(rng, record)
        kind = rng.choice([k for k in KINDS if k in variants])
        claims.append((record, variants[kind]))
    match_times, lookup_times, first = [], [], 0
    for i, (record, query) in enumerate(claims):
        payload = {"surname": query.surname, "given_name": query.given_name, "limit": 10}
        if query.patronymic:
            payload["patronymic"] = query.patronymic
        if query.birth_date:
            payload["birth_date"] = query.birth_date.isoformat()
        t = time.perf_counter()
        r = client.post("/v1/admin/prisoners/match", json=payload, headers=headers)
        match_times.append(time.perf_counter() - t)
        candidates = r.get_json()["candidates"]
        first += bool(candidates) and candidates[0]["prisoner"]["registry_number"] == (
            f"R{record.ref:07d}")
        t = time.perf_counter()
        r = client.get(f"/v1/admin/prisoners/{ids[i % len(ids)]}", headers=headers)
        lookup_times.append(time.perf_counter() - t)
        assert r.status_code == 200
    service_times = []
    for _, query in claims:
        t = time.perf_counter()
        prisoners.match_prisoners(surname=query.surname, given_name=query.given_name,
                                  patronymic=query.patronymic, birth_date=query.birth_date,
                                  audit=False)
        service_times.append(time.perf_counter() - t)
        db.rollback()
    db.remove()
    match_ms, lookup_ms = _median_ms(match_times), _median_ms(lookup_times)
    p95 = sorted(match_times)[int(len(match_times) * 0.95)] * 1000
    print(f"match: median {match_ms:.1f} ms (p95 {p95:.1f} ms), right man first in "
          f"{first / len(claims):.1%} of {len(claims)} claims")
    print(f"point lookup GET /v1/admin/prisoners/{{id}}: median {lookup_ms:.1f} ms")
    print(f"match / point lookup: {match_ms / lookup_ms:.2f}x")
    print(f"match_prisoners alone (retrieval + scoring, no HTTP, no audit commit): median "
          f"{_median_ms(service_times):.1f} ms")


if __name__ == "__main__":
    main()
