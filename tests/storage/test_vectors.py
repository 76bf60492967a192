"""The test vectors of docs/encryption.md, read from the markdown itself."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.envelope import STORED_HEADER_SIZE, StreamHeader, decrypt_stream, encrypt_stream
from storage.hpke_suites import b64url, get_suite, open_with_private_key
from storage.sealed import read_sealed_header, seal_stream

DOC = Path(__file__).resolve().parents[2] / "docs" / "encryption.md"


def load_vectors() -> dict[str, dict[str, str]]:
    vectors = {}
    for block in re.findall(r"```text\n(vector: .*?)```", DOC.read_text(), re.S):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("  "):
                fields[key] += line.strip()
            else:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        vectors[fields["vector"]] = fields
    return vectors


VECTORS = load_vectors()
STORED = [v for name, v in VECTORS.items() if name.startswith("stored-")]
SEALED = [v for name, v in VECTORS.items() if name.startswith("sealed-")]


def test_doc_has_the_vectors():
    assert len(STORED) == 3
    assert {v["suite"] for v in SEALED} == {"X25519-SHA256-AES256GCM",
                                            "MLKEM768X25519-SHA256-AES256GCM"}


def params(v: dict[str, str]) -> tuple[bytes, uuid.UUID, bytes, int, bytes, bytes]:
    return (bytes.fromhex(v["dek"]), uuid.UUID(v["doc_id"]), bytes.fromhex(v["nonce_prefix"]),
            int(v["segment_size"]), bytes.fromhex(v["plaintext"]), bytes.fromhex(v["container"]))


@pytest.mark.parametrize("v", STORED, ids=lambda v: v["vector"])
def test_stored_vector_encrypts_byte_for_byte(v):
    dek, doc, prefix, seg, pt, container = params(v)
    out = b"".join(encrypt_stream([pt], dek, doc, segment_size=seg, nonce_prefix=prefix))
    assert out.hex() == container.hex()
    assert b"".join(decrypt_stream([container], dek, doc)) == pt


@pytest.mark.parametrize("v", STORED, ids=lambda v: v["vector"])
def test_stored_vector_matches_the_documented_construction(v):
    """Recompute every segment from the prose of the doc, without storage.envelope."""
    dek, doc, prefix, seg, pt, container = params(v)
    header = container[:STORED_HEADER_SIZE]
    assert header == b"KPS1\x01" + seg.to_bytes(4, "big") + prefix + b"\x01"
    pieces = [pt[i:i + seg] for i in range(0, len(pt), seg)]
    if not pieces or len(pieces[-1]) == seg:
        pieces.append(b"")
    expected = header + b"".join(
        AESGCM(dek).encrypt(prefix + i.to_bytes(4, "big") + bytes([i == len(pieces) - 1]),
                            piece, header[:16] + doc.bytes)
        for i, piece in enumerate(pieces))
    assert expected == container


@pytest.mark.parametrize("v", SEALED, ids=lambda v: v["vector"])
def test_sealed_vector_opens(v):
    dek, doc, prefix, seg, pt, container = params(v)
    suite = get_suite(v["suite"])
    raw_private = bytes.fromhex(v["private_key"])
    assert b64url(suite.public_bytes(raw_private)) == v["public_key"]

    header, body = read_sealed_header([container])
    assert (header.suite, header.kid) == (suite, v["kid"])
    assert header.stream == StreamHeader(seg, prefix)
    opened = open_with_private_key(suite, suite.load_private(raw_private), header.enc,
                                   header.sealed_dek, doc)
    assert opened == dek
    assert b"".join(decrypt_stream(body, dek, doc, header=header.stream)) == pt


@pytest.mark.parametrize("v", SEALED, ids=lambda v: v["vector"])
def test_sealed_vector_segments_are_deterministic(v):
    dek, doc, prefix, seg, pt, container = params(v)
    ours = b"".join(seal_stream([pt], v["public_key"], v["suite"], v["kid"], doc, dek=dek,
                                segment_size=seg, nonce_prefix=prefix))
    theirs_header, theirs_body = read_sealed_header([container])
    ours_header, ours_body = read_sealed_header([ours])
    assert b"".join(ours_body) == b"".join(theirs_body)
    assert ours_header.encode()[:24] == theirs_header.encode()[:24]
