"""The reference client's tus uploads (`kinpass upload --resumable`) over a link that drops
every 1.5 MiB: every chunk cut short is resumed from the server's offset."""
from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from api.cli import main
from clients.reference import Client
from tests.support.documents import document_row, empty_local_store, jpeg, live_server, open_case
from tests.support.http import free_port
from tests.support.proxy import cutting_proxy

MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def _no_objects(app):
    empty_local_store(app)


@pytest.fixture
def relative(register_relative):
    return register_relative()[2]["access_token"]


@pytest.mark.parametrize("client_side", [False, True])
def test_reference_client_resumes_through_dropped_connections(app, client, relative,
                                                              tmp_path, client_side):
    case_id = open_case(client, relative)
    path = tmp_path / "passport.jpg"
    data = jpeg(5 * MiB + 4321)
    path.write_bytes(data)
    front = free_port()
    with live_server(app, public_url=f"http://127.0.0.1:{front}") as base:
        port = int(base.rsplit(":", 1)[1])
        with cutting_proxy(port, cut_every=3 * MiB // 2, listen_port=front) as proxy:
            document = Client(proxy.url, relative).upload(
                path, case_id=case_id, kind="passport", client_side=client_side,
                resumable=True)
    assert proxy.cut_count >= 3
    assert document["status"] == "stored" and document["size"] == len(data)
    assert document_row(document["id"]).object_key is not None
    assert proxy.received < 1.5 * len(data)  # resumed, not restarted


def test_kinpass_upload_resumable(app, client, relative, tmp_path, monkeypatch):
    case_id = open_case(client, relative)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(b"%PDF-1.4\n" + os.urandom(2 * MiB + 5))
    with live_server(app) as base:
        monkeypatch.setenv("KINPASS_TOKEN", relative)
        result = CliRunner().invoke(main, ["upload", str(path), "--case", case_id,
                                           "--kind", "birth_certificate", "--url", base,
                                           "--client-side", "--resumable"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "stored"
