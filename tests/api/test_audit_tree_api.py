"""The tree's endpoints: signed heads on demand, proofs an auditor verifies with nothing but
the hashes and the public key, and sizes outside the log refused."""
from __future__ import annotations

import json

import pytest
from jwcrypto import jwk, jws

from services.audit import merkle
from services.audit.events import SYSTEM, record_event
from services.core import unit_of_work
from storage.db import session as db
from tests.support.http import bearer


def _seed(n: int) -> None:
    for i in range(n):
        record_event("test.seed", SYSTEM, subject_type="thing", subject_id=f"thing-{i}")
    unit_of_work.commit()
    db.remove()


@pytest.fixture
def auditor(make_staff):
    return bearer(make_staff("auditor")["access_token"])


def _head(client, auditor) -> dict:
    r = client.post("/v1/audit/tree-heads", headers=auditor)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_heads_are_signed_and_proofs_verify(client, auditor):
    _seed(5)
    old = _head(client, auditor)
    _seed(9)
    new = _head(client, auditor)
    assert client.get("/v1/audit/tree-heads/latest", headers=auditor).get_json() == new
    assert new["tree_size"] > old["tree_size"] >= 5
    keys = jwk.JWKSet.from_json(client.get("/v1/audit/keys").get_data(as_text=True))
    for head in (old, new):
        token = jws.JWS()
        token.deserialize(head["jws"])
        token.verify(keys.get_key(token.jose_header["kid"]))
        assert json.loads(token.payload) == {
            k: head[k] for k in ("tree_size", "root_hash", "at")}
    first, second = old["tree_size"], new["tree_size"]
    r = client.get(f"/v1/audit/proofs/consistency?first={first}&second={second}",
                   headers=auditor)
    assert r.status_code == 200
    body = r.get_json()
    assert (body["first"], body["second"]) == (first, second)
    path = [bytes.fromhex(h) for h in body["consistency_path"]]
    assert merkle.verify_consistency(first, second, bytes.fromhex(old["root_hash"]),
                                     bytes.fromhex(new["root_hash"]), path)
    for seq in (1, first, second):
        r = client.get(f"/v1/audit/proofs/inclusion?seq={seq}&tree_size={second}",
                       headers=auditor)
        proof = r.get_json()
        assert r.status_code == 200 and proof["seq"] == seq
        event = client.get("/v1/audit/events?limit=100", headers=auditor).get_json()
        event_hash = next(e["hash"] for e in event["items"] if e["seq"] == seq)
        assert proof["leaf_hash"] == merkle.leaf_hash(bytes.fromhex(event_hash)).hex()
        root = merkle.root_from_inclusion(seq - 1, second, bytes.fromhex(proof["leaf_hash"]),
                                          [bytes.fromhex(h) for h in proof["audit_path"]])
        assert root.hex() == new["root_hash"]


@pytest.mark.parametrize("query", [
    "inclusion?seq=1&tree_size=999", "inclusion?seq=0&tree_size=1",
    "inclusion?seq=3&tree_size=2", "inclusion?seq=x&tree_size=1", "inclusion?seq=1",
    "inclusion?seq=-1&tree_size=1", "consistency?first=1&second=999",
    "consistency?first=0&second=1", "consistency?first=3&second=2", "consistency?first=1",
    "consistency?first=1&second=2&extra=1",
])
def test_sizes_outside_the_log_are_400(client, auditor, query):
    _seed(2)
    r = client.get(f"/v1/audit/proofs/{query}", headers=auditor)
    assert r.status_code == 400 and r.get_json()["code"] == "validation_error", r.get_json()


def test_only_auditors_reach_the_tree(client, make_staff):
    officer = bearer(make_staff("officer")["access_token"])
    for method, path in (("get", "/v1/audit/tree-heads/latest"), ("post", "/v1/audit/tree-heads"),
                         ("get", "/v1/audit/proofs/inclusion?seq=1&tree_size=1"),
                         ("get", "/v1/audit/proofs/consistency?first=1&second=1")):
        assert getattr(client, method)(path, headers=officer).status_code == 403
        assert getattr(client, method)(path).status_code == 401


def test_no_head_yet_is_404(client, auditor):
    r = client.get("/v1/audit/tree-heads/latest", headers=auditor)
    assert r.status_code == 404 and r.get_json()["code"] == "not_found"
