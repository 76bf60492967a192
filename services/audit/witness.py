"""The witness: every signed tree head is POSTed to KINPASS_AUDIT_WITNESS_URL once it is
committed, so a copy of it lives where the database's owner cannot reach.

The body is the head as `GET /v1/audit/tree-heads/latest` serves it, with the message
webhooks' headers: `Idempotency-Key` and `KinPass-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256(KINPASS_WEBHOOK_SECRET, "<t>.<raw body>")>`. A 2xx is a receipt (a row of its own,
append-only like the heads); anything else is tried again with backoff until the witness
accepts, and a head without a receipt is sent again by the next delivery round.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.checkpoints import tree_head_dict
from services.core import runtime
from services.core.settings import Settings
from storage.db import utcnow
from storage.models.audit import AuditTreeHead, AuditWitnessReceipt

log = logging.getLogger("kinpass.audit.witness")

TIMEOUT_SECONDS = 10
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 300.0
_BATCH = 100

_round = threading.Lock()


def signature_header(secret: str, body: bytes, now: int | None = None) -> str:
    stamp = int(time.time()) if now is None else now
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def _post(url: str, secret: str | None, head_id: int, body: bytes) -> bool:
    target = urlsplit(url)
    if target.scheme not in ("https", "http") or not target.hostname:
        log.error("KINPASS_AUDIT_WITNESS_URL is not an http(s) URL")
        return False
    headers = {"Content-Type": "application/json",
               "Idempotency-Key": f"audit-tree-head-{head_id}"}
    if secret:
        headers["KinPass-Signature"] = signature_header(secret, body)
    kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = kind(target.hostname, target.port, timeout=TIMEOUT_SECONDS)
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        log.warning("audit witness unreachable for tree head %s: %s", head_id,
                    type(exc).__name__)
        return False
    finally:
        connection.close()
    if 200 <= status < 300:
        return True
    log.warning("audit witness refused tree head %s: HTTP %s", head_id, status)
    return False


def _unwitnessed(session: Session) -> list[tuple[int, bytes]]:
    """(id, body) of the heads without a receipt, oldest first; the read ends here, so no
    transaction stays open while the witness is waited for."""
    received = select(AuditWitnessReceipt.head_id)
    heads = [(head.id, json.dumps(tree_head_dict(head), separators=(",", ":")).encode())
             for head in session.execute(
                 select(AuditTreeHead).where(AuditTreeHead.id.not_in(received))
                 .order_by(AuditTreeHead.id).limit(_BATCH)).scalars()]
    session.rollback()
    return heads


def deliver_pending(engine: Engine, settings: Settings | None = None, *,
                    sleep: Callable[[float], None] = time.sleep) -> int:
    """Send every head the witness has not accepted, oldest first, each until it is accepted;
    the number of receipts written."""
    settings = settings or runtime.get().settings
    if not settings.audit_witness_url:
        return 0
    delivered, delay = 0, FIRST_RETRY_SECONDS
    with _round, Session(engine) as session:
        while heads := _unwitnessed(session):
            for head_id, body in heads:
                while not _post(settings.audit_witness_url, settings.webhook_secret, head_id,
                                body):
                    sleep(delay)
                    delay = min(delay * 2, MAX_RETRY_SECONDS)
                delay = FIRST_RETRY_SECONDS
                session.add(AuditWitnessReceipt(head_id=head_id, accepted_at=utcnow()))
                session.commit()
                delivered += 1
    return delivered


def deliver_in_background(engine: Engine) -> Callable[[], None]:
    """An after-commit hook: one delivery round on a thread of its own."""
    settings = runtime.get().settings

    def start() -> None:
        def run() -> None:
            try:
                deliver_pending(engine, settings)
            except Exception:  # the heads stay unwitnessed; the next round sends them
                log.exception("audit witness delivery failed")

        threading.Thread(target=run, name="kinpass-audit-witness", daemon=True).start()

    return start
