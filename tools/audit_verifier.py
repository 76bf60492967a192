"""An auditor's own check of a KinPass audit log, over HTTP only (docs/audit.md).

    python tools/audit_verifier.py --url URL --token AUDITOR_TOKEN \
        [--trusted-head FILE] [--save-head FILE] [--events]

It shares no code with the server: the standard library and `cryptography` (Ed25519).
Checks, in order: the newest tree head's signature against /v1/audit/keys; a consistency
proof from the trusted head (when given) to the newest; with --events, the export
re-hashed event by event (the chain) and the tree rebuilt to the newest head's root, plus an
inclusion proof of the last event. Prints a JSON report; exit 0 when every check holds,
1 when one fails (named in "problem"), 2 when the server cannot be asked.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HEAD_TYPE = "kinpass-audit-tree-head+jws"
GENESIS = "0" * 64


class BrokenLogError(Exception):
    """A check that failed: the log is not what the heads say."""


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Server:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url.rstrip("/"), token

    def _open(self, path: str, params: dict[str, Any] | None = None) -> Any:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError("--url must be http(s)")
        query = "?" + urllib.parse.urlencode(params) if params else ""
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            self.url + path + query, headers={"Authorization": f"Bearer {self.token}"})
        return urllib.request.urlopen(request, timeout=60)  # noqa: S310 - as above

    def get(self, path: str, **params: Any) -> Any:
        with self._open(path, params) as response:
            return json.load(response)

    def lines(self, path: str) -> Any:
        with self._open(path) as response:
            for line in response:
                if line.strip():
                    yield json.loads(line)


def verify_head(head: dict[str, Any], keys: dict[str, Ed25519PublicKey]) -> None:
    try:
        header_b64, payload_b64, signature_b64 = head["jws"].split(".")
        header = json.loads(_unb64(header_b64))
        if header.get("alg") != "EdDSA" or header.get("typ") != HEAD_TYPE:
            raise BrokenLogError("the head's JWS header is not a KinPass tree head's")
        keys[header["kid"]].verify(_unb64(signature_b64),
                                   f"{header_b64}.{payload_b64}".encode())
        payload = json.loads(_unb64(payload_b64))
    except (KeyError, ValueError, InvalidSignature) as exc:
        raise BrokenLogError(
            f"the head's signature does not verify ({type(exc).__name__})") from None
    if payload != {k: head[k] for k in ("tree_size", "root_hash", "at")}:
        raise BrokenLogError("the head's fields differ from what it signs")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2."""
    if first == second:
        return not path and first_root == second_root
    if not 0 < first < second:
        return False
    nodes = ([first_root] if first & (first - 1) == 0 else []) + path
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
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2; None when the proof cannot be one."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def _canonical(event: dict[str, Any]) -> bytes:
    """Every field but the hash; document_number_hmac only when it is not null."""
    body = {k: v for k, v in event.items()
            if k != "hash" and not (k == "document_number_hmac" and v is None)}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def rebuild(events: Any) -> tuple[int, bytes]:
    """Re-hash the exported chain and fold the tree (a stack of perfect subtrees)."""
    stack: list[tuple[int, bytes]] = []
    prev, count = GENESIS, 0
    for event in events:
        count += 1
        if event["seq"] != count or event["prev_hash"] != prev:
            raise BrokenLogError(f"the chain breaks at seq {count}")
        if hashlib.sha256(bytes.fromhex(prev) + _canonical(event)).hexdigest() != event["hash"]:
            raise BrokenLogError(f"event seq {count} does not hash to its hash")
        prev = event["hash"]
        level, digest = 0, _sha(b"\x00" + bytes.fromhex(prev))
        while stack and stack[-1][0] == level:
            digest, level = _node(stack.pop()[1], digest), level + 1
        stack.append((level, digest))
        yield count, stack


def check(server: Server, trusted: dict[str, Any] | None, events: bool) -> dict[str, Any]:
    keys = {k["kid"]: Ed25519PublicKey.from_public_bytes(_unb64(k["x"]))
            for k in server.get("/v1/audit/keys")["keys"]}
    head = server.get("/v1/audit/tree-heads/latest")
    verify_head(head, keys)
    size, root = head["tree_size"], bytes.fromhex(head["root_hash"])
    report: dict[str, Any] = {"ok": True, "head": head, "checked": ["head signature"]}
    if trusted is not None:
        verify_head(trusted, keys)
        first = trusted["tree_size"]
        if first > size:
            raise BrokenLogError(f"the log's newest head ({size}) is shorter than the trusted one "
                         f"({first})")
        path = [bytes.fromhex(h) for h in server.get(
            "/v1/audit/proofs/consistency", first=first, second=size)["consistency_path"]]
        if not verify_consistency(first, size, bytes.fromhex(trusted["root_hash"]), root, path):
            raise BrokenLogError(f"the log of size {size} does not extend the trusted head of size "
                         f"{first}")
        report["checked"].append(f"consistency {first} -> {size}")
    if events and size:
        rebuilt = None
        for count, stack in rebuild(server.lines("/v1/audit/export")):
            if count == size:
                digests = [d for _, d in stack]
                rebuilt = digests[-1]
                for left in reversed(digests[:-1]):
                    rebuilt = _node(left, rebuilt)
        if rebuilt != root:
            raise BrokenLogError(
                f"the exported events do not give the root of the head of size {size}")
        proof = server.get("/v1/audit/proofs/inclusion", seq=size, tree_size=size)
        if root_from_inclusion(size - 1, size, bytes.fromhex(proof["leaf_hash"]),
                               [bytes.fromhex(h) for h in proof["audit_path"]]) != root:
            raise BrokenLogError(f"the inclusion proof of seq {size} does not lead to the root")
        report["checked"] += [f"chain and tree of {size} events", f"inclusion of seq {size}"]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--trusted-head", type=argparse.FileType("rb"))
    parser.add_argument("--save-head", help="write the newest head here once it checks out")
    parser.add_argument("--events", action="store_true", help="also re-hash the export")
    args = parser.parse_args(argv)
    trusted = json.load(args.trusted_head) if args.trusted_head else None
    try:
        report = check(Server(args.url, args.token), trusted, args.events)
    except BrokenLogError as exc:
        print(json.dumps({"ok": False, "problem": str(exc)}))
        return 1
    except (OSError, ValueError, KeyError, urllib.error.URLError) as exc:
        print(json.dumps({"ok": False, "error": f"cannot ask the server: {exc}"}))
        return 2
    if args.save_head:
        with open(args.save_head, "w", encoding="utf-8") as saved:
            json.dump(report["head"], saved)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
