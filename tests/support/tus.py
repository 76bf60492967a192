"""tus 1.0.0 by hand, for tests that speak the protocol through the Flask test client."""
from __future__ import annotations

import base64
import hashlib

from tests.support.http import bearer

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK_TYPE = "application/offset+octet-stream"


def tus_headers(token: str, **extra: str) -> dict[str, str]:
    return {**bearer(token), **TUS, **extra}


def create(client, token: str, document: dict, length: int):
    return client.post(document["upload"]["tus_url"],
                       headers=tus_headers(token, **{"Upload-Length": str(length)}))


def patch(client, token: str, location: str, offset: int, data: bytes, *,
          checksum: bytes | None = None):
    extra = {"Upload-Offset": str(offset)}
    if checksum is not None:
        extra["Upload-Checksum"] = "sha256 " + base64.b64encode(checksum).decode()
    return client.patch(location, data=data, content_type=CHUNK_TYPE,
                        headers=tus_headers(token, **extra))


def head(client, token: str, location: str):
    return client.head(location, headers=tus_headers(token))


def send_all(client, token: str, document: dict, body: bytes, chunk: int = 256 * 1024):
    """Create an upload and PATCH ``body`` in chunks; returns the last PATCH's response."""
    r = create(client, token, document, len(body))
    assert r.status_code == 201, r.get_data()
    location = r.headers["Location"]
    offset = 0
    while True:
        piece = body[offset:offset + chunk]
        r = patch(client, token, location, offset, piece,
                  checksum=hashlib.sha256(piece).digest())
        if r.status_code != 204 or int(r.headers["Upload-Offset"]) == len(body):
            return r
        offset = int(r.headers["Upload-Offset"])
