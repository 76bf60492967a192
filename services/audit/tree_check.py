"""Verifying the tree: the leaves the log stores against its events, the signed tree heads
against the roots the events give, and the log against a head an auditor kept elsewhere.

A rewritten and re-chained log passes the chain walk; it cannot give the root a head signed
before the rewrite names. A truncated log cannot give a root of a size it no longer has.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from services.audit import merkle, tree
from services.audit.checkpoints import INVALID, public_keys, signed_tree_roots, verified_payload
from services.audit.events import record_event
from services.audit.reading import ChainReport, head_of, iter_events, verify_chain, verify_log
from storage.db import session as db
from storage.models.audit import AuditEvent, AuditTreeNode

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class TreeReport:
    ok: bool
    events: int
    root_hash: str
    first_bad_seq: int | None = None
    first_bad_size: int | None = None
    problem: str | None = None


def _bad(events: int, root: str, problem: str, *, seq: int | None = None,
         size: int | None = None) -> TreeReport:
    return TreeReport(False, events, root, seq, size, problem)


def walk_tree(session: Session, expected: Mapping[int, set[str]], *,
              release: bool = False) -> TreeReport:
    """Rebuild the tree from the events' hashes: each stored leaf must match its event, the
    root at every size in ``expected`` must be each root named there, and the stored tree
    must give the same root as the events."""
    size = head_of(session)[0]
    query = (select(AuditEvent.seq, AuditEvent.hash, AuditTreeNode.hash)
             .outerjoin(AuditTreeNode, and_(AuditTreeNode.level == 0,
                                            AuditTreeNode.index == AuditEvent.seq - 1)))
    edge: list[tuple[merkle.Node, bytes]] = []
    count = 0
    for seq, event_hash, stored_leaf in iter_events(session, upto=size, query=query,
                                                    release=release):
        if seq != count + 1:
            return _bad(count, "", "events are missing", seq=count + 1)
        new, edge = merkle.append(edge, [bytes.fromhex(event_hash)], count)
        if stored_leaf != new[0][1]:
            return _bad(count, "", "the stored tree does not hold this event", seq=seq)
        count = seq
        if count in expected:
            root = merkle.root([digest for _, digest in edge]).hex()
            if expected[count] - {root}:
                return _bad(count, root, "a signed tree head names another root", size=count)
    root = merkle.root([digest for _, digest in edge]).hex()
    if count < size:
        return _bad(count, root, "events are missing", seq=count + 1)
    beyond = [n for n in expected if n > count]
    if beyond:
        return _bad(count, root, "the log is shorter than a signed tree head",
                    seq=count + 1, size=min(beyond))
    try:
        stored_root = tree.root_at(session, count)
    except LookupError:
        stored_root = ""
    if stored_root != root:
        return _bad(count, root, "the stored tree gives another root", size=count)
    return TreeReport(True, count, root)


def _trusted_root(head: Mapping[str, Any], keys: Mapping[str, Any]) -> tuple[int, str] | str:
    """(tree_size, root_hash) of a head as served, or why it cannot be used."""
    size, root, jws = head.get("tree_size"), head.get("root_hash"), head.get("jws")
    if (not isinstance(size, int) or isinstance(size, bool) or size < 0
            or not isinstance(root, str) or len(root) != 64 or not set(root) <= _HEX
            or not isinstance(jws, str)):
        return "the trusted head is not a tree head as served"
    payload = verified_payload(jws, keys)
    if payload.get("tree_size") != size or payload.get("root_hash") != root:
        return "the trusted head's signature does not verify with the log's audit keys"
    return size, root


def verify_with_trusted_head(session: Session, head: Mapping[str, Any]) -> TreeReport:
    """The chain, the tree and every signed head, and then: does the log still hold the
    kept head and extend it? The first seq or size that breaks is named."""
    trusted = _trusted_root(head, public_keys(session))
    if isinstance(trusted, str):
        return _bad(0, "", trusted)
    size, root = trusted
    chain: ChainReport = verify_chain(session, release=True)
    if not chain.ok:
        return _bad(chain.events, "", "the hash chain breaks", seq=chain.first_bad_seq)
    expected = dict(signed_tree_roots(session))
    expected[size] = expected.get(size, set()) | {root}
    if size == 0:
        expected.pop(0)
        if root != merkle.EMPTY_ROOT.hex():
            return _bad(0, "", "the trusted head names another root", size=0)
    report = walk_tree(session, expected, release=True)
    if report.ok or report.first_bad_size is None or INVALID not in expected.get(
            report.first_bad_size, set()):
        return report
    return _bad(report.events, report.root_hash, "a signed tree head's signature is broken",
                size=report.first_bad_size)


def verify_audit_log(actor: Any) -> ChainReport:
    """`GET /v1/audit/verify` and `kinpass audit verify`: the chain anchored by its signed
    checkpoints, then the tree anchored by its signed heads; the first bad seq (for a head
    whose root the events cannot give: its size) is named."""
    chain = verify_log(actor)
    if not chain.ok:
        return chain
    report = walk_tree(db(), signed_tree_roots(db()), release=True)
    if report.ok:
        return chain
    return ChainReport(False, chain.events, chain.head_seq, chain.head_hash,
                       report.first_bad_seq or report.first_bad_size)


def verify_trusted(actor: Any, head: Mapping[str, Any]) -> TreeReport:
    """`kinpass audit verify --trusted-head`: the walk is audited like any verification."""
    record_event("audit.read", actor, subject_type="audit", subject_id="verify_trusted_head")
    return verify_with_trusted_head(db(), head)
