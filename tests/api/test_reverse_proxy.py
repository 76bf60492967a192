"""The runbook's nginx configuration (docs/deploy/nginx.conf) in front of two real
`kinpass serve` instances sharing one database: large uploads stream through, both instances
answer, links point at the proxy, and a client's own X-Forwarded-For is not believed."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess

import pytest
import requests

from tests.support.http import bearer, free_port
from tests.support.nginx import nginx_binary, run_nginx
from tests.support.serving import serve_kinpass, wait_healthy

PASSWORD = "Kyiv-Reunion-2026"
CASE = {"relationship": "mother",
        "applicant": {"surname": "Иванова", "given_name": "Мария", "birth_date": "1971-04-02"},
        "soldier": {"surname": "Иванов", "given_name": "Алексей", "birth_date": "2001-09-14"}}


@pytest.fixture
def proxied(tmp_path):
    """(nginx base URL, data dir, the two instances' log files)."""
    nginx_binary()
    front = free_port()
    with serve_kinpass(tmp_path, KINPASS_PROXY_HOPS="1",
                       KINPASS_PUBLIC_URL=f"http://127.0.0.1:{front}") as (first, _, env,
                                                                             kinpass, _):
        port = free_port()
        second_log = (tmp_path / "second.log").open("wb")
        second = subprocess.Popen([*kinpass, "serve"],
                                  env={**env, "KINPASS_BIND": f"127.0.0.1:{port}"},
                                  stdout=second_log, stderr=second_log, start_new_session=True)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", second)
            upstreams = [first.removeprefix("http://"), f"127.0.0.1:{port}"]
            with run_nginx(tmp_path, upstreams, front) as base:
                yield base, tmp_path / "data", [tmp_path / "server.log",
                                                 tmp_path / "second.log"]
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
            second_log.close()


def _code(outbox, email: str) -> str:
    lines = [json.loads(line) for line in outbox.read_text().splitlines() if line]
    return [m for m in lines if m["to"] == email][-1]["code"]


def test_nginx_in_front_of_two_instances(proxied, tmp_path):
    base, data_dir, logs = proxied
    http = requests.Session()
    email = "mother@example.org"
    r = http.post(base + "/v1/auth/register", json={"email": email, "password": PASSWORD,
                                                     "full_name": "Мария"})
    assert r.status_code == 202, r.text
    code = _code(tmp_path / "outbox.jsonl", email)
    assert http.post(base + "/v1/auth/verify", json={"login": email, "code": code}).ok
    r = http.post(base + "/v1/auth/login", json={"login": email, "password": "wrong-password"},
                  headers={"X-Forwarded-For": "203.0.113.66"})
    assert r.status_code == 401
    token = http.post(base + "/v1/auth/login",
                      json={"login": email, "password": PASSWORD}).json()["access_token"]
    case = http.post(base + "/v1/cases", json=CASE, headers=bearer(token)).json()

    data = b"\xff\xd8\xff\xe0" + os.urandom(8 * 1024 * 1024)  # far above nginx's 1 MiB default
    r = http.post(f"{base}/v1/cases/{case['id']}/documents", headers=bearer(token), json={
        "kind": "passport", "content_type": "image/jpeg", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "encryption": "server"})
    assert r.status_code == 201, r.text
    upload = r.json()["upload"]
    assert upload["url"].startswith(base + "/"), upload["url"]
    r = http.put(upload["url"], data=data, headers={**bearer(token), **upload["headers"]})
    assert r.status_code == 200 and r.json()["status"] == "stored", r.text

    for _ in range(20):
        assert http.get(base + "/healthz").status_code == 200
    served = [log.read_text(errors="replace").count('"request"') for log in logs]
    assert all(count > 0 for count in served), served

    with sqlite3.connect(data_dir / "kinpass.db") as db:
        ips = {ip for (ip,) in db.execute("SELECT DISTINCT ip FROM audit_events")}
    assert "127.0.0.1" in ips and "203.0.113.66" not in ips, ips
