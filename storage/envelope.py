"""Streaming envelope encryption: the KPS1 segment format (see docs/encryption.md).

A document is sealed under its own random 256-bit data key (DEK). The plaintext is cut
into segments of ``segment_size`` bytes, each sealed with AES-256-GCM:

    nonce = nonce_prefix (7) || segment counter (4, big endian) || last flag (1: 0x00 / 0x01)
    aad   = container bytes 0..15 (magic, version, segment size, nonce prefix) || doc id (16)

Every segment but the last holds exactly ``segment_size`` plaintext bytes; the last one
holds 0..segment_size-1 (an encoder never writes a full last segment, a decoder accepts
one). The counter and flag in the nonce make reordering and truncation fail, the doc id in
the AAD makes splicing between documents fail, and the tag catches every changed byte.
"""
from __future__ import annotations

import os
import struct
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.domain_errors import InvalidCiphertext
from storage.vocabulary import CiphertextFault as Fault

MAGIC = b"KPS1"
VERSION = 1
KIND_STORED = 0x01
KIND_SEALED = 0x02

DEK_SIZE = 32
TAG_SIZE = 16
NONCE_PREFIX_SIZE = 7
DEFAULT_SEGMENT_SIZE = 64 * 1024
MIN_SEGMENT_SIZE = 16
MAX_SEGMENT_SIZE = 1024 * 1024
MAX_SEGMENTS = 2**32

CORE_HEADER_SIZE = 16  # magic, version, segment size, nonce prefix: bound into every AAD
STORED_HEADER_SIZE = CORE_HEADER_SIZE + 1  # ... plus the kind byte

_CORE = struct.Struct(">4sBI7s")


def new_dek() -> bytes:
    return os.urandom(DEK_SIZE)


def doc_id_bytes(doc_id: uuid.UUID | bytes) -> bytes:
    """The 16 raw bytes of a document id (RFC 4122 byte order)."""
    if isinstance(doc_id, uuid.UUID):
        return doc_id.bytes
    if isinstance(doc_id, bytes | bytearray) and len(doc_id) == 16:
        return bytes(doc_id)
    raise TypeError("doc_id must be a uuid.UUID or 16 bytes")


@dataclass(frozen=True)
class StreamHeader:
    """The stream parameters every KPS1 container starts with."""

    segment_size: int
    nonce_prefix: bytes

    def __post_init__(self) -> None:
        if not MIN_SEGMENT_SIZE <= self.segment_size <= MAX_SEGMENT_SIZE:
            raise ValueError("segment size out of range")
        if len(self.nonce_prefix) != NONCE_PREFIX_SIZE:
            raise ValueError("nonce prefix must be 7 bytes")

    @classmethod
    def generate(cls, segment_size: int = DEFAULT_SEGMENT_SIZE) -> StreamHeader:
        return cls(segment_size, os.urandom(NONCE_PREFIX_SIZE))

    def core(self) -> bytes:
        return _CORE.pack(MAGIC, VERSION, self.segment_size, self.nonce_prefix)

    def encode(self, kind: int = KIND_STORED) -> bytes:
        """Header of a stored container (or the first 17 bytes of a sealed one)."""
        return self.core() + bytes([kind])

    @classmethod
    def decode_core(cls, data: bytes) -> StreamHeader:
        """Parse bytes 0..15; raises InvalidCiphertext on anything unexpected."""
        if len(data) < CORE_HEADER_SIZE:
            raise InvalidCiphertext("truncated header", reason=Fault.TRUNCATED)
        magic, version, segment_size, prefix = _CORE.unpack_from(data)
        if magic != MAGIC:
            raise InvalidCiphertext("not a KPS1 container", reason=Fault.BAD_HEADER)
        if version != VERSION:
            raise InvalidCiphertext("unsupported container version", reason=Fault.BAD_HEADER)
        try:
            return cls(segment_size, prefix)
        except ValueError as exc:
            raise InvalidCiphertext(str(exc), reason=Fault.BAD_HEADER) from None

    @classmethod
    def decode_stored(cls, data: bytes) -> StreamHeader:
        header = cls.decode_core(data)
        if len(data) < STORED_HEADER_SIZE or data[CORE_HEADER_SIZE] != KIND_STORED:
            raise InvalidCiphertext("not a stored container", reason=Fault.BAD_HEADER)
        return header


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= MAX_SEGMENTS:
        raise InvalidCiphertext("too many segments", reason=Fault.BAD_SEGMENT)
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _check_dek(dek: bytes) -> AESGCM:
    if len(dek) != DEK_SIZE:
        raise ValueError("DEK must be 32 bytes")
    return AESGCM(dek)


class SegmentEncryptor:
    """Push plaintext in, get sealed segments out; buffers less than one segment."""

    def __init__(self, dek: bytes, doc_id: uuid.UUID | bytes, *,
                 segment_size: int = DEFAULT_SEGMENT_SIZE,
                 nonce_prefix: bytes | None = None, first_segment: int = 0) -> None:
        # nonce_prefix is for test vectors and for resuming a stream (``first_segment``, the
        # number of segments already sealed, with the prefix they were sealed under); a
        # new stream always draws a fresh one.
        self._aead = _check_dek(dek)
        self.stream = (StreamHeader(segment_size, nonce_prefix) if nonce_prefix is not None
                       else StreamHeader.generate(segment_size))
        self._aad = self.stream.core() + doc_id_bytes(doc_id)
        self._buf = bytearray()
        self._counter = first_segment
        self._done = False

    @property
    def buffered(self) -> int:
        """Plaintext bytes taken in but not yet sealed (less than one segment)."""
        return len(self._buf)

    def header(self) -> bytes:
        return self.stream.encode(KIND_STORED)

    def _seal(self, plaintext: bytes | bytearray | memoryview, last: bool) -> bytes:
        nonce = _nonce(self.stream.nonce_prefix, self._counter, last)
        self._counter += 1
        return self._aead.encrypt(nonce, bytes(plaintext), self._aad)

    def update(self, chunk: bytes) -> bytes:
        if self._done:
            raise RuntimeError("encryptor already finalized")
        size = self.stream.segment_size
        self._buf += chunk
        if len(self._buf) < size:
            return b""
        out = []
        view = memoryview(self._buf)
        offset = 0
        try:
            while len(self._buf) - offset >= size:
                out.append(self._seal(view[offset:offset + size], last=False))
                offset += size
        finally:
            view.release()
        del self._buf[:offset]
        return b"".join(out)

    def finalize(self) -> bytes:
        if self._done:
            raise RuntimeError("encryptor already finalized")
        self._done = True
        sealed = self._seal(self._buf, last=True)
        self._buf.clear()
        return sealed


class SegmentDecryptor:
    """Push ciphertext in, get verified plaintext out.

    Without ``header`` the stored-container header is read from the stream itself; pass
    ``header`` when it was parsed elsewhere (the sealed container). One sealed segment is
    held back until more bytes arrive, since only then is it known not to be the last.
    Any failure raises InvalidCiphertext and poisons the decryptor.
    """

    def __init__(self, dek: bytes, doc_id: uuid.UUID | bytes, *,
                 header: StreamHeader | None = None) -> None:
        self._aead = _check_dek(dek)
        self._doc_id = doc_id_bytes(doc_id)
        self._buf = bytearray()
        self._counter = 0
        self._state = "body" if header else "header"
        self._prefix = b""
        self._aad = b""
        self._sealed_size = 0
        if header is not None:
            self._start(header)

    def _start(self, header: StreamHeader) -> None:
        self._prefix = header.nonce_prefix
        self._aad = header.core() + self._doc_id
        self._sealed_size = header.segment_size + TAG_SIZE

    def _open(self, sealed: bytes | memoryview, last: bool) -> bytes:
        nonce = _nonce(self._prefix, self._counter, last)
        try:
            plaintext = self._aead.decrypt(nonce, bytes(sealed), self._aad)
        except InvalidTag:
            self._state = "failed"
            raise InvalidCiphertext(f"segment {self._counter} failed authentication",
                                    reason=Fault.BAD_SEGMENT) from None
        self._counter += 1
        return plaintext

    def _fail(self, detail: str) -> InvalidCiphertext:
        self._state = "failed"
        return InvalidCiphertext(detail, reason=Fault.TRUNCATED)

    def update(self, chunk: bytes) -> bytes:
        if self._state == "failed":
            raise InvalidCiphertext("stream already failed", reason=Fault.BAD_SEGMENT)
        if self._state == "done":
            raise RuntimeError("decryptor already finalized")
        self._buf += chunk
        if self._state == "header":
            if len(self._buf) < STORED_HEADER_SIZE:
                return b""
            try:
                self._start(StreamHeader.decode_stored(bytes(self._buf[:STORED_HEADER_SIZE])))
            except InvalidCiphertext:
                self._state = "failed"
                raise
            del self._buf[:STORED_HEADER_SIZE]
            self._state = "body"
        out = []
        view = memoryview(self._buf)
        offset = 0
        try:
            # Strictly more than one sealed segment buffered: the first one is not the last.
            while len(self._buf) - offset > self._sealed_size:
                out.append(self._open(view[offset:offset + self._sealed_size], last=False))
                offset += self._sealed_size
        finally:
            view.release()
        del self._buf[:offset]
        return b"".join(out)

    def finalize(self) -> bytes:
        if self._state == "failed":
            raise InvalidCiphertext("stream already failed", reason=Fault.BAD_SEGMENT)
        if self._state == "done":
            raise RuntimeError("decryptor already finalized")
        if self._state == "header":
            raise self._fail("truncated header")
        if len(self._buf) < TAG_SIZE:
            raise self._fail("truncated stream")
        plaintext = self._open(self._buf, last=True)
        self._buf.clear()
        self._state = "done"
        return plaintext


def encrypt_stream(chunks: Iterable[bytes], dek: bytes, doc_id: uuid.UUID | bytes, *,
                   segment_size: int = DEFAULT_SEGMENT_SIZE,
                   nonce_prefix: bytes | None = None) -> Iterator[bytes]:
    """Yield a complete stored container: header, then sealed segments."""
    enc = SegmentEncryptor(dek, doc_id, segment_size=segment_size, nonce_prefix=nonce_prefix)
    yield enc.header()
    for chunk in chunks:
        out = enc.update(chunk)
        if out:
            yield out
    yield enc.finalize()


def decrypt_stream(chunks: Iterable[bytes], dek: bytes, doc_id: uuid.UUID | bytes, *,
                   header: StreamHeader | None = None) -> Iterator[bytes]:
    """Yield verified plaintext; raises InvalidCiphertext at the first bad byte.

    Plaintext of segments before a failure has already been yielded: when nothing of a
    failing stream may be served, run ``verify_stream`` first.
    """
    dec = SegmentDecryptor(dek, doc_id, header=header)
    for chunk in chunks:
        out = dec.update(chunk)
        if out:
            yield out
    out = dec.finalize()
    if out:
        yield out


def verify_stream(chunks: Iterable[bytes], dek: bytes, doc_id: uuid.UUID | bytes, *,
                  header: StreamHeader | None = None) -> int:
    """Authenticate a whole container without keeping plaintext; returns plaintext length."""
    return sum(len(p) for p in decrypt_stream(chunks, dek, doc_id, header=header))


def passthrough_verify(chunks: Iterable[bytes], decryptor: SegmentDecryptor,
                       on_plaintext: Callable[[bytes], None]) -> Iterator[bytes]:
    """Yield ``chunks`` unchanged while decrypting them on the side.

    Verified plaintext goes to ``on_plaintext`` (hashing, type sniffing). The failure of the
    last segment, and anything ``on_plaintext`` raises, surface before the iterator is
    exhausted, so an ``ObjectStore.put_stream`` consuming it aborts and stores nothing.
    """
    for chunk in chunks:
        plaintext = decryptor.update(chunk)
        if plaintext:
            on_plaintext(plaintext)
        yield chunk
    plaintext = decryptor.finalize()
    if plaintext:
        on_plaintext(plaintext)
