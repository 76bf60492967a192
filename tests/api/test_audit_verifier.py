"""The independent verifier (tools/audit_verifier.py) against a real `kinpass serve`: proofs
from the live server verify; after the database's owner rewrites and re-chains the log and
rebuilds the tree, the head the auditor kept exposes it."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import create_engine

from tests.support.forgery import forge_log
from tests.support.serving import serve_kinpass

VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "audit_verifier.py"


def _call(base: str, path: str, token: str | None = None, body: dict | None = None,
          method: str = "GET") -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers,
                                     method="POST" if body is not None else method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _verifier(base: str, token: str, *args: str) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, str(VERIFIER), "--url", base, "--token", token,
                           *args], capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, json.loads(done.stdout)


@pytest.mark.slow
def test_the_verifier_checks_a_live_server_and_catches_a_rewrite(tmp_path):
    with serve_kinpass(tmp_path) as (base, _server, env, kinpass, _):
        created = json.loads(subprocess.run(
            [*kinpass, "staff", "create", "--email", "auditor@kinpass.example",
             "--role", "auditor"], env=env, capture_output=True, text=True, check=True,
            timeout=120).stdout)
        token = _call(base, "/v1/auth/login", body={
            "login": "auditor@kinpass.example", "password": created["password"],
            "otp": pyotp.TOTP(created["totp_secret"]).now()})["access_token"]
        kept = tmp_path / "kept.json"
        kept.write_text(json.dumps(_call(base, "/v1/audit/tree-heads", token, method="POST")))
        for _ in range(3):
            _call(base, "/v1/audit/events", token)
        # A search by a number's HMAC is an event that carries it: the verifier hashes it too.
        _call(base, "/v1/audit/events?document_number_hmac=" + "ab" * 32, token)
        _call(base, "/v1/audit/tree-heads", token, method="POST")
        newer = tmp_path / "newer.json"
        code, report = _verifier(base, token, "--trusted-head", str(kept), "--events",
                                 "--save-head", str(newer))
        assert code == 0, report
        assert report["ok"] and any(c.startswith("consistency") for c in report["checked"])
        searched = [e for e in _call(base, "/v1/audit/events?action=audit.read", token)["items"]
                    if e["document_number_hmac"] == "ab" * 32]
        assert len(searched) == 1 and searched[0]["subject_id"] == "events"
        assert json.loads(newer.read_text())["tree_size"] > json.loads(kept.read_text())[
            "tree_size"]

        engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'kinpass.db'}")
        with engine.begin() as conn:
            forge_log(conn, 2)
        engine.dispose()
        _call(base, "/v1/audit/tree-heads", token, method="POST")  # the forged log signs fine ...
        code, report = _verifier(base, token)
        assert code == 0, report
        code, report = _verifier(base, token, "--trusted-head", str(kept))  # ... but
        assert code == 1 and "does not extend the trusted head" in report["problem"]
        code, report = _verifier(base, token, "--trusted-head", str(newer))
        assert code == 1 and not report["ok"]
