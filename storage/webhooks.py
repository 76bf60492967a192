"""Signed webhooks (SMS and push gateways, the audit witness): a JSON POST with
`Idempotency-Key` and `KinPass-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>`. A 2xx is delivered; a 408, 429 or 5xx, a timeout or a refused connection
is worth another try; any other answer is a refusal, with the gateway's reason when it gave
one."""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import ssl
import time
from urllib.parse import urlsplit

from storage.delivery_errors import DeferredError, RefusedError

TIMEOUT_SECONDS = 10
RETRIED_STATUSES = frozenset({408, 429})


def signature(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def _reason(status: int, body: bytes) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    given = answer.get("reason") or answer.get("error") if isinstance(answer, dict) else None
    if isinstance(given, str) and given.isprintable():
        return f"the gateway answered {status}: {given[:200]}"
    return f"the gateway answered {status}"


def post_signed(url: str, secret: str, body: bytes, idempotency_key: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a webhook URL must be http(s)://host[:port]/path")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, parts.port,
                                                 timeout=TIMEOUT_SECONDS,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port,
                                                timeout=TIMEOUT_SECONDS)
    headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key,
               "KinPass-Signature": signature(secret, body, int(time.time())),
               "User-Agent": "KinPass"}
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(4096)
    except TimeoutError:
        raise DeferredError("the gateway did not answer in time") from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeferredError(f"the gateway is unreachable ({type(exc).__name__})") from None
    finally:
        connection.close()
    status = response.status
    if 200 <= status < 300:
        return
    if status in RETRIED_STATUSES or status >= 500:
        raise DeferredError(_reason(status, answer))
    raise RefusedError(_reason(status, answer))
