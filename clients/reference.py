"""A small reference client: adds a document to a case and uploads a file, optionally sealed
on the client (HPKE + KPS1 segments, docs/encryption.md), streaming from disk.

It is what `kinpass upload` runs, and what the tests drive against a real server; mobile
clients implement the same steps.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from services.documents.uploads import sniff
from storage.envelope import DEFAULT_SEGMENT_SIZE, TAG_SIZE
from storage.hpke_suites import MLKEM768_X25519_SUITE, SUITES, X25519_SUITE
from storage.sealed import seal_stream

CHUNK = 64 * 1024
TUS = {"Tus-Resumable": "1.0.0"}
TUS_CHUNK = 1024 * 1024
RETRY_DELAYS = (0.5, 1, 2, 4, 8, 15, 30)
SUITE_PREFERENCE = (MLKEM768_X25519_SUITE.name, X25519_SUITE.name)


class UploadFailed(Exception):  # noqa: N818  (the name reads as what happened)
    def __init__(self, status: int, problem: Any) -> None:
        super().__init__(f"HTTP {status}: {problem}")
        self.status = status
        self.problem = problem


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def describe(path: Path) -> tuple[int, str, str | None]:
    """Size, SHA-256 and the type the file's first bytes announce."""
    digest, size, head = hashlib.sha256(), 0, b""
    for chunk in file_chunks(path):
        if not head:
            head = chunk[:16]
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest(), sniff(head)


def sealed_length(size: int, suite: str, kid: str,
                  segment_size: int = DEFAULT_SEGMENT_SIZE) -> int:
    """Bytes of the sealed container for ``size`` plaintext bytes (sent as Content-Length)."""
    s = SUITES[suite]
    header = 17 + 6 + 1 + len(kid.encode()) + 2 + s.enc_size + 2 + 48
    return header + size + TAG_SIZE * (size // segment_size + 1)


class Client:
    def __init__(self, base_url: str, token: str, timeout: float = 60) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("give an http(s) URL")
        self._parts = parts
        self._prefix = parts.path.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _connection(self) -> http.client.HTTPConnection:
        cls = (http.client.HTTPSConnection if self._parts.scheme == "https"
               else http.client.HTTPConnection)
        return cls(self._parts.hostname, self._parts.port, timeout=self.timeout)

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> Response:
        """One request; ``body`` may be bytes or an iterable of chunks (with Content-Length
        in ``headers``), streamed as it is read."""
        if path.startswith(("http://", "https://")):
            path = urlsplit(path).path
        elif not path.startswith(self._prefix + "/"):
            path = self._prefix + path
        conn = self._connection()
        try:
            conn.request(method, path, body=body,
                         headers={"Authorization": f"Bearer {self.token}",
                                  "Accept": "application/json", **(headers or {})})
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        return Response(resp.status, json.loads(raw) if raw else None,
                        {name.lower(): value for name, value in resp.getheaders()})

    def _json(self, method: str, path: str, payload: Any, expect: int) -> Any:
        body = json.dumps(payload).encode() if payload is not None else None
        resp = self.request(method, path, body,
                            {"Content-Type": "application/json"} if body is not None else {})
        if resp.status != expect:
            raise UploadFailed(resp.status, resp.body)
        return resp.body

    def server_key(self) -> dict[str, str]:
        keys = self._json("GET", "/v1/encryption-keys", None, 200)["keys"]
        by_suite = {k["suite"]: k for k in keys}
        for suite in SUITE_PREFERENCE:
            if suite in by_suite:
                return by_suite[suite]
        raise UploadFailed(200, "the server offers no suite this client knows")

    def upload(self, path: str | os.PathLike[str], *, case_id: str, kind: str,
               client_side: bool = False, content_type: str | None = None,
               fields: dict[str, Any] | None = None, mrz: str | None = None,
               resumable: bool = False) -> dict[str, Any]:
        """Create the document, then PUT the file (or its sealed container), or send it with
        tus in chunks that survive a dropped connection; returns the stored Document."""
        path = Path(path)
        size, sha256, sniffed = describe(path)
        content_type = content_type or sniffed
        if content_type is None:
            raise ValueError("not a JPEG, PNG or PDF file; give the content type")
        payload: dict[str, Any] = {"kind": kind, "content_type": content_type, "size": size,
                                   "sha256": sha256,
                                   "encryption": "client" if client_side else "server"}
        if fields:
            payload["fields"] = fields
        if mrz:
            payload["mrz"] = mrz
        document = self._json("POST", f"/v1/cases/{case_id}/documents", payload, 201)
        upload = document["upload"]
        if resumable:
            return self._upload_resumable(document, path, size, client_side)
        if client_side:
            key = self.server_key()
            body: Any = seal_stream(file_chunks(path), key["public_key"], key["suite"],
                                    key["kid"], uuid.UUID(document["id"]))
            length = sealed_length(size, key["suite"], key["kid"])
        else:
            body, length = file_chunks(path), size
        resp = self.request(upload["method"], upload["url"], body,
                            {**upload["headers"], "Content-Length": str(length)})
        if resp.status != 200:
            raise UploadFailed(resp.status, resp.body)
        return resp.body


    # --- tus 1.0.0 ---------------------------------------------------------------------------

    def _upload_resumable(self, document: dict[str, Any], path: Path, size: int,
                          client_side: bool) -> dict[str, Any]:
        """A resumed upload must send the very same bytes, so a sealed container is written
        once to a private temporary file (ciphertext only) and sent from there."""
        if not client_side:
            self.send_resumable(document["upload"]["tus_url"], path, size)
            return self._json("GET", f"/v1/documents/{document['id']}", None, 200)
        key = self.server_key()
        with tempfile.TemporaryDirectory() as scratch:
            sealed = Path(scratch) / "sealed"
            with sealed.open("xb") as out:
                for piece in seal_stream(file_chunks(path), key["public_key"], key["suite"],
                                         key["kid"], uuid.UUID(document["id"])):
                    out.write(piece)
            self.send_resumable(document["upload"]["tus_url"], sealed, sealed.stat().st_size)
        return self._json("GET", f"/v1/documents/{document['id']}", None, 200)

    def send_resumable(self, tus_url: str, path: Path, length: int, *,
                       chunk_size: int = TUS_CHUNK,
                       delays: tuple[float, ...] = RETRY_DELAYS,
                       checksum: bool = False) -> str:
        """Create a tus upload of ``path`` and PATCH it chunk by chunk; after a dropped
        connection or a refused chunk, ask the server's offset (HEAD) and go on from there.
        Returns the upload URL. With ``checksum`` every chunk carries its SHA-256
        (Upload-Checksum): a damaged chunk is refused (460), but a chunk cut short is then
        discarded whole rather than kept up to the cut."""
        created = self.request("POST", tus_url, None, {**TUS, "Upload-Length": str(length)})
        if created.status != 201:
            raise UploadFailed(created.status, created.body)
        location = created.headers["location"]
        offset, failures = 0, 0
        while offset < length:
            try:
                resp = self._patch(location, path, offset, min(chunk_size, length - offset),
                                   checksum)
            except OSError:
                resp = None
            if resp is not None and resp.status == 204:
                offset, failures = int(resp.headers["upload-offset"]), 0
                continue
            if resp is not None and resp.status not in (409, 460) and resp.status < 500:
                raise UploadFailed(resp.status, resp.body)  # a refusal: retrying cannot help
            if failures >= len(delays):
                raise UploadFailed(resp.status if resp else 0,
                                   resp.body if resp else "connection lost")
            time.sleep(delays[failures])
            failures += 1
            offset = self._offset(location, offset)
        return location

    def _patch(self, location: str, path: Path, offset: int, size: int,
               checksum: bool) -> Response:
        with path.open("rb") as f:
            f.seek(offset)
            chunk = f.read(size)
        headers = {**TUS, "Upload-Offset": str(offset),
                   "Content-Type": "application/offset+octet-stream"}
        if checksum:
            digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
            headers["Upload-Checksum"] = f"sha256 {digest}"
        return self.request("PATCH", location, chunk, headers)

    def _offset(self, location: str, fallback: int) -> int:
        try:
            resp = self.request("HEAD", location, None, TUS)
        except OSError:
            return fallback
        if resp.status != 200:
            raise UploadFailed(resp.status, resp.body)
        return int(resp.headers["upload-offset"])
