"""The audit log's Merkle tree: what it adds to an append, and proof cost as the log grows.

    .venv/bin/python -m bench.audit_tree [--appends 2000] [--sizes 1000,10000,100000,1000000]

Appends: each event its own unit of work through the real unit_of_work.commit, with the tree
(leaf and completed subtrees written, one read of the frontier) and, in alternating rounds of
the same run, with the tree step switched off (the chain alone). Proofs: a tree of N leaves is
built in the stored form, then inclusion proofs for random seqs and consistency proofs for
random first sizes are read from it; each is one SELECT of the O(log n) nodes it needs. The
last APPENDS events of each size are appended one at a time through the tree step itself
(frontier in hand, each committed), so an append at a million events sits next to one at a
thousand.
"""
from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time

from sqlalchemy import insert

from bench.database import bench_database, clear_audit
from services.audit import merkle, tree
from services.audit.events import SYSTEM, record_event
from services.bootstrap import build_runtime
from services.core import unit_of_work
from services.core.settings import Settings
from storage.db import session as db
from storage.models import AuditTreeNode, Base

ROUNDS = 5
PROOFS = 300
APPENDS = 300


def _clear(engine) -> None:
    clear_audit(engine)
    db.remove()


def _appends(count: int) -> tuple[float, float]:
    """(events/s, seconds of it spent in the tree step)."""
    began = time.perf_counter()
    for i in range(count):
        record_event("bench.append", SYSTEM, subject_type="bench", subject_id=str(i))
        unit_of_work.commit()
    elapsed = time.perf_counter() - began
    db.remove()
    return count / elapsed, elapsed


def bench_appends(engine, count: int) -> tuple[float, float, float]:
    """(with the tree, chain alone, share of the with-tree append time spent in the tree
    step), medians over alternating rounds."""
    real = tree.append_leaves
    in_tree = [0.0]

    def timed(*args):
        began = time.perf_counter()
        try:
            return real(*args)
        finally:
            in_tree[0] += time.perf_counter() - began

    with_tree, chain_only, shares = [], [], []
    for _ in range(ROUNDS):
        _clear(engine)
        in_tree[0] = 0.0
        tree.append_leaves = timed
        try:
            rate, elapsed = _appends(count)
        finally:
            tree.append_leaves = real
        with_tree.append(rate)
        shares.append(in_tree[0] / elapsed)
        _clear(engine)
        tree.append_leaves = lambda *_: None
        try:
            chain_only.append(_appends(count)[0])
        finally:
            tree.append_leaves = real
    _clear(engine)
    return (statistics.median(with_tree), statistics.median(chain_only),
            statistics.median(shares))


def _grow(engine, edge, size: int, target: int):
    while size < target:
        step = min(50_000, target - size)
        hashes = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(size, size + step)]
        new, edge = merkle.append(edge, hashes, size)
        with engine.begin() as conn:
            conn.execute(insert(AuditTreeNode), [
                {"level": lv, "idx": ix, "hash": h} for (lv, ix), h in new])
        size += step
    return edge, size


def _latency(call, picks) -> float:
    times = []
    for pick in picks:
        began = time.perf_counter()
        call(pick)
        times.append(time.perf_counter() - began)
    db.remove()
    return statistics.median(times) * 1e3


def _tree_appends(edge, size: int) -> tuple[float, list, int]:
    """Median ms of one event's tree step (frontier in hand, leaf and completed subtrees
    inserted, committed on its own) on a tree of ``size`` leaves; the tree grows by APPENDS."""
    frontier, times = b"".join(digest for _, digest in edge), []
    for i in range(size, size + APPENDS):
        began = time.perf_counter()
        frontier = tree.append_leaves(db(), i, [hashlib.sha256(i.to_bytes(8, "big")).hexdigest()],
                                      frontier)
        db().commit()
        times.append(time.perf_counter() - began)
    db.remove()
    size += APPENDS
    nodes = merkle.frontier(size)
    edge = [(node, frontier[32 * k:32 * k + 32]) for k, node in enumerate(nodes)]
    return statistics.median(times) * 1e3, edge, size


def bench_proofs(engine, sizes: list[int]) -> list[tuple[int, float, float, float, float, int]]:
    _clear(engine)
    rng = random.Random(7)
    edge, size, rows = [], 0, []
    for target in sizes:
        edge, size = _grow(engine, edge, size, target - APPENDS)
        append, edge, size = _tree_appends(edge, size)
        session = db()
        seqs = [rng.randint(1, size) for _ in range(PROOFS)]
        firsts = [rng.randint(1, size - 1) for _ in range(PROOFS)]
        inclusion = _latency(lambda s, n=size: tree.inclusion_proof(db(), s, n), seqs)
        consistency = _latency(lambda f, n=size: tree.consistency_proof(db(), f, n), firsts)
        root = _latency(lambda _, n=size: tree.root_at(db(), n), range(PROOFS))
        nodes = max(len(merkle.nodes_of(merkle.inclusion_plan(s - 1, size))) + 1 for s in seqs)
        session.close()
        rows.append((size, append, inclusion, consistency, root, nodes))
    _clear(engine)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        # No checkpoint inside the timed appends: both variants do the same work but the tree.
        settings = Settings.from_env({"data_dir": data_dir,
                                      "database_url": bench_database(data_dir),
                                      "audit_checkpoint_events": 10**9})
        engine, _ = build_runtime(settings)
        Base.metadata.create_all(engine)
        print(f"database: {engine.dialect.name}")
        ours, chain, share = bench_appends(engine, args.appends)
        print(f"append (one event per commit, median of {ROUNDS}): with the tree "
              f"{ours:,.0f} events/s, chain alone {chain:,.0f} events/s "
              f"(throughput {max(0.0, 1 - ours / chain):.1%} lower); time inside the tree "
              f"step: {share:.1%} of an append")
        for size, append, inclusion, consistency, root, nodes in bench_proofs(
                engine, [int(s) for s in args.sizes.split(",")]):
            print(f"tree of {size:>9,} events: append {append:.3f} ms (tree step, committed, "
                  f"median of the last {APPENDS}), inclusion {inclusion:.3f} ms, consistency "
                  f"{consistency:.3f} ms, root {root:.3f} ms (median of {PROOFS}; at most "
                  f"{nodes} nodes in one SELECT)")
        engine.dispose()


if __name__ == "__main__":
    main()
