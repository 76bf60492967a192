"""A relative and her documents on a live `kinpass serve`, over real HTTP (requests)."""
from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import requests

from tests.support import documents as docs

PASSWORD = "Kyiv-Reunion-2026"


def relative_token(base: str, outbox: Path) -> str:
    email = f"tus-{secrets.token_hex(4)}@example.org"
    r = requests.post(base + "/v1/auth/register", json={
        "email": email, "password": PASSWORD, "full_name": "Мария"}, timeout=30)
    assert r.status_code == 202, r.text
    code = next(m["code"] for m in map(json.loads, reversed(outbox.read_text().splitlines()))
                if m.get("to") == email)
    r = requests.post(base + "/v1/auth/verify", json={"login": email, "code": code}, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(base + "/v1/auth/login", json={"login": email, "password": PASSWORD},
                      timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def declare(base: str, token: str, data: bytes, *, encryption: str = "server",
            content_type: str = "image/jpeg") -> dict:
    r = requests.post(base + "/v1/cases", json=docs.CASE, headers=auth(token), timeout=30)
    assert r.status_code == 201, r.text
    r = requests.post(f"{base}/v1/cases/{r.json()['id']}/documents", json={
        "kind": "passport", "content_type": content_type, "size": len(data),
        "sha256": docs.sha(data), "encryption": encryption}, headers=auth(token), timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def document(base: str, token: str, document_id: str) -> dict:
    r = requests.get(f"{base}/v1/documents/{document_id}", headers=auth(token), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def settled_offset(location: str, token: str, above: int, seconds: float = 60) -> int:
    """The upload's offset once the server has kept part of a request cut short past
    ``above`` (the server may still be writing what it received when the client notices
    the cut, so the offset is read until it has moved past ``above``)."""
    headers = {**auth(token), "Tus-Resumable": "1.0.0"}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = requests.head(location, headers=headers, timeout=30)
        assert r.status_code == 200, r.status_code
        offset = int(r.headers["Upload-Offset"])
        if offset > above:
            return offset
        time.sleep(0.2)
    raise AssertionError("the server kept nothing of the chunk that was cut")
