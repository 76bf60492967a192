from __future__ import annotations

import base64
import json
import os
import stat
import threading
import time
import uuid

import pytest

from storage.domain_errors import InvalidCiphertext, StorageUnavailable
from storage.envelope import new_dek
from storage.keys import (
    EnvKeyProvider,
    KmsKeyProvider,
    LocalFileKeyProvider,
    kms_client,
    load_or_create_secret,
    open_key_provider,
    wrapped_kid,
)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def b64key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


CTX = uuid.uuid4().bytes


# --- secret files ---------------------------------------------------------------------

def test_secret_created_0600_and_stable(tmp_path):
    path = tmp_path / "sub" / "jwt.key"
    first = load_or_create_secret(path, 64)
    assert len(first) == 64
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert load_or_create_secret(path, 64) == first
    assert [p.name for p in path.parent.iterdir()] == ["jwt.key"]  # no temp files left


def test_secret_concurrent_creators_agree(tmp_path):
    path = tmp_path / "race.key"
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(load_or_create_secret(path, 32)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 8


def test_secret_refuses_group_readable_file(tmp_path):
    path = tmp_path / "loose.key"
    path.write_bytes(os.urandom(32))
    path.chmod(0o640)
    with pytest.raises(PermissionError):
        load_or_create_secret(path, 32)


def test_secret_wrong_length(tmp_path):
    path = tmp_path / "short.key"
    load_or_create_secret(path, 16)
    with pytest.raises(ValueError):
        load_or_create_secret(path, 32)


# --- local keyring --------------------------------------------------------------------

def test_local_provider_creates_private_keyring(tmp_path):
    path = tmp_path / "keys" / "kek.json"
    provider = LocalFileKeyProvider(path)
    assert provider.development is True
    assert mode(path) == 0o600
    doc = json.loads(path.read_text())
    assert doc["active"] == provider.active_kid
    assert len(base64.b64decode(doc["keys"][provider.active_kid])) == 32
    assert LocalFileKeyProvider(path).active_kid == provider.active_kid


def test_local_wrap_unwrap(tmp_path):
    provider = LocalFileKeyProvider(tmp_path / "kek.json")
    dek = new_dek()
    wrapped = provider.wrap(dek, CTX)
    assert dek not in wrapped
    assert wrapped_kid(wrapped) == provider.active_kid
    assert provider.unwrap(wrapped, CTX) == dek
    assert provider.wrap(dek, CTX) != wrapped  # random nonce


def test_local_unwrap_rejects_wrong_context_and_tampering(tmp_path):
    provider = LocalFileKeyProvider(tmp_path / "kek.json")
    wrapped = provider.wrap(new_dek(), CTX)
    with pytest.raises(InvalidCiphertext):
        provider.unwrap(wrapped, uuid.uuid4().bytes)
    for i in (0, 1, 5, len(wrapped) // 2, len(wrapped) - 1):
        tampered = bytearray(wrapped)
        tampered[i] ^= 1
        with pytest.raises((InvalidCiphertext, StorageUnavailable)):
            provider.unwrap(bytes(tampered), CTX)
    for bad in (b"", b"\x01", wrapped[:20]):
        with pytest.raises(InvalidCiphertext):
            provider.unwrap(bad, CTX)


def test_local_rotate_and_rewrap(tmp_path):
    path = tmp_path / "kek.json"
    provider = LocalFileKeyProvider(path)
    old_kid = provider.active_kid
    dek = new_dek()
    wrapped = provider.wrap(dek, CTX)
    new_kid = provider.rotate()
    assert new_kid != old_kid and provider.active_kid == new_kid
    assert mode(path) == 0o600
    assert set(json.loads(path.read_text())["keys"]) == {old_kid, new_kid}
    assert provider.unwrap(wrapped, CTX) == dek
    rewrapped = provider.rewrap(wrapped, CTX)
    assert wrapped_kid(rewrapped) == new_kid
    assert provider.unwrap(rewrapped, CTX) == dek


def test_local_rotation_seen_by_other_processes(tmp_path):
    path = tmp_path / "kek.json"
    worker_a, worker_b = LocalFileKeyProvider(path), LocalFileKeyProvider(path)
    time.sleep(0.01)
    new_kid = worker_a.rotate()
    wrapped = worker_a.wrap(new_dek(), CTX)
    assert worker_b.unwrap(wrapped, CTX)  # learns the new kid from the file
    assert wrapped_kid(worker_b.wrap(new_dek(), CTX)) == new_kid


def test_local_refuses_world_readable_keyring(tmp_path):
    path = tmp_path / "kek.json"
    LocalFileKeyProvider(path)
    path.chmod(0o644)
    with pytest.raises(PermissionError):
        LocalFileKeyProvider(path)


def test_unknown_kid_is_unavailable_not_garbage(tmp_path):
    local = LocalFileKeyProvider(tmp_path / "kek.json")
    env = EnvKeyProvider(b64key())
    with pytest.raises(StorageUnavailable):
        local.unwrap(env.wrap(new_dek(), CTX), CTX)


# --- environment ----------------------------------------------------------------------

def test_env_single_key_has_stable_kid():
    value = b64key()
    a, b = EnvKeyProvider(value), EnvKeyProvider(value)
    assert a.active_kid == b.active_kid and a.active_kid.startswith("env-")
    assert a.development is False
    dek = new_dek()
    assert b.unwrap(a.wrap(dek, CTX), CTX) == dek


def test_env_keyring_first_is_active_and_old_keys_unwrap():
    old, new = b64key(), b64key()
    before = EnvKeyProvider(f"k1:{old}")
    wrapped = before.wrap(b"secret", CTX)
    after = EnvKeyProvider(f"k2:{new}, k1:{old}")
    assert after.active_kid == "k2"
    assert after.unwrap(wrapped, CTX) == b"secret"
    assert wrapped_kid(after.rewrap(wrapped, CTX)) == "k2"


def test_env_accepts_urlsafe_base64_without_padding():
    key = os.urandom(32)
    provider = EnvKeyProvider(base64.urlsafe_b64encode(key).decode().rstrip("="))
    assert provider.unwrap(provider.wrap(b"x", CTX), CTX) == b"x"


@pytest.mark.parametrize("value", ["", "not base64!", base64.b64encode(b"short").decode(),
                                   "a:" + base64.b64encode(bytes(32)).decode() + ",a:"
                                   + base64.b64encode(bytes(range(32))).decode()],
                         ids=["empty", "not-base64", "short", "duplicate-kid"])
def test_env_rejects_bad_values(value):
    with pytest.raises(ValueError):
        EnvKeyProvider(value)


# --- KMS (moto server, real boto3 calls) ----------------------------------------------

@pytest.fixture
def kms(s3_server):
    return kms_client(s3_server, "us-east-1")


@pytest.fixture
def kms_key(kms) -> str:
    return kms.create_key(Description="kinpass test KEK")["KeyMetadata"]["KeyId"]


def test_kms_wrap_unwrap(kms, kms_key):
    provider = KmsKeyProvider(kms_key, kms)
    provider.check()
    dek = new_dek()
    wrapped = provider.wrap(dek, CTX)
    assert dek not in wrapped
    assert kms_key in wrapped_kid(wrapped)
    assert provider.unwrap(wrapped, CTX) == dek


def test_kms_context_is_enforced(kms, kms_key):
    provider = KmsKeyProvider(kms_key, kms)
    wrapped = provider.wrap(new_dek(), CTX)
    with pytest.raises(InvalidCiphertext):
        provider.unwrap(wrapped, uuid.uuid4().bytes)


def test_kms_rewrap_to_a_new_key(kms, kms_key):
    old = KmsKeyProvider(kms_key, kms)
    dek = new_dek()
    wrapped = old.wrap(dek, CTX)
    new_key = kms.create_key()["KeyMetadata"]["KeyId"]
    new = KmsKeyProvider(new_key, kms)
    rewrapped = new.rewrap(wrapped, CTX)
    assert new_key in wrapped_kid(rewrapped)
    assert new.unwrap(rewrapped, CTX) == dek


def test_kms_disabled_key_fails_check(kms, kms_key):
    kms.disable_key(KeyId=kms_key)
    with pytest.raises(StorageUnavailable):
        KmsKeyProvider(kms_key, kms).check()


def test_kms_unreachable_is_storage_unavailable_quickly(closed_port_url, s3_server):
    provider = KmsKeyProvider("alias/kinpass", kms_client(closed_port_url, "us-east-1",
                                                          connect_timeout=1, read_timeout=1))
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        provider.wrap(new_dek(), CTX)
    with pytest.raises(StorageUnavailable):
        provider.check()
    assert time.monotonic() - started < 20


def test_open_key_provider(tmp_path, s3_server, kms_key):
    local = open_key_provider(tmp_path, None, None, None)
    assert isinstance(local, LocalFileKeyProvider)
    assert local.path == tmp_path / "keys" / "kek.json"
    assert isinstance(open_key_provider(tmp_path, b64key(), None, None), EnvKeyProvider)
    kms = open_key_provider(tmp_path, None, kms_key, s3_server)
    assert isinstance(kms, KmsKeyProvider)
    assert kms.unwrap(kms.wrap(b"k", CTX), CTX) == b"k"
    with pytest.raises(ValueError):
        open_key_provider(tmp_path, b64key(), kms_key, s3_server)


def test_kms_client_uses_standard_retries_and_timeouts(s3_server):
    client = kms_client(s3_server, "us-east-1", connect_timeout=2, read_timeout=4)
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (2, 4)
    assert client.meta.service_model.service_name == "kms"
