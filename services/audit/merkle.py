"""The Merkle tree of RFC 9162 §2.1 over the audit log, as pure functions.

Leaf *i* is ``SHA-256(0x00 ‖ event hash)``, an inner node ``SHA-256(0x01 ‖ left ‖ right)``,
a range split at the largest power of two below its size. The stored tree (services.audit.tree)
keeps every *perfect* subtree — ``(level, index)`` covering leaves ``[index·2^level,
(index+1)·2^level)`` — so any range a proof needs is a handful of stored nodes: the plans
below name those nodes, and the proofs fold them. Verification of proofs (§2.1.3.2, §2.1.4.2)
needs nothing but the hashes, so an auditor's own tool can run the same code.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [lo, hi)


def leaf_hash(event_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + event_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (size ≥ 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def perfect_nodes(lo: int, hi: int) -> list[Node]:
    """The perfect subtrees that make up ``[lo, hi)``, left to right (``lo`` aligned as every
    range of the RFC's recursion is)."""
    nodes = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        nodes.append((level, lo >> level))
        lo += 1 << level
    return nodes


def frontier(size: int) -> list[Node]:
    """The perfect subtrees of a tree of ``size`` leaves: all an append needs to read."""
    return perfect_nodes(0, size)


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect subtrees, left to right (the right edge folds first)."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def append(nodes_of_frontier: Sequence[tuple[Node, bytes]],
           event_hashes: Iterable[bytes], size: int) -> tuple[list[tuple[Node, bytes]],
                                                              list[tuple[Node, bytes]]]:
    """Add leaves to a tree of ``size`` leaves whose frontier is given: the new nodes to
    store (leaves and every subtree they complete) and the new frontier."""
    stack = list(nodes_of_frontier)
    new: list[tuple[Node, bytes]] = []
    for event_hash in event_hashes:
        node, digest = (0, size), leaf_hash(event_hash)
        new.append((node, digest))
        while stack and stack[-1][0][0] == node[0]:
            (level, index), left = stack.pop()
            node, digest = (level + 1, index >> 1), node_hash(left, digest)
            new.append((node, digest))
        stack.append((node, digest))
        size += 1
    return new, stack


def root(frontier_hashes: Sequence[bytes]) -> bytes:
    return fold(frontier_hashes) if frontier_hashes else EMPTY_ROOT


def inclusion_plan(index: int, size: int) -> list[Range]:
    """PATH(m, D[n]) of §2.1.3.1 as the ranges whose hashes it lists, leaf side first."""
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def consistency_plan(first: int, second: int) -> list[Range]:
    """PROOF(m, D[n]) of §2.1.4.1 as ranges, in the RFC's order (0 < first ≤ second)."""
    ranges: list[Range] = []
    lo, hi, whole = 0, second, True
    while first != hi:
        k = _split(hi - lo)
        if first - lo <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, whole = lo + k, False
    if not whole:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def nodes_of(ranges: Iterable[Range]) -> set[Node]:
    return {node for lo, hi in ranges for node in perfect_nodes(lo, hi)}


def hashes_of(ranges: Iterable[Range], stored: Mapping[Node, bytes]) -> list[bytes]:
    return [fold([stored[node] for node in perfect_nodes(lo, hi)]) for lo, hi in ranges]


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -----------------------------------

def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to; ValueError when the proof cannot be one."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("proof too short")
    return r


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> bool:
    """True when ``path`` proves the tree of ``second`` leaves extends that of ``first``."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    nodes = list(path)
    if first & (first - 1) == 0:
        nodes.insert(0, first_root)
    if not nodes:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
