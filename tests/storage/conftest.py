"""Storage fixtures: every object-store test runs on the local store and on S3 (moto server
mode on loopback, the ``s3_server`` fixture of tests/conftest.py)."""
from __future__ import annotations

import pytest

from storage.object_store import LocalObjectStore, S3ObjectStore


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    bucket = request.getfixturevalue("s3_bucket")
    endpoint = request.getfixturevalue("s3_server")
    return S3ObjectStore(bucket, endpoint_url=endpoint, part_size=5 * 1024 * 1024)
