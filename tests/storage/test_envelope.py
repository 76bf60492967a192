from __future__ import annotations

import os
import random
import tracemalloc
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.domain_errors import InvalidCiphertext
from storage.envelope import (
    DEFAULT_SEGMENT_SIZE,
    STORED_HEADER_SIZE,
    TAG_SIZE,
    SegmentDecryptor,
    SegmentEncryptor,
    StreamHeader,
    decrypt_stream,
    encrypt_stream,
    new_dek,
    passthrough_verify,
    verify_stream,
)

SEG = DEFAULT_SEGMENT_SIZE
SEALED = SEG + TAG_SIZE
MiB = 1024 * 1024


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def encrypt(pt: bytes, dek: bytes, doc: uuid.UUID, **kw) -> bytes:
    return b"".join(encrypt_stream(chunked(pt, 50_000), dek, doc, **kw))


def split(ct: bytes, seg: int = SEG) -> tuple[bytes, list[bytes]]:
    body = ct[STORED_HEADER_SIZE:]
    return ct[:STORED_HEADER_SIZE], chunked(body, seg + TAG_SIZE)


def decrypt_collect(ct: bytes, dek: bytes, doc: uuid.UUID) -> tuple[bytes, Exception | None]:
    """Everything the decryptor released before it failed, and the failure."""
    out = []
    try:
        for piece in decrypt_stream(chunked(ct, 7_777), dek, doc):
            out.append(piece)
    except InvalidCiphertext as exc:
        return b"".join(out), exc
    return b"".join(out), None


@pytest.fixture
def dek() -> bytes:
    return new_dek()


@pytest.fixture
def doc() -> uuid.UUID:
    return uuid.uuid4()


@pytest.mark.parametrize("size", [0, 1, 15, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * MiB + 17])
@pytest.mark.parametrize("chunk", [1 << 20, 4096, 65_537])
def test_round_trip(size, chunk, dek, doc):
    pt = os.urandom(size)
    ct = b"".join(encrypt_stream(chunked(pt, chunk) or [b""], dek, doc))
    assert len(ct) == STORED_HEADER_SIZE + size + TAG_SIZE * (size // SEG + 1)
    assert b"".join(decrypt_stream(chunked(ct, chunk), dek, doc)) == pt
    assert verify_stream([ct], dek, doc) == size


def test_round_trip_byte_by_byte_small_segments(dek, doc):
    pt = os.urandom(1000)
    ct = b"".join(encrypt_stream([bytes([b]) for b in pt], dek, doc, segment_size=16))
    assert b"".join(decrypt_stream([bytes([b]) for b in ct], dek, doc)) == pt


def test_encryptor_buffers_less_than_a_segment(dek, doc):
    enc = SegmentEncryptor(dek, doc)
    assert len(enc.header()) == STORED_HEADER_SIZE
    assert enc.update(b"x" * (SEG - 1)) == b""
    out = enc.update(b"x" * (2 * SEG + 5))  # 3 * SEG + 4 bytes in total
    assert len(out) == 3 * SEALED  # every complete segment released at once
    assert len(enc.finalize()) == 4 + TAG_SIZE
    with pytest.raises(RuntimeError):
        enc.update(b"more")


def test_decryptor_releases_segments_as_they_are_known_not_last(dek, doc):
    ct = encrypt(os.urandom(3 * SEG), dek, doc)
    dec = SegmentDecryptor(dek, doc)
    assert dec.update(ct[:STORED_HEADER_SIZE + SEALED]) == b""  # could still be the last
    assert len(dec.update(ct[STORED_HEADER_SIZE + SEALED:STORED_HEADER_SIZE + SEALED + 1])) == SEG
    rest = dec.update(ct[STORED_HEADER_SIZE + SEALED + 1:])
    assert len(rest) == 2 * SEG
    assert dec.finalize() == b""


def test_fresh_nonce_prefix_per_document(dek, doc):
    a, b = encrypt(b"same", dek, doc), encrypt(b"same", dek, doc)
    assert a[9:16] != b[9:16]
    assert a != b


def test_full_final_segment_from_another_encoder_is_accepted(dek, doc):
    """Tink-style encoders end a multiple-of-segment plaintext with a full last segment."""
    header = StreamHeader(16, os.urandom(7))
    aad = header.core() + doc.bytes
    aead = AESGCM(dek)
    pt = os.urandom(32)
    ct = header.encode() + aead.encrypt(header.nonce_prefix + bytes(4) + b"\0", pt[:16], aad) \
        + aead.encrypt(header.nonce_prefix + (1).to_bytes(4, "big") + b"\1", pt[16:], aad)
    assert b"".join(decrypt_stream([ct], dek, doc)) == pt


# --- tampering -------------------------------------------------------------------------

PT = bytes(random.Random(7).randbytes(3 * SEG + 1000))  # segments 0, 1, 2 full; 3 short


@pytest.fixture
def ct(dek, doc) -> bytes:
    return encrypt(PT, dek, doc)


def assert_fails_releasing_at_most(ct: bytes, dek, doc, good_segments: int) -> None:
    released, exc = decrypt_collect(ct, dek, doc)
    assert isinstance(exc, InvalidCiphertext)
    assert released == PT[:len(released)]
    assert len(released) <= good_segments * SEG
    with pytest.raises(InvalidCiphertext):
        verify_stream([ct], dek, doc)


@pytest.mark.parametrize("segment", [0, 1, 3])
@pytest.mark.parametrize("where", [0, 100, -1])  # first byte, inside, last tag byte
def test_bit_flip(ct, dek, doc, segment, where):
    header, segs = split(ct)
    target = bytearray(segs[segment])
    target[where] ^= 0x01
    segs[segment] = bytes(target)
    assert_fails_releasing_at_most(header + b"".join(segs), dek, doc, segment)


@pytest.mark.parametrize("offset", range(STORED_HEADER_SIZE))
def test_header_bit_flip(ct, dek, doc, offset):
    tampered = bytearray(ct)
    tampered[offset] ^= 0x80
    assert_fails_releasing_at_most(bytes(tampered), dek, doc, 0)


@pytest.mark.parametrize("cut", [1, TAG_SIZE, 500, SEALED + 3])
def test_truncated(ct, dek, doc, cut):
    assert_fails_releasing_at_most(ct[:-cut], dek, doc, 3 if cut < 1016 else 2)


@pytest.mark.parametrize("length", [0, 5, STORED_HEADER_SIZE, STORED_HEADER_SIZE + 15])
def test_truncated_to_nothing(ct, dek, doc, length):
    assert_fails_releasing_at_most(ct[:length], dek, doc, 0)


def test_drop_last_segment(ct, dek, doc):
    header, segs = split(ct)
    assert_fails_releasing_at_most(header + b"".join(segs[:-1]), dek, doc, 2)


def test_truncated_at_every_segment_boundary(ct, dek, doc):
    header, segs = split(ct)
    for n in range(len(segs)):
        assert_fails_releasing_at_most(header + b"".join(segs[:n]), dek, doc, max(n - 1, 0))


def test_swap_two_segments(ct, dek, doc):
    header, segs = split(ct)
    segs[1], segs[2] = segs[2], segs[1]
    assert_fails_releasing_at_most(header + b"".join(segs), dek, doc, 1)


def test_duplicate_segment(ct, dek, doc):
    header, segs = split(ct)
    assert_fails_releasing_at_most(header + b"".join(segs[:2] + segs[1:]), dek, doc, 2)


def test_splice_from_another_document_with_same_dek_and_prefix(ct, dek, doc):
    prefix = ct[9:16]
    other = encrypt(PT, dek, uuid.uuid4(), nonce_prefix=prefix)
    header, segs = split(ct)
    _, other_segs = split(other)
    assert other_segs[1] != segs[1]
    segs[1] = other_segs[1]
    assert_fails_releasing_at_most(header + b"".join(segs), dek, doc, 1)


def test_wrong_document_id(ct, dek):
    assert_fails_releasing_at_most(ct, dek, uuid.uuid4(), 0)


def test_wrong_dek(ct, doc):
    assert_fails_releasing_at_most(ct, new_dek(), doc, 0)


@pytest.mark.parametrize("extra", [b"\0", b"\x5a" * TAG_SIZE, b"\x5a" * (SEALED + 1)],
                         ids=["1-byte", "tag-sized", "segment-sized"])
def test_trailing_bytes(ct, dek, doc, extra):
    assert_fails_releasing_at_most(ct + extra, dek, doc, 3)


def test_decryptor_stays_failed(ct, dek, doc):
    dec = SegmentDecryptor(dek, uuid.uuid4())
    with pytest.raises(InvalidCiphertext):
        dec.update(ct)
    with pytest.raises(InvalidCiphertext):
        dec.update(b"")
    with pytest.raises(InvalidCiphertext):
        dec.finalize()


def test_sealed_kind_is_not_a_stored_container(ct, dek, doc):
    assert_fails_releasing_at_most(ct[:16] + b"\x02" + ct[17:], dek, doc, 0)


def test_oversized_segment_size_is_refused_before_buffering(dek, doc):
    header = bytearray(encrypt(b"", dek, doc))
    header[5:9] = (64 * MiB).to_bytes(4, "big")
    with pytest.raises(InvalidCiphertext):
        SegmentDecryptor(dek, doc).update(bytes(header))


def test_bad_arguments(doc):
    with pytest.raises(ValueError):
        SegmentEncryptor(b"short", doc)
    with pytest.raises(TypeError):
        SegmentEncryptor(new_dek(), "not-a-uuid")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SegmentEncryptor(new_dek(), doc, segment_size=8)
    with pytest.raises(ValueError):
        SegmentEncryptor(new_dek(), doc, nonce_prefix=b"123")


# --- passthrough ----------------------------------------------------------------------

def test_passthrough_yields_ciphertext_and_feeds_plaintext(ct, dek, doc):
    seen = []
    out = b"".join(passthrough_verify(chunked(ct, 10_000), SegmentDecryptor(dek, doc),
                                      seen.append))
    assert out == ct
    assert b"".join(seen) == PT


def test_passthrough_raises_before_the_end_on_a_bad_last_segment(ct, dek, doc):
    tampered = ct[:-1] + bytes([ct[-1] ^ 1])
    chunks = chunked(tampered, 10_000)
    it = passthrough_verify(chunks, SegmentDecryptor(dek, doc), lambda _: None)
    for _ in chunks:
        next(it)  # every chunk passes through ...
    with pytest.raises(InvalidCiphertext):
        next(it)  # ... but the iterator fails instead of ending


def test_memory_stays_flat(dek, doc):
    """20 MiB through encryption and decryption with well under 1 MiB allocated at peak."""
    block = os.urandom(64 * 1024)

    def source():
        for _ in range(320):
            yield block

    tracemalloc.start()
    try:
        total = sum(len(p) for p in decrypt_stream(encrypt_stream(source(), dek, doc), dek, doc))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 20 * MiB
    assert peak < MiB
