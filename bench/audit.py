"""Audit log: append throughput under concurrent writers, and chain verification speed.

    .venv/bin/python -m bench.audit [--events 1000000] [--appends 2000]
    KINPASS_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/kinpass_bench .venv/bin/python -m bench.audit

Appends: each writer thread commits one event per unit of work through the real
unit_of_work.commit (head lock, chain hash, insert); the baseline commits one bare row per
transaction into a table with no chain. Verification of N events: verify_chain (the chain
walk) and walk_tree (every stored leaf against its event, the tree rebuilt, its root against
the stored tree's), the two walks `kinpass audit verify` makes, next to SHA-256 alone over the
very same bytes (prev_hash ‖ canonical JSON).
"""
from __future__ import annotations

import argparse
import hashlib
import tempfile
import threading
import time
import uuid
from datetime import timedelta

from sqlalchemy import insert, text

from bench.database import bench_database, clear_audit
from services.audit import events as audit, merkle, reading as audit_reading, tree_check
from services.audit.events import SYSTEM, record_event
from services.bootstrap import build_runtime
from services.core import unit_of_work
from services.core.settings import Settings
from storage.db import session as db, utcnow
from storage.models import AuditEvent, AuditHead, AuditTreeNode, Base
from storage.models.audit import GENESIS_HASH


def _reset(engine) -> None:
    clear_audit(engine)
    db.remove()


def _threads(count: int, work) -> float:
    start = threading.Barrier(count + 1)

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        finally:
            db.remove()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for w in workers:
        w.start()
    start.wait()
    began = time.perf_counter()
    for w in workers:
        w.join()
    return time.perf_counter() - began


def bench_appends(engine, writers: int, total: int) -> tuple[float, float]:
    _reset(engine)
    per = total // writers

    def chained(n: int) -> None:
        for i in range(per):
            record_event("bench.append", SYSTEM, subject_type="bench", subject_id=f"{n}-{i}")
            unit_of_work.commit()

    def bare(n: int) -> None:
        for i in range(per):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO bench_plain (id, subject_id) VALUES (:i, :s)"),
                             {"i": n * per + i, "s": f"{n}-{i}"})

    ours = writers * per / _threads(writers, chained)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM bench_plain"))
    baseline = writers * per / _threads(writers, bare)
    report = audit_reading.verify_chain(db())
    db.remove()
    assert report.ok and report.events == writers * per, report
    return ours, baseline


def _rows(count: int):
    """Yield batches of chained event rows, built as write_pending builds them."""
    prev, at, actor = GENESIS_HASH, utcnow(), uuid.uuid4()
    batch = []
    for seq in range(1, count + 1):
        event = {"seq": seq, "at": at + timedelta(microseconds=seq), "actor_id": actor,
                 "actor_role": "officer", "action": "document.view", "subject_type": "document",
                 "subject_id": str(uuid.UUID(int=seq)), "outcome": "success",
                 "reason": "Проверка паспорта по запросу горячей линии",
                 "document_number_hmac": hashlib.sha256(seq.to_bytes(8, "big")).hexdigest(),
                 "request_id": uuid.uuid4().hex, "ip": "203.0.113.7", "prev_hash": prev}
        event["hash"] = prev = audit.chain_hash(prev, event)
        batch.append(event)
        if len(batch) == 20_000:
            yield batch
            batch = []
    if batch:
        yield batch


def bench_verify(engine, count: int) -> tuple[float, float, float]:
    """(seconds for the chain walk, seconds for the tree walk, SHA-256 alone in events/s)."""
    _reset(engine)
    last, edge = None, []
    for batch in _rows(count):
        new, edge = merkle.append(edge, [bytes.fromhex(e["hash"]) for e in batch],
                                  batch[0]["seq"] - 1)
        with engine.begin() as conn:
            conn.execute(insert(AuditEvent), batch)
            conn.execute(insert(AuditTreeNode), [
                {"level": level, "idx": index, "hash": digest} for (level, index), digest in new])
        last = batch[-1]
    with engine.begin() as conn:
        conn.execute(insert(AuditHead).values(id=1, seq=count, hash=last["hash"],
                                              checkpoint_seq=0, checkpoint_at=utcnow()))
    began = time.perf_counter()
    report = audit_reading.verify_chain(db(), release=True)
    chain = time.perf_counter() - began
    db.remove()
    assert report.ok and report.events == count, report
    began = time.perf_counter()
    walked = tree_check.walk_tree(db(), {}, release=True)
    in_tree = time.perf_counter() - began
    db.remove()
    assert walked.ok and walked.events == count, walked
    hashed, sha_time = 0, 0.0
    for batch in _rows(count):
        data = [bytes.fromhex(e["prev_hash"]) + audit.canonical(e) for e in batch]
        t = time.perf_counter()
        for item in data:
            hashlib.sha256(item).hexdigest()
        sha_time += time.perf_counter() - t
        hashed += len(data)
    return chain, in_tree, hashed / sha_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env({"data_dir": data_dir, "database_url": bench_database(data_dir)})
        engine, _ = build_runtime(settings)
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_plain "
                              "(id BIGINT PRIMARY KEY, subject_id VARCHAR(64))"))
        print(f"database: {engine.dialect.name}")
        for writers in (2, 8):
            ours, bare = bench_appends(engine, writers, args.appends)
            print(f"append, {writers} writer threads: {ours:,.0f} events/s "
                  f"(bare one-row commits: {bare:,.0f} rows/s)")
        chain, in_tree, sha = bench_verify(engine, args.events)
        full = chain + in_tree
        print(f"verify {args.events:,} events: chain {chain:.2f} s, tree {in_tree:.2f} s, "
              f"full {full:.2f} s = {args.events / full:,.0f} events/s (chain alone "
              f"{args.events / chain:,.0f} events/s; SHA-256 alone over the same bytes: "
              f"{sha:,.0f} events/s)")
        engine.dispose()


if __name__ == "__main__":
    main()
