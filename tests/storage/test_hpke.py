"""Server HPKE keys and the client-sealed container."""
from __future__ import annotations

import base64
import json
import os
import stat
import uuid

import pytest

from storage.domain_errors import InvalidCiphertext
from storage.envelope import decrypt_stream, new_dek
from storage.hpke_keys import HpkeKeyring
from storage.hpke_suites import (
    MLKEM768_X25519_SUITE,
    SUITES,
    X25519_SUITE,
    b64url_decode,
    seal_dek,
)
from storage.keys import LocalFileKeyProvider, wrapped_kid
from storage.sealed import (
    MEDIA_TYPE,
    decrypt_sealed_stream,
    read_sealed_header,
    seal_stream,
    sealed_to_stored,
)

MiB = 1024 * 1024


@pytest.fixture
def kek(tmp_path):
    return LocalFileKeyProvider(tmp_path / "keys" / "kek.json")


@pytest.fixture
def keyring(tmp_path, kek):
    return HpkeKeyring(tmp_path / "keys" / "hpke.json", kek)


@pytest.fixture(params=list(SUITES))
def server_key(request, keyring) -> dict[str, str]:
    return next(k for k in keyring.public_keys() if k["suite"] == request.param)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


# --- keyring --------------------------------------------------------------------------

def test_keyring_file_is_private_and_holds_no_raw_private_keys(tmp_path, keyring):
    path = tmp_path / "keys" / "hpke.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert {rec["suite"] for rec in doc["keys"]} == set(SUITES)
    assert all("wrapped_private_key" in rec and "private_key" not in rec for rec in doc["keys"])


def test_public_keys_shape(keyring):
    keys = keyring.public_keys()
    assert [k["suite"] for k in keys] == [X25519_SUITE.name, MLKEM768_X25519_SUITE.name]
    for k in keys:
        assert set(k) == {"kid", "suite", "public_key"}
        assert "=" not in k["public_key"]
        assert len(b64url_decode(k["public_key"])) == SUITES[k["suite"]].public_key_size


def test_keyring_is_reloaded_not_regenerated(tmp_path, kek, keyring):
    again = HpkeKeyring(tmp_path / "keys" / "hpke.json", kek)
    assert again.public_keys() == keyring.public_keys()


def test_seal_and_open(keyring, server_key):
    dek, doc = new_dek(), uuid.uuid4()
    enc, sealed = seal_dek(server_key["public_key"], server_key["suite"], dek, doc)
    assert len(enc) == SUITES[server_key["suite"]].enc_size and len(sealed) == 48
    assert keyring.open_sealed_dek(server_key["suite"], server_key["kid"], enc, sealed, doc) == dek


def test_open_failures(keyring, server_key):
    dek, doc = new_dek(), uuid.uuid4()
    suite, kid = server_key["suite"], server_key["kid"]
    enc, sealed = seal_dek(server_key["public_key"], suite, dek, doc)
    other_suite = next(s for s in SUITES if s != suite)
    flip = lambda b: bytes([b[0] ^ 1]) + b[1:]  # noqa: E731
    bad = [
        (suite, kid, enc, sealed, uuid.uuid4()),  # another document
        (suite, "x25519-00000000", enc, sealed, doc),  # unknown kid
        (other_suite, kid, enc, sealed, doc),  # suite does not match the kid
        (suite, kid, flip(enc), sealed, doc),
        (suite, kid, enc, flip(sealed), doc),
        (suite, kid, enc[:-1], sealed, doc),
        (suite, kid, enc, sealed[:-1], doc),
    ]
    for args in bad:
        with pytest.raises(InvalidCiphertext):
            keyring.open_sealed_dek(*args)


def test_rotate_keeps_old_keys_for_opening(tmp_path, kek, keyring):
    old = keyring.public_keys()
    doc, dek = uuid.uuid4(), new_dek()
    sealed_for_old = [(k, *seal_dek(k["public_key"], k["suite"], dek, doc)) for k in old]
    new_kids = keyring.rotate()
    assert {k["kid"] for k in keyring.public_keys()} == set(new_kids)
    other_process = HpkeKeyring(tmp_path / "keys" / "hpke.json", kek)
    for k, enc, sealed in sealed_for_old:
        assert keyring.open_sealed_dek(k["suite"], k["kid"], enc, sealed, doc) == dek
        assert other_process.open_sealed_dek(k["suite"], k["kid"], enc, sealed, doc) == dek


def test_other_process_learns_rotated_keys(tmp_path, kek, keyring):
    stale = HpkeKeyring(tmp_path / "keys" / "hpke.json", kek)
    keyring.rotate()
    k = keyring.public_keys()[0]
    doc, dek = uuid.uuid4(), new_dek()
    enc, sealed = seal_dek(k["public_key"], k["suite"], dek, doc)
    assert stale.open_sealed_dek(k["suite"], k["kid"], enc, sealed, doc) == dek


def test_rewrap_private_keys_after_kek_rotation(tmp_path, kek, keyring):
    path = tmp_path / "keys" / "hpke.json"
    k = keyring.public_keys()[1]
    doc, dek = uuid.uuid4(), new_dek()
    enc, sealed = seal_dek(k["public_key"], k["suite"], dek, doc)
    new_kek = kek.rotate()
    assert keyring.rewrap() == 2
    for rec in json.loads(path.read_text())["keys"]:
        assert wrapped_kid(base64.b64decode(rec["wrapped_private_key"])) == new_kek
    fresh = HpkeKeyring(path, LocalFileKeyProvider(tmp_path / "keys" / "kek.json"))
    assert fresh.open_sealed_dek(k["suite"], k["kid"], enc, sealed, doc) == dek


# --- sealed container -----------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 3 * MiB + 5])
def test_sealed_round_trip(keyring, server_key, size):
    doc = uuid.uuid4()
    pt = os.urandom(size)
    container = b"".join(seal_stream(chunked(pt, 100_000) or [b""], server_key["public_key"],
                                     server_key["suite"], server_key["kid"], doc))
    assert MEDIA_TYPE == "application/vnd.kinpass.sealed"
    assert b"".join(decrypt_sealed_stream(chunked(container, 4093), keyring, doc)) == pt


def test_header_parses_from_tiny_chunks(keyring, server_key):
    doc = uuid.uuid4()
    container = b"".join(seal_stream([b"hello"], server_key["public_key"], server_key["suite"],
                                     server_key["kid"], doc))
    header, rest = read_sealed_header(bytes([b]) for b in container)
    assert header.kid == server_key["kid"] and header.suite.name == server_key["suite"]
    assert len(header.encode()) + len(b"".join(rest)) == len(container)


def test_sealed_to_stored(keyring, server_key):
    doc = uuid.uuid4()
    pt = os.urandom(200_000)
    container = b"".join(seal_stream([pt], server_key["public_key"], server_key["suite"],
                                     server_key["kid"], doc))
    seen: list[bytes] = []
    dek, stored = sealed_to_stored(chunked(container, 8192), keyring, doc, seen.append)
    stored_bytes = b"".join(stored)
    assert b"".join(seen) == pt
    assert stored_bytes[16] == 0x01 and len(stored_bytes) == 17 + len(container) - len(
        read_sealed_header([container])[0].encode())
    assert b"".join(decrypt_stream([stored_bytes], dek, doc)) == pt


def test_sealed_to_stored_fails_before_the_end_on_a_bad_segment(keyring, server_key):
    doc = uuid.uuid4()
    container = bytearray(b"".join(seal_stream([os.urandom(100_000)], server_key["public_key"],
                                               server_key["suite"], server_key["kid"], doc)))
    container[-5] ^= 1
    _, stored = sealed_to_stored([bytes(container)], keyring, doc, lambda _: None)
    with pytest.raises(InvalidCiphertext):
        for _ in stored:
            pass


def test_sealed_to_stored_rejects_another_documents_upload(keyring, server_key):
    container = b"".join(seal_stream([b"x"], server_key["public_key"], server_key["suite"],
                                     server_key["kid"], uuid.uuid4()))
    with pytest.raises(InvalidCiphertext):
        sealed_to_stored([container], keyring, uuid.uuid4(), lambda _: None)


@pytest.fixture
def container(server_key) -> bytes:
    return b"".join(seal_stream([b"payload" * 100], server_key["public_key"],
                                server_key["suite"], server_key["kid"], uuid.uuid4()))


@pytest.mark.parametrize("mutate", [
    lambda c: c[:10],  # truncated in the stream header
    lambda c: c[:30],  # truncated in the HPKE block
    lambda c: c[:16] + b"\x01" + c[17:],  # stored kind
    lambda c: c[:17] + b"\x00\x10" + c[19:],  # unknown KEM
    lambda c: c[:23] + b"\x00" + c[24:],  # empty kid
    lambda c: c[:24] + b"/" + c[25:],  # kid outside the alphabet
    lambda c: b"KPS2" + c[4:],
    lambda c: b"",
])
def test_malformed_sealed_headers(container, mutate):
    with pytest.raises(InvalidCiphertext):
        read_sealed_header([mutate(container)])


def test_wrong_enc_length_field(container):
    header, _ = read_sealed_header([container])
    offset = 24 + len(header.kid)
    bad = container[:offset] + b"\xff\xff" + container[offset + 2:]
    with pytest.raises(InvalidCiphertext):
        read_sealed_header([bad])


def test_xwing_private_keys_are_32_byte_seeds_expanded_with_shake256():
    import hashlib

    from storage.hpke_suites import MLKEM768_X25519_SUITE as hybrid

    _, seed = hybrid.generate()
    assert len(seed) == 32
    expanded = hashlib.shake_256(seed).digest(96)
    # keys stored before the seed form (96 expanded bytes) load to the very same key
    assert hybrid.public_bytes(seed) == hybrid.public_bytes(expanded)
    with pytest.raises(ValueError):
        hybrid.load_private(seed[:31])
