"""Resumable (tus) uploads: a 20 MiB file in 1 MiB chunks next to a single PUT of the same
file, the server's memory while 100 MiB arrive by tus, and a lossy link — a loopback proxy
that cuts the connection every 2 MiB — where tus resumes and a plain PUT starts again.

One KinPass server (werkzeug's threaded server, as bench.documents) in its own process; tus
and PUT rounds alternate in the same run.

    .venv/bin/python -m bench.resumable
"""
from __future__ import annotations

import hashlib
import http.client
import json
import socket
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.documents import (
    BIG_UPLOAD,
    MiB,
    _file,
    _json,
    _kinpass_put,
    _kinpass_server,
    _peak_while,
    _relative,
    _rss,
    _start,
)
from clients.reference import Client, UploadFailed
from tests.support.proxy import cutting_proxy

SIZE = 20 * MiB
TUS_CHUNK = MiB
ROUNDS = 3
CUT_EVERY = 2 * MiB
RESTART_ATTEMPTS = 10
TUS = {"Tus-Resumable": "1.0.0"}


class _NoDelay(http.client.HTTPConnection):
    """http.client writes a large body after its headers in a second send; without
    TCP_NODELAY, Nagle's algorithm then waits for the server's delayed ACK (~40 ms) on every
    request. Mobile HTTP stacks (OkHttp, URLSession) and Node set TCP_NODELAY."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _declare(port: int, token: str, case_id: str, data: bytes) -> dict:
    return _json(port, "POST", f"/v1/cases/{case_id}/documents", {
        "kind": "photo", "content_type": "image/jpeg", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest()}, token)


def _tus_put(port: int, token: str, case_id: str, data: bytes) -> float:
    """Create a tus upload and PATCH it in 1 MiB chunks over one keep-alive connection, as
    tus-js-client and the mobile SDKs do; returns the seconds from creation to stored."""
    doc = _declare(port, token, case_id, data)
    auth = {"Authorization": f"Bearer {token}", **TUS}
    conn = _NoDelay("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request("POST", urlsplit(doc["upload"]["tus_url"]).path,
                 headers={**auth, "Upload-Length": str(len(data))})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 201, resp.status
    location = urlsplit(resp.getheader("Location")).path
    offset = 0
    view = memoryview(data)
    while offset < len(data):
        chunk = bytes(view[offset:offset + TUS_CHUNK])
        conn.request("PATCH", location, body=chunk, headers={
            **auth, "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 204, (resp.status, body)
        offset = int(resp.getheader("Upload-Offset"))
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _restart_from_zero(proxy_url: str, port: int, token: str, case_id: str,
                       data: bytes) -> bool:
    """A plain PUT that starts again from byte zero after every cut; True if it got through."""
    doc = _declare(port, token, case_id, data)
    parts = urlsplit(proxy_url)
    for _ in range(RESTART_ATTEMPTS):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            conn.request("PUT", f"/v1/documents/{doc['id']}/content", body=data, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"})
            if conn.getresponse().status == 200:
                return True
        except OSError:
            pass
        finally:
            conn.close()
    return False


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        server, port = _start(_kinpass_server, data_dir)
        try:
            token, case_id = _relative(port, data_dir)
            data = _file(SIZE)
            _tus_put(port, token, case_id, data)  # warm up both paths
            _kinpass_put(port, token, case_id, data)
            tus_t, put_t = [], []
            for _ in range(ROUNDS):
                tus_t.append(_tus_put(port, token, case_id, data))
                put_t.append(_kinpass_put(port, token, case_id, data))
            tus_mib = SIZE / MiB / statistics.median(tus_t)
            put_mib = SIZE / MiB / statistics.median(put_t)

            big = _file(BIG_UPLOAD)
            before = _rss(server.pid, "VmRSS")
            peak = _peak_while(server.pid, lambda: _tus_put(port, token, case_id, big))

            path = Path(data_dir) / "lossy.jpg"
            path.write_bytes(data)
            lossy = {}
            for checksum in (False, True):
                with cutting_proxy(port, cut_every=CUT_EVERY) as proxy:
                    doc = _declare(port, token, case_id, data)
                    Client(proxy.url, token).send_resumable(
                        doc["upload"]["tus_url"], path, len(data), delays=(0.05,) * 50,
                        checksum=checksum)
                    lossy[checksum] = (proxy.received, proxy.cut_count)
            (tus_sent, tus_cuts), (sum_sent, _) = lossy[False], lossy[True]
            with cutting_proxy(port, cut_every=CUT_EVERY) as proxy:
                restarted = _restart_from_zero(proxy.url, port, token, case_id, data)
                restart_sent = proxy.received
        except UploadFailed as exc:
            raise SystemExit(f"bench: upload refused: {exc}") from None
        finally:
            server.terminate()
    results = {
        "upload_20mib_tus_1mib_chunks_mib_s": round(tus_mib, 1),
        "upload_20mib_single_put_mib_s": round(put_mib, 1),
        "tus_to_put_ratio": round(tus_mib / put_mib, 2),
        "server_rss_before_mib": round(before / MiB, 1),
        "server_rss_peak_during_100mib_tus_upload_mib": round(peak / MiB, 1),
        "rss_growth_100mib_tus_upload_mib": round((peak - before) / MiB, 1),
        "lossy_link_tus_bytes_sent_mib": round(tus_sent / MiB, 2),
        "lossy_link_tus_bytes_over_file_size": round(tus_sent / SIZE, 3),
        "lossy_link_tus_connections_cut": tus_cuts,
        "lossy_link_tus_with_upload_checksum_bytes_over_file_size": round(sum_sent / SIZE, 3),
        "lossy_link_restart_from_zero_completed": restarted,
        f"lossy_link_restart_from_zero_mib_sent_in_{RESTART_ATTEMPTS}_attempts":
            round(restart_sent / MiB, 2),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
