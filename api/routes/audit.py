"""Auditors read, search, export and verify the log; its checkpoint keys are public."""
from __future__ import annotations

import json

from flask import Response

from api.blueprint import Blueprint
from auth.roles import current_account, roles_required
from schemas.audit import (
    AuditCheckpointOut,
    AuditEventFilters,
    AuditEventOut,
    AuditVerifyOut,
    AuditWindowArgs,
    ConsistencyArgs,
    ConsistencyOut,
    InclusionArgs,
    InclusionOut,
    TreeHeadOut,
)
from schemas.authorizations import JwksOut
from services.audit import events as audit, proofs, reading as audit_reading, tree_check
from storage.vocabulary import Role

blp = Blueprint("audit", __name__, url_prefix="/v1/audit", description="The audit log")


@blp.route("/events", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.paginated(AuditEventOut, filters=AuditEventFilters)
def list_events(cursor, limit, **filters):
    """Search the audit log, oldest first.

    Filters: actor, action, subject, the document number's HMAC (`kinpass audit hash
    NUMBER` prints it) and a window (`since` inclusive, `until` exclusive).
    """
    return audit_reading.list_audit_events(current_account(),
                                           audit_reading.EventFilter(**filters),
                                           cursor=cursor, limit=limit)


@blp.route("/verify", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.response(200, AuditVerifyOut)
def verify():
    """Verify the audit log: its hash chain, the Merkle tree and every signed tree head.

    `ok` is false and `first_bad_seq` names the first broken event when the chain does
    not hold.
    """
    report = tree_check.verify_audit_log(current_account())
    return {"ok": report.ok, "events": report.events,
            "head": {"seq": report.head_seq, "hash": report.head_hash},
            "first_bad_seq": report.first_bad_seq}


@blp.route("/export", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.arguments(AuditWindowArgs, location="query")
@blp.response(200, AuditEventOut, content_type="application/x-ndjson",
              description="One event a line, oldest first")
def export(args):
    """Export the audit log as NDJSON.

    One event a line, oldest first, in the window given.
    """
    events = audit_reading.export_events(current_account(), audit_reading.EventFilter(**args))
    lines = (json.dumps(event, ensure_ascii=False) + "\n" for event in events)
    return Response(lines, mimetype="application/x-ndjson")


@blp.route("/checkpoints", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.paginated(AuditCheckpointOut)
def list_checkpoints(cursor, limit):
    """Signed heads of the audit log.

    Each `jws` is signed with a key of `GET /v1/audit/keys`.
    """
    return audit_reading.list_audit_checkpoints(current_account(), cursor=cursor, limit=limit)


@blp.route("/tree-heads/latest", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.response(200, TreeHeadOut)
def latest_tree_head():
    """The latest signed tree head.

    The Merkle tree's size, root hash and its Ed25519 signature (JWS); 404 before the
    first head is signed.
    """
    return proofs.latest_tree_head(current_account())


@blp.route("/tree-heads", methods=["POST"])
@roles_required(Role.AUDITOR)
@blp.response(201, TreeHeadOut)
def new_tree_head():
    """Sign a tree head now.

    Signs the tree as it stands and hands the head to the witness, when one is set.
    """
    return proofs.new_tree_head(current_account())


@blp.route("/proofs/inclusion", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.arguments(InclusionArgs, location="query")
@blp.response(200, InclusionOut)
def inclusion_proof(args):
    """An inclusion proof (RFC 9162 §2.1.3).

    The audit path that proves event `seq` is in the tree of size `tree_size`.
    """
    return proofs.inclusion(current_account(), args["seq"], args["tree_size"])


@blp.route("/proofs/consistency", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.arguments(ConsistencyArgs, location="query")
@blp.response(200, ConsistencyOut)
def consistency_proof(args):
    """A consistency proof (RFC 9162 §2.1.4).

    Proves the tree of size `second` extends the tree of size `first` without changing it.
    """
    return proofs.consistency(current_account(), args["first"], args["second"])


@blp.route("/keys", methods=["GET"])
@blp.response(200, JwksOut)
def keys():
    """The keys that sign audit checkpoints (JWKS).

    Public, so that anyone can check a checkpoint.
    """
    return audit.checkpoint_keys()
