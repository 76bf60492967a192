"""`Idempotency-Key` on creating POSTs: one decorator, placed under the role decorator.

    @blp.route("", methods=["POST"])
    @roles_required("relative")
    @idempotent
    @blp.arguments(CaseIn)
    @blp.response(201, CaseOut)

A retry with the same key and the same request replays the first completed answer (status
and body, whatever the status, a 400 included); the same key with another request is 422
idempotency_key_reused. Keys belong to the calling account. Server errors (5xx) are not kept:
the client may simply retry.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, request

from api.errors import fail_closed, refusal_problem, settle_refusal
from auth.roles import current_account
from services.audit.events import record_event
from services.core import idempotency, unit_of_work
from storage.domain_errors import KinPassError, ValidationFailed

HEADER = "Idempotency-Key"
KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,255}\Z")

log = logging.getLogger("kinpass.idempotency")


def _fingerprint() -> str:
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode() if raw else b""
    except (ValueError, RecursionError):
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _refused(exc: KinPassError, account_id: Any, key: str, fingerprint: str) -> Response:
    """The refusal settled and its answer kept for replays, in the one commit."""
    try:
        settle_refusal(exc.status, exc.code)
        response = refusal_problem(exc)
        idempotency.record_outcome(account_id=account_id, key=key, request_hash=fingerprint,
                                   status=response.status_code, body=response.get_data(),
                                   content_type=response.content_type or "")
        unit_of_work.commit()
    except Exception:
        return fail_closed()
    return response


def _without_secrets(body: bytes, content_type: str, secret_fields: tuple[str, ...]) -> bytes:
    """What is kept for replays: the answer with its shown-once secrets emptied."""
    if not secret_fields or not content_type.startswith("application/json"):
        return body
    answer = json.loads(body)
    if isinstance(answer, dict):
        answer.update({name: None for name in secret_fields if name in answer})
    return json.dumps(answer, ensure_ascii=False).encode()


def _replayed(reserved: idempotency.Replay) -> Response:
    """A replay answers what the first request answered, and is audited as the read it is."""
    record_event("idempotency.replay", current_account(), subject_type="request",
                 reason=f"{request.method} {request.path} {reserved.status}")
    unit_of_work.commit()
    return Response(reserved.body, status=reserved.status, content_type=reserved.content_type)


def idempotent(view: Callable | None = None, *,
               secret_fields: tuple[str, ...] = ()) -> Callable:
    """``secret_fields``: members of the answer shown once, never kept for a replay."""
    if view is None:
        return lambda inner: idempotent(inner, secret_fields=secret_fields)

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not KEY_SHAPE.match(key):
            raise ValidationFailed(errors={HEADER: [
                "Give 1 to 255 printable ASCII characters without spaces."]})
        account_id = current_account().id
        fingerprint = _fingerprint()
        reserved = idempotency.reserve(account_id, key, fingerprint)
        if isinstance(reserved, idempotency.Replay):
            return _replayed(reserved)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except KinPassError as exc:
            if exc.status >= 500:
                raise
            return _refused(exc, account_id, key, fingerprint)
        if response.status_code < 500:
            content_type = response.content_type or ""
            idempotency.complete(reserved, response.status_code,
                                 _without_secrets(response.get_data(), content_type,
                                                  secret_fields), content_type)
        return response

    wrapper._kinpass_idempotent = True  # type: ignore[attr-defined]  (documents the header)
    return wrapper
