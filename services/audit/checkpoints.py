"""Signed audit log heads: an Ed25519 compact JWS over {seq, hash, at}, with `kid` in the header.

The checkpoint key is the audit log's own (never a token-signing key), generated on first use
and kept in the database with its private half wrapped by the KEK.
"""
from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core import runtime
from storage.db import utcnow
from storage.keys import wrapped_kid
from storage.models.audit import AuditCheckpoint, AuditSigningKey, AuditTreeHead

JWS_TYPE = "kinpass-audit-checkpoint+jws"
TREE_HEAD_JWS_TYPE = "kinpass-audit-tree-head+jws"
INVALID = "invalid"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _wrap_context(kid: str) -> bytes:
    return b"audit-checkpoint-key:" + kid.encode()


def _newest_key(session: Session) -> AuditSigningKey | None:
    return session.execute(select(AuditSigningKey).order_by(
        AuditSigningKey.created_at.desc(), AuditSigningKey.kid).limit(1)).scalar_one_or_none()


def signing_key(session: Session) -> AuditSigningKey:
    """The newest checkpoint key, generated (and stored wrapped) on first use."""
    key = _newest_key(session)
    if key is not None:
        return key
    private = Ed25519PrivateKey.generate()
    kid = "audit-" + secrets.token_hex(8)
    key = AuditSigningKey(
        kid=kid, created_at=utcnow(),
        public_key=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        private_wrapped=runtime.get().keys.wrap(private.private_bytes_raw(), _wrap_context(kid)))
    session.add(key)
    session.flush()
    return key


def rewrap_checkpoint_keys(session: Session) -> int:
    """Re-wrap every checkpoint key under the KEK that is active now (after a KEK rotation)."""
    keys = runtime.get().keys
    rows = [row for row in session.execute(select(AuditSigningKey)).scalars()
            if wrapped_kid(row.private_wrapped) != keys.active_kid]
    for row in rows:
        row.private_wrapped = keys.rewrap(row.private_wrapped, _wrap_context(row.kid))
    session.flush()
    return len(rows)


def jwks(session: Session) -> dict[str, Any]:
    signing_key(session)
    keys = session.execute(select(AuditSigningKey).order_by(AuditSigningKey.created_at)).scalars()
    return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": _b64url(k.public_key), "kid": k.kid,
                      "alg": "EdDSA", "use": "sig"} for k in keys]}


def _at_text(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sign(session: Session, payload: dict[str, Any], typ: str) -> tuple[str, str]:
    """(kid, compact JWS) of ``payload`` under the newest audit key."""
    key = signing_key(session)
    private = Ed25519PrivateKey.from_private_bytes(
        runtime.get().keys.unwrap(key.private_wrapped, _wrap_context(key.kid)))
    header = {"alg": "EdDSA", "kid": key.kid, "typ": typ}
    signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode())
                             for part in (header, payload))
    return key.kid, signing_input + "." + _b64url(private.sign(signing_input.encode()))


def sign_head(session: Session, seq: int, head_hash: str) -> AuditCheckpoint:
    """Sign (seq, hash) now; a head already signed keeps its first checkpoint."""
    existing = session.get(AuditCheckpoint, seq)
    if existing is not None:
        return existing
    at = utcnow().replace(microsecond=0)
    kid, jws = _sign(session, {"seq": seq, "hash": head_hash, "at": _at_text(at)}, JWS_TYPE)
    checkpoint = AuditCheckpoint(seq=seq, hash=head_hash, at=at, kid=kid, jws=jws)
    session.add(checkpoint)
    session.flush()
    return checkpoint


def sign_tree_head(session: Session, tree_size: int, root_hash: str) -> AuditTreeHead:
    """A tree head signed now over the first ``tree_size`` events."""
    at = utcnow().replace(microsecond=0)
    kid, jws = _sign(session, {"tree_size": tree_size, "root_hash": root_hash,
                               "at": _at_text(at)}, TREE_HEAD_JWS_TYPE)
    head = AuditTreeHead(tree_size=tree_size, root_hash=root_hash, at=at, kid=kid, jws=jws)
    session.add(head)
    session.flush()
    return head


def tree_head_dict(head: AuditTreeHead) -> dict[str, Any]:
    return {"tree_size": head.tree_size, "root_hash": head.root_hash,
            "at": _at_text(head.at), "jws": head.jws}


def verified_payload(jws: str, public_keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    """The payload of a compact JWS signed by one of ``public_keys``; {} when it is not."""
    try:
        header_b64, payload_b64, signature_b64 = jws.split(".")
        header = json.loads(_unb64url(header_b64))
        key = public_keys[header["kid"]]
        if header.get("alg") != "EdDSA":
            raise ValueError
        key.verify(_unb64url(signature_b64), f"{header_b64}.{payload_b64}".encode())
        payload = json.loads(_unb64url(payload_b64))
        if not isinstance(payload, dict):
            raise ValueError
        return payload
    except (ValueError, KeyError, TypeError, InvalidSignature):
        return {}


def public_keys(session: Session) -> dict[str, Ed25519PublicKey]:
    return {kid: Ed25519PublicKey.from_public_bytes(raw) for kid, raw in session.execute(
        select(AuditSigningKey.kid, AuditSigningKey.public_key))}


def signed_anchors(session: Session) -> dict[int, str]:
    """seq -> the hash its checkpoint signed; INVALID where the signature or row disagree."""
    keys = public_keys(session)
    anchors: dict[int, str] = {}
    for seq, head_hash, jws in session.execute(
            select(AuditCheckpoint.seq, AuditCheckpoint.hash, AuditCheckpoint.jws)):
        payload = verified_payload(jws, keys)
        good = payload.get("seq") == seq and payload.get("hash") == head_hash
        anchors[seq] = head_hash if good else INVALID
    return anchors


def signed_tree_roots(session: Session) -> dict[int, set[str]]:
    """tree_size -> the roots its signed heads name (INVALID for a head whose signature or
    row disagree)."""
    keys = public_keys(session)
    roots: dict[int, set[str]] = {}
    for size, root_hash, jws in session.execute(
            select(AuditTreeHead.tree_size, AuditTreeHead.root_hash, AuditTreeHead.jws)):
        payload = verified_payload(jws, keys)
        good = payload.get("tree_size") == size and payload.get("root_hash") == root_hash
        roots.setdefault(size, set()).add(root_hash if good else INVALID)
    return roots
