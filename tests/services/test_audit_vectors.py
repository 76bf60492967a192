"""The test vectors of docs/audit.md, read from the markdown itself: the event's canonical
form and chain hash, the tree's roots and proofs (from the RFC's own recursion and from the
stored tree), and a signed tree head."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit import checkpoints, events, merkle, tree
from storage.db import session as db
from tests.support import rfc9162

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def _vectors() -> dict[str, dict[str, str]]:
    vectors = {}
    for block in re.findall(r"```text\n(vector: .*?)```", DOC.read_text(), re.S):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("  "):
                fields[key] += " " + line.strip()
            else:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        vectors[fields["vector"]] = fields
    return vectors


VECTORS = _vectors()
TREE = VECTORS["tree"]
EVENT_HASHES = [bytes.fromhex(h) for h in TREE["event_hashes"].split()]


def _hashes(name: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in TREE[name].split()]


def test_the_doc_has_the_vectors():
    assert set(VECTORS) == {"event", "event_with_number", "tree", "head"}
    assert EVENT_HASHES == [hashlib.sha256(f"kinpass-vector-{i}".encode()).digest()
                            for i in range(7)]


def _documented_form(event: dict) -> bytes:
    """The rule of docs/audit.md, written out: every field but the hash, and but a null
    document_number_hmac."""
    body = {k: v for k, v in event.items()
            if k != "hash" and not (k == "document_number_hmac" and v is None)}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.mark.parametrize("name", ["event", "event_with_number"])
def test_the_event_vectors(name):
    v = VECTORS[name]
    event = json.loads(v["event"])
    documented = _documented_form(event)
    assert events.canonical(event) == documented
    assert hashlib.sha256(documented).hexdigest() == v["canonical_sha256"]
    assert events.chain_hash(event["prev_hash"], event) == v["hash"]
    assert hashlib.sha256(bytes.fromhex(event["prev_hash"]) + documented).hexdigest() == v["hash"]


def test_the_second_event_follows_the_first_and_carries_its_number_in_the_hash():
    first, second = (json.loads(VECTORS[name]["event"]) for name in ("event", "event_with_number"))
    assert "document_number_hmac" not in first
    assert second["prev_hash"] == VECTORS["event"]["hash"]
    assert b'"document_number_hmac":"' in events.canonical(second)
    # As served, the first event has the field, null: its hash is unchanged.
    assert events.chain_hash(first["prev_hash"], {**first, "document_number_hmac": None}) \
        == VECTORS["event"]["hash"]
    # The HMAC is covered: another one, or none, is another hash.
    for forged in ("0" * 64, None):
        assert events.chain_hash(second["prev_hash"], {**second, "document_number_hmac": forged}) \
            != VECTORS["event_with_number"]["hash"]


def test_the_tree_vector_is_the_rfc_tree():
    leaves = [rfc9162.leaf(h) for h in EVENT_HASHES]
    assert leaves[0].hex() == TREE["leaf_1"]
    for size in range(1, 8):
        assert rfc9162.mth(leaves[:size]).hex() == TREE[f"root_{size}"]
    assert rfc9162.path(2, leaves) == _hashes("inclusion_seq_3_size_7")
    assert rfc9162.path(6, leaves) == _hashes("inclusion_seq_7_size_7")
    assert rfc9162.proof(3, leaves) == _hashes("consistency_3_7")
    assert rfc9162.proof(4, leaves) == _hashes("consistency_4_7")


def test_the_stored_tree_gives_the_vectors(app):
    session = db()
    frontier = tree.append_leaves(session, 0, [h.hex() for h in EVENT_HASHES[:3]])
    tree.append_leaves(session, 3, [h.hex() for h in EVENT_HASHES[3:]], frontier)
    for size in range(1, 8):
        assert tree.root_at(session, size) == TREE[f"root_{size}"]
    for seq in (3, 7):
        leaf, path = tree.inclusion_proof(session, seq, 7)
        assert [bytes.fromhex(h) for h in path] == _hashes(f"inclusion_seq_{seq}_size_7")
        assert merkle.root_from_inclusion(seq - 1, 7, bytes.fromhex(leaf),
                                          _hashes(f"inclusion_seq_{seq}_size_7")).hex() \
            == TREE["root_7"]
    for first in (3, 4):
        path = _hashes(f"consistency_{first}_7")
        assert [bytes.fromhex(h) for h in tree.consistency_proof(session, first, 7)] == path
        assert merkle.verify_consistency(first, 7, bytes.fromhex(TREE[f"root_{first}"]),
                                         bytes.fromhex(TREE["root_7"]), path)
        assert not merkle.verify_consistency(first, 7, bytes.fromhex(TREE["root_6"]),
                                             bytes.fromhex(TREE["root_7"]), path)
    session.rollback()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_the_head_vector():
    v = VECTORS["head"]
    jws = v["jws"].replace(" ", "")
    head = json.loads(v["head"])
    assert head["root_hash"] == TREE["root_7"]
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["seed"]))
    assert bytes.fromhex(v["seed"]) == hashlib.sha256(b"kinpass-vector-key").digest()
    header = {"alg": "EdDSA", "kid": "audit-vector", "typ": checkpoints.TREE_HEAD_JWS_TYPE}
    signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode())
                             for part in (header, head))
    assert signing_input + "." + _b64url(key.sign(signing_input.encode())) == jws
    public = key.public_key()
    assert _b64url(public.public_bytes_raw()) == v["x"]
    assert checkpoints.verified_payload(jws, {"audit-vector": public}) == head
    forged = jws.replace(jws.split(".")[1], _b64url(json.dumps(
        {**head, "tree_size": 8}, separators=(",", ":")).encode()))
    assert checkpoints.verified_payload(forged, {"audit-vector": public}) == {}


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 100])
def test_every_proof_agrees_with_the_rfc(size):
    hashes = [hashlib.sha256(str(i).encode()).digest() for i in range(size)]
    new, _ = merkle.append([], hashes, 0)
    stored = dict(new)
    leaves = [rfc9162.leaf(h) for h in hashes]
    for m in range(size):
        assert merkle.hashes_of(merkle.inclusion_plan(m, size), stored) == rfc9162.path(m, leaves)
    for first in range(1, size + 1):
        assert merkle.hashes_of(merkle.consistency_plan(first, size), stored) == \
            rfc9162.proof(first, leaves)
