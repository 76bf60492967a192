"""ObjectStore contract, run against local files and against S3 (moto server, real boto3)."""
from __future__ import annotations

import os
import re
import stat
import time
import uuid
from pathlib import Path

import pytest

from storage.domain_errors import StorageUnavailable
from storage.envelope import encrypt_stream, new_dek
from storage.object_store import (
    LocalObjectStore,
    ObjectMissing,
    S3ObjectStore,
    open_object_store,
)

MiB = 1024 * 1024


class Boom(Exception):
    pass


def chunks_of(data: bytes, size: int = 256 * 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def failing_after(data: bytes):
    yield from chunks_of(data)
    raise Boom("upstream check failed")


@pytest.mark.parametrize("size", [0, 1, 100_000, 6 * MiB + 3, 11 * MiB])
def test_put_and_read_back(store, size):
    data = os.urandom(size)
    key = store.new_key()
    assert store.put_stream(key, chunks_of(data)) == size
    assert store.exists(key)
    assert b"".join(store.open_stream(key)) == data


def test_new_keys_are_random_and_carry_no_data(store):
    keys = {store.new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(re.fullmatch(r"docs/[0-9a-f]{32}", k) for k in keys)


def test_missing_object(store):
    key = store.new_key()
    assert not store.exists(key)
    with pytest.raises(ObjectMissing):
        store.open_stream(key)  # raised at the call, before anything is streamed


def test_delete_is_idempotent(store):
    key = store.new_key()
    store.put_stream(key, [b"ciphertext"])
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)
    with pytest.raises(ObjectMissing):
        store.open_stream(key)


def test_overwrite_replaces(store):
    key = store.new_key()
    store.put_stream(key, [b"first"])
    store.put_stream(key, [b"second"])
    assert b"".join(store.open_stream(key)) == b"second"


def test_iter_keys(store):
    docs = {store.new_key() for _ in range(3)}
    for key in docs:
        store.put_stream(key, [b"x"])
    store.put_stream("other/abc", [b"y"])
    assert set(store.iter_keys("docs/")) == docs
    assert set(store.iter_keys()) == docs | {"other/abc"}


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "docs/../x", "", "docs/",
                                 "Docs/UPPER", "docs/a b", "docs/x\x00"])
def test_rejects_unsafe_keys(store, key):
    with pytest.raises(ValueError):
        store.put_stream(key, [b"x"])


def test_check(store):
    store.check()


@pytest.mark.parametrize("size", [100, 6 * MiB])
def test_failed_stream_leaves_nothing(store, size):
    key = store.new_key()
    with pytest.raises(Boom):
        store.put_stream(key, failing_after(os.urandom(size)))
    assert not store.exists(key)
    assert list(store.iter_keys()) == []


def test_failed_stream_does_not_clobber_existing_object(store):
    key = store.new_key()
    store.put_stream(key, [b"good"])
    with pytest.raises(Boom):
        store.put_stream(key, failing_after(os.urandom(6 * MiB)))
    assert b"".join(store.open_stream(key)) == b"good"


def test_stored_ciphertext_contains_no_plaintext(store, tmp_path):
    marker = b"PASSPORT-IVANOVA-MARIA-4509-123456-"
    plaintext = marker * 30_000  # about 1 MiB, every segment full of the marker
    key = store.new_key()
    store.put_stream(key, encrypt_stream(chunks_of(plaintext), new_dek(), uuid.uuid4()))
    for k in store.iter_keys():
        stored = b"".join(store.open_stream(k))
        assert marker[:12] not in stored and b"IVANOVA" not in stored
    if isinstance(store, LocalObjectStore):  # and nothing else under the root either
        for path in store.root.rglob("*"):
            if path.is_file():
                assert b"IVANOVA" not in path.read_bytes()


# --- local specifics ------------------------------------------------------------------

def test_local_files_are_private_and_temp_files_cleaned(tmp_path):
    store = LocalObjectStore(tmp_path / "objects")
    key = store.new_key()
    store.put_stream(key, [b"data"])
    assert stat.S_IMODE(os.stat(store.root / key).st_mode) == 0o600
    with pytest.raises(Boom):
        store.put_stream(store.new_key(), failing_after(b"partial"))
    assert list((store.root / ".tmp").iterdir()) == []


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o000])
def test_local_directories_are_created_0700_whatever_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        store = open_object_store("file://", tmp_path / "data", None)
        key = store.new_key()
        store.put_stream(key, [b"data"])
    finally:
        os.umask(previous)
    modes = {str(path.relative_to(tmp_path)): stat.S_IMODE(path.stat().st_mode)
             for path in (store.root, store.root / ".tmp", (store.root / key).parent)}
    assert modes == {"data/objects": 0o700, "data/objects/.tmp": 0o700,
                     "data/objects/docs": 0o700}, {k: oct(v) for k, v in modes.items()}
    assert stat.S_IMODE((store.root / key).stat().st_mode) == 0o600


def test_local_broken_root_fails_check(tmp_path):
    store = LocalObjectStore(tmp_path / "objects")
    (store.root / ".tmp").rmdir()
    (store.root / ".tmp").write_bytes(b"")  # not a directory: no write can succeed, even as root
    with pytest.raises(StorageUnavailable):
        store.check()
    with pytest.raises(StorageUnavailable):
        store.put_stream(store.new_key(), [b"x"])


# --- S3 specifics ---------------------------------------------------------------------

def test_s3_aborted_multipart_leaves_no_upload(s3_server, s3_bucket, s3_client):
    store = S3ObjectStore(s3_bucket, endpoint_url=s3_server, part_size=5 * MiB)
    with pytest.raises(Boom):
        store.put_stream(store.new_key(), failing_after(os.urandom(12 * MiB)))
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert s3_client.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0


def test_s3_multipart_is_used_for_large_streams(s3_server, s3_bucket, s3_client):
    store = S3ObjectStore(s3_bucket, endpoint_url=s3_server, part_size=5 * MiB)
    key = store.new_key()
    store.put_stream(key, chunks_of(os.urandom(11 * MiB)))
    etag = s3_client.head_object(Bucket=s3_bucket, Key=key)["ETag"]
    assert etag.strip('"').endswith("-3")  # three parts


def test_s3_objects_carry_no_metadata(s3_server, s3_bucket, s3_client):
    store = S3ObjectStore(s3_bucket, endpoint_url=s3_server)
    key = store.new_key()
    store.put_stream(key, [b"ciphertext"])
    head = s3_client.head_object(Bucket=s3_bucket, Key=key)
    assert head["Metadata"] == {}
    assert head["ContentType"] == "application/octet-stream"


def test_s3_client_configuration(s3_server, s3_bucket):
    store = S3ObjectStore(s3_bucket, endpoint_url=s3_server, connect_timeout=2, read_timeout=5)
    config = store._s3.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}  # 1 try + 2 retries
    assert (config.connect_timeout, config.read_timeout) == (2, 5)


def test_s3_missing_bucket_is_unavailable(s3_server):
    store = S3ObjectStore("no-such-bucket-kinpass", endpoint_url=s3_server)
    with pytest.raises(StorageUnavailable):
        store.check()
    with pytest.raises(StorageUnavailable):
        store.put_stream(store.new_key(), [b"x"])


def test_s3_unreachable_is_unavailable_within_bounded_time(s3_server, closed_port_url):
    store = S3ObjectStore("kinpass", endpoint_url=closed_port_url, connect_timeout=1,
                          read_timeout=1)
    started = time.monotonic()
    for call in (store.check, lambda: store.exists("docs/abc"),
                 lambda: store.open_stream("docs/abc"),
                 lambda: store.put_stream("docs/abc", [b"x"]),
                 lambda: store.put_stream("docs/abc", chunks_of(os.urandom(6 * MiB))),
                 lambda: store.delete("docs/abc"), lambda: list(store.iter_keys())):
        with pytest.raises(StorageUnavailable):
            call()
    assert time.monotonic() - started < 30


# --- factory --------------------------------------------------------------------------

def test_open_object_store_file_default(tmp_path):
    store = open_object_store("file://", tmp_path, None)
    assert isinstance(store, LocalObjectStore)
    assert store.root == (tmp_path / "objects").resolve()


def test_open_object_store_file_absolute(tmp_path):
    store = open_object_store(f"file://{tmp_path}/elsewhere", "/unused", None)
    assert isinstance(store, LocalObjectStore)
    assert store.root == Path(tmp_path / "elsewhere").resolve()


def test_open_object_store_s3(s3_server, s3_bucket):
    store = open_object_store(f"s3://{s3_bucket}", "/unused", s3_server)
    assert isinstance(store, S3ObjectStore)
    key = store.new_key()
    store.put_stream(key, [b"abc"])
    assert b"".join(store.open_stream(key)) == b"abc"


@pytest.mark.parametrize("url", ["http://x", "s3://", "s3://bucket/prefix", "file://host/x",
                                 "ftp://x", "file:///x?y=1"])
def test_open_object_store_rejects(tmp_path, url):
    with pytest.raises(ValueError):
        open_object_store(url, tmp_path, None)
