"""Auditors read, search, export and verify the log; its checkpoint keys are public."""
from __future__ import annotations

import json

from flask import Response

from api.blueprint import Blueprint
from auth.roles import current_account, roles_required
from schemas.audit import (
    AuditCheckpointPageOut,
    AuditEventArgs,
    AuditEventOut,
    AuditEventPageOut,
    AuditVerifyOut,
    AuditWindowArgs,
)
from schemas.authorizations import JwksOut
from schemas.base import PageArgs
from services.audit import events as audit, reading as audit_reading
from storage.models.audit import AuditCheckpoint, AuditEvent
from storage.paging import paginate
from storage.vocabulary import Role

blp = Blueprint("audit", __name__, url_prefix="/v1/audit", description="The audit log")


def _filter(args: dict) -> audit_reading.EventFilter:
    return audit_reading.EventFilter(**{k: v for k, v in args.items()
                                        if k not in ("limit", "cursor")})


@blp.route("/events", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.arguments(AuditEventArgs, location="query")
@blp.response(200, AuditEventPageOut)
def list_events(args):
    query = audit_reading.events_query(current_account(), _filter(args))
    items, cursor = paginate(query, [AuditEvent.seq], args["cursor"], args["limit"])
    return {"items": items, "next_cursor": cursor}


@blp.route("/verify", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.response(200, AuditVerifyOut)
def verify():
    report = audit_reading.verify_log(current_account())
    return {"ok": report.ok, "events": report.events,
            "head": {"seq": report.head_seq, "hash": report.head_hash},
            "first_bad_seq": report.first_bad_seq}


@blp.route("/export", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.arguments(AuditWindowArgs, location="query")
@blp.response(200, AuditEventOut, content_type="application/x-ndjson",
              description="One event a line, oldest first")
def export(args):
    events = audit_reading.export_events(current_account(), _filter(args))
    lines = (json.dumps(event, ensure_ascii=False) + "\n" for event in events)
    return Response(lines, mimetype="application/x-ndjson")


@blp.route("/checkpoints", methods=["GET"])
@roles_required(Role.AUDITOR)
@blp.arguments(PageArgs, location="query")
@blp.response(200, AuditCheckpointPageOut)
def list_checkpoints(args):
    query = audit_reading.checkpoints_query(current_account())
    items, cursor = paginate(query, [AuditCheckpoint.seq], args["cursor"], args["limit"])
    return {"items": items, "next_cursor": cursor}


@blp.route("/keys", methods=["GET"])
@blp.response(200, JwksOut)
def keys():
    return audit.checkpoint_keys()
