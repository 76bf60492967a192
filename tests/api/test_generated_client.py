"""A client generated from the served /openapi.json drives a relative's whole flow against a
live `kinpass serve`: the document is good enough for a client generator to trust."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.accounts import outbox_messages
from tests.support.cases import CASE_BODY
from tests.support.serving import serve_kinpass

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "kinpass_client"
# Binary bodies are sent and read as plain bytes.
CONFIG = f"""post_hooks: []
project_name_override: {PACKAGE}
package_name_override: {PACKAGE}
content_type_overrides:
""" + "".join(f"  {t}: application/octet-stream\n" for t in (
    "image/jpeg", "image/png", "image/svg+xml", "application/pdf",
    "application/vnd.kinpass.sealed", "application/x-ndjson", "text/csv"))
PASSWORD = "Kyiv-Reunion-2026"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _generate(base: str, tmp_path: Path) -> Path:
    with urllib.request.urlopen(base + "/openapi.json", timeout=10) as r:
        (tmp_path / "openapi.json").write_bytes(r.read())
    (tmp_path / "config.yaml").write_text(CONFIG)
    out = tmp_path / "generated"
    run = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(tmp_path / "openapi.json"),
         "--config", str(tmp_path / "config.yaml"), "--meta", "none",
         "--output-path", str(out / PACKAGE)], capture_output=True, text=True, timeout=300,
        check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout, run.stdout  # every operation was generated
    return out


def _code(outbox: Path, login: str) -> str:
    """The verification code the notifier wrote (delivery follows the commit)."""
    for _ in range(200):
        messages = outbox_messages(outbox, login) if outbox.exists() else []
        if messages:
            return messages[-1]["code"]
        time.sleep(0.1)
    raise AssertionError("no code was sent")


@pytest.fixture
def generated(tmp_path):
    with serve_kinpass(tmp_path) as (base, *_):
        sys.path.insert(0, str(_generate(base, tmp_path)))
        try:
            yield base, tmp_path / "outbox.jsonl", importlib.import_module(PACKAGE)
        finally:
            sys.path.pop(0)
            for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
                del sys.modules[name]


def test_a_generated_client_drives_a_whole_flow(generated):
    base, outbox, client_package = generated
    models = importlib.import_module(f"{PACKAGE}.models")
    api = f"{PACKAGE}.api"
    accounts = {name: importlib.import_module(f"{api}.accounts.{name}")
                for name in ("post_v1_auth_register", "post_v1_auth_verify",
                             "post_v1_auth_login", "get_v1_me")}
    cases = importlib.import_module(f"{api}.cases.post_v1_cases")
    read_case = importlib.import_module(f"{api}.cases.get_v1_cases_case_id")
    declare = importlib.import_module(f"{api}.documents.post_v1_cases_case_id_documents")
    read_document = importlib.import_module(f"{api}.documents.get_v1_documents_document_id")

    anonymous = client_package.Client(base_url=base, raise_on_unexpected_status=True)
    login = "maria.generated@example.org"
    r = accounts["post_v1_auth_register"].sync_detailed(
        client=anonymous, body=models.RegisterIn.from_dict(
            {"email": login, "password": PASSWORD, "full_name": "Мария Иванова"}))
    assert r.status_code == 202 and r.parsed.status.value == "verification_sent"

    r = accounts["post_v1_auth_verify"].sync_detailed(
        client=anonymous, body=models.VerifyIn(login=login, code=_code(outbox, login)))
    assert r.status_code == 200 and r.parsed.status.value == "active"

    wrong = accounts["post_v1_auth_login"].sync_detailed(
        client=anonymous, body=models.LoginIn(login=login, password="not-the-password"),
        accept_language="uk")
    assert wrong.status_code == 401 and isinstance(wrong.parsed, models.Problem)
    assert wrong.parsed.code.value == "invalid_credentials" and wrong.parsed.title

    tokens = accounts["post_v1_auth_login"].sync(
        client=anonymous, body=models.LoginIn(login=login, password=PASSWORD))
    assert isinstance(tokens, models.TokenPairOut) and tokens.expires_in == 900
    relative = client_package.AuthenticatedClient(
        base_url=base, token=tokens.access_token, raise_on_unexpected_status=True)
    me = accounts["get_v1_me"].sync(client=relative)
    assert me.email == login and [role.value for role in me.roles] == ["relative"]

    case = cases.sync(client=relative, body=models.CaseIn.from_dict(CASE_BODY),
                      idempotency_key="generated-client-case-1")
    assert isinstance(case, models.CaseOut) and case.status.value == "draft"
    replay = cases.sync(client=relative, body=models.CaseIn.from_dict(CASE_BODY),
                        idempotency_key="generated-client-case-1")
    assert replay.id == case.id  # the retry is replayed, not a second case

    created = declare.sync(case.id, client=relative, body=models.DocumentIn.from_dict(
        {"kind": "passport", "content_type": "image/jpeg", "size": 1234, "sha256": SHA}))
    assert isinstance(created, models.DocumentCreatedOut)
    assert created.status.value == "pending_upload" and created.upload.method.value == "PUT"
    assert created.upload.url.endswith(f"/v1/documents/{created.id}/content")

    document = read_document.sync(created.id, client=relative)
    assert isinstance(document, models.DocumentOut)
    assert (document.id, document.kind.value, document.size) == (created.id, "passport", 1234)
    assert document.status.value == "pending_upload"
    again = read_case.sync(case.id, client=relative)
    assert [d.id for d in again.documents] == [created.id]
    # declared, not yet stored: still missing
    assert [k.value for k in again.missing_documents] == ["passport", "birth_certificate"]

    stranger = client_package.AuthenticatedClient(base_url=base, token="not-a-token")
    refused = read_document.sync_detailed(created.id, client=stranger)
    assert refused.status_code == 401 and refused.parsed.code.value == "unauthorized"
    assert json.loads(refused.content)["status"] == 401
