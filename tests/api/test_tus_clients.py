"""Third-party tus clients against a real `kinpass serve`: tuspy (Python) and tus-js-client
(Node), each cut off mid-chunk by a proxy and resumed, on the local store and on S3."""
from __future__ import annotations

import hashlib
import io
import json
import secrets
import shutil
import subprocess
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.uploader import Uploader

from storage.sealed import seal_stream
from tests.support import documents as docs
from tests.support.http import free_port
from tests.support.live import declare, document, relative_token, settled_offset
from tests.support.proxy import cutting_proxy
from tests.support.s3 import FAKE_AWS_ENV
from tests.support.serving import serve_kinpass

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]
TUS_JS = ROOT / "clients" / "js" / "node_modules" / "tus-js-client"
NODE_UPLOAD = ROOT / "clients" / "js" / "tus-upload.mjs"


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@pytest.fixture(params=["local", "s3"])
def served(request, tmp_path):
    env: dict[str, str] = {}
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_server")
        bucket = f"kinpass-tus-{secrets.token_hex(4)}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket=bucket)
        env = {**FAKE_AWS_ENV, "KINPASS_STORAGE_URL": f"s3://{bucket}",
               "KINPASS_S3_ENDPOINT_URL": endpoint}
    front = free_port()  # the cutting proxy's, and so the public URL
    with serve_kinpass(tmp_path, KINPASS_PUBLIC_URL=f"http://127.0.0.1:{front}",
                       **env) as running:
        base = running[0]
        yield base, relative_token(base, tmp_path / "outbox.jsonl"), front


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def _sealed_for(base: str, doc: dict, data: bytes) -> bytes:
    key = json.loads(_get(base + "/v1/encryption-keys"))["keys"][0]
    return b"".join(seal_stream([data], key["public_key"], key["suite"], key["kid"],
                                uuid.UUID(doc["id"])))


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


@pytest.mark.parametrize("encryption", ["server", "client"])
def test_tuspy_resumes_an_upload_cut_mid_chunk(served, encryption):
    base, token, front = served
    data = docs.jpeg(10 * MiB + 12_345)
    doc = declare(base, token, data, encryption=encryption)
    body = data if encryption == "server" else _sealed_for(base, doc, data)
    headers = {"Authorization": f"Bearer {token}"}
    # cut in the middle of the fourth 1 MiB chunk (past the request's headers)
    with cutting_proxy(_port(base), cut_at=(3 * MiB + 400_000,), listen_port=front) as proxy:
        client = TusClient(doc["upload"]["tus_url"], headers=headers)
        first = Sha256Uploader(file_stream=io.BytesIO(body), client=client, chunk_size=MiB,
                               upload_checksum=False)
        with pytest.raises((TusUploadFailed, TusCommunicationError)):
            first.upload()
        assert proxy.cut_count == 1
    location = first.url.replace(proxy.url, base)
    offset = settled_offset(location, token, above=3 * MiB)  # part of the cut chunk is kept
    assert offset < 3 * MiB + 400_000
    assert document(base, token, doc["id"])["status"] == "pending_upload"
    resumed = Sha256Uploader(file_stream=io.BytesIO(body), url=location,
                             client=TusClient(base, headers=headers), chunk_size=MiB,
                             upload_checksum=True)
    assert resumed.offset == offset
    resumed.upload()
    assert resumed.offset == len(body)
    assert document(base, token, doc["id"])["status"] == "stored"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")
@pytest.mark.parametrize("encryption", ["server", "client"])
def test_tus_js_client_resumes_an_upload_cut_mid_chunk(served, tmp_path, encryption):
    assert TUS_JS.exists(), "make install installs tus-js-client"
    base, token, front = served
    data = docs.pdf(6 * MiB + 777)
    doc = declare(base, token, data, encryption=encryption, content_type="application/pdf")
    body = data if encryption == "server" else _sealed_for(base, doc, data)
    path = tmp_path / "upload.bin"
    path.write_bytes(body)
    with cutting_proxy(_port(base), cut_at=(2 * MiB + 300_000,), listen_port=front) as proxy:
        run = subprocess.run(
            ["node", str(NODE_UPLOAD), doc["upload"]["tus_url"],
             token, str(path), str(MiB)],
            capture_output=True, text=True, timeout=300, check=False,
            env={"PATH": "/usr/bin:/bin"})
        assert run.returncode == 0, run.stderr
        assert proxy.cut_count == 1
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["resumed_from"] > 0 and report["errors"] >= 1
    assert report["offset"] == len(body)
    assert document(base, token, doc["id"])["status"] == "stored"
