"""The stored Merkle tree: appended with the events, read for roots and proofs.

Every perfect subtree is a row (services.audit.merkle), so appending k events writes the k
leaves and the subtrees they complete after one read of the O(log n) frontier, and a root
or a proof is one read of the O(log n) nodes it folds, at a million events as at a thousand.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.orm import Session

from services.audit import merkle
from storage.models.audit import AuditTreeNode


def _read(session: Session, nodes: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    wanted = sorted(set(nodes))
    if not wanted:
        return {}
    by_level: dict[int, list[int]] = {}
    for level, index in wanted:
        by_level.setdefault(level, []).append(index)
    # One lookup of the primary key per level (a row-value IN is a table scan on SQLite).
    rows = session.execute(select(AuditTreeNode.level, AuditTreeNode.index, AuditTreeNode.hash)
                           .where(or_(*(and_(AuditTreeNode.level == level,
                                             AuditTreeNode.index.in_(indexes))
                                        for level, indexes in by_level.items())))).all()
    found = {(level, index): digest for level, index, digest in rows}
    missing = [node for node in wanted if node not in found]
    if missing:
        raise LookupError(f"audit tree node {missing[0]} missing")
    return found


def _edge(session: Session, size: int, frontier: bytes | None) -> list[tuple[merkle.Node, bytes]]:
    nodes = merkle.frontier(size)
    if frontier is not None and len(frontier) == 32 * len(nodes):
        return [(node, frontier[32 * i:32 * i + 32]) for i, node in enumerate(nodes)]
    stored = _read(session, nodes)
    return [(node, stored[node]) for node in nodes]


def append_leaves(session: Session, size: int, event_hashes: Sequence[str],
                  frontier: bytes | None = None) -> bytes:
    """Add the leaves of events ``size + 1 ..`` (their chain hashes, hex) to the tree of
    ``size`` leaves whose frontier is given (read from the tree when it is not); the new
    frontier."""
    edge = _edge(session, size, frontier)
    new, edge = merkle.append(edge, (bytes.fromhex(h) for h in event_hashes), size)
    if new:
        session.execute(insert(AuditTreeNode.__table__), [
            {"level": level, "idx": index, "hash": digest} for (level, index), digest in new])
    return b"".join(digest for _, digest in edge)


def root_at(session: Session, size: int) -> str:
    nodes = merkle.frontier(size)
    stored = _read(session, nodes)
    return merkle.root([stored[node] for node in nodes]).hex()


def inclusion_proof(session: Session, seq: int, size: int) -> tuple[str, list[str]]:
    """(leaf hash, audit path) of the event ``seq`` in the tree of ``size`` leaves."""
    plan = merkle.inclusion_plan(seq - 1, size)
    stored = _read(session, merkle.nodes_of(plan) | {(0, seq - 1)})
    return stored[(0, seq - 1)].hex(), [h.hex() for h in merkle.hashes_of(plan, stored)]


def consistency_proof(session: Session, first: int, second: int) -> list[str]:
    plan = merkle.consistency_plan(first, second)
    stored = _read(session, merkle.nodes_of(plan))
    return [h.hex() for h in merkle.hashes_of(plan, stored)]
