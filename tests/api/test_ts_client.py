"""The TypeScript reference client (clients/js, hpke-js and tus-js-client under Node): every
vector of docs/encryption.md, and uploads by PUT and by tus, both suites, to a live server."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.documents import document_row, empty_local_store, live_server, open_case, pdf

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "clients" / "js" / "dist" / "cli.js"
SUITES = ["X25519-SHA256-AES256GCM", "MLKEM768X25519-SHA256-AES256GCM"]

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")


@pytest.fixture(autouse=True)
def _no_objects(app):
    empty_local_store(app)


@pytest.fixture
def relative(register_relative):
    return register_relative()[2]["access_token"]


def _node(*args: str) -> dict:
    assert CLI.exists(), "make install builds the TypeScript client"
    run = subprocess.run(["node", str(CLI), *args], capture_output=True, text=True,
                         timeout=300, check=False, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_ts_client_passes_every_vector():
    checked = _node("vectors", str(ROOT / "docs" / "encryption.md"))["checked"]
    assert {"sealed-x25519", "sealed-mlkem768x25519"} <= set(checked)
    assert len([name for name in checked if name.startswith("stored-")]) == 3


@pytest.mark.parametrize("resumable", [False, True], ids=["put", "tus"])
@pytest.mark.parametrize("suite", [*SUITES, None], ids=["x25519", "xwing", "server"])
def test_ts_client_uploads(app, client, relative, tmp_path, suite, resumable):
    case_id = open_case(client, relative)
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf(2 * 1024 * 1024 + 99))
    options = ["--resumable"] if resumable else []
    if suite:
        options += ["--client-side", "--suite", suite]
    with live_server(app) as base:
        document = _node("upload", base, relative, case_id, str(path), "application/pdf",
                         *options)
    assert document["status"] == "stored"
    assert document["encryption"] == ("client" if suite else "server")
    assert document_row(document["id"]).object_key is not None
