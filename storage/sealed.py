"""The client-sealed container, ``application/vnd.kinpass.sealed`` (see docs/encryption.md).

    0      17   stream header, kind byte 0x02 (see storage.envelope)
    17     6    HPKE suite: kem_id || kdf_id || aead_id (big endian u16 each)
    23     1    kid length k (1..64)
    24     k    kid (ASCII)
    24+k   2    enc length e (must equal the suite's Nenc)
    26+k   e    HPKE encapsulated key
    26+k+e 2    sealed DEK length (must be 48)
    28+k+e 48   HPKE-sealed DEK
    ...         segments, exactly as in a stored container

The segments' AAD binds only bytes 0..15 and the document id, so the server can keep a
client upload as a stored container: the 17-byte stored header followed by the very same
segment bytes, the DEK wrapped by the KEK outside the object (``sealed_to_stored``).
"""
from __future__ import annotations

import re
import struct
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from storage.domain_errors import InvalidCiphertext
from storage.envelope import (
    DEFAULT_SEGMENT_SIZE,
    KIND_SEALED,
    KIND_STORED,
    STORED_HEADER_SIZE,
    SegmentDecryptor,
    SegmentEncryptor,
    StreamHeader,
    decrypt_stream,
    new_dek,
    passthrough_verify,
)
from storage.hpke_keys import HpkeKeyring
from storage.hpke_suites import (
    SEALED_DEK_SIZE,
    SUITES_BY_WIRE_ID,
    HpkeSuite,
    get_suite,
    seal_dek,
)

MEDIA_TYPE = "application/vnd.kinpass.sealed"
_KID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class SealedHeader:
    stream: StreamHeader
    suite: HpkeSuite
    kid: str
    enc: bytes
    sealed_dek: bytes

    def encode(self) -> bytes:
        if not _KID_RE.fullmatch(self.kid):
            raise ValueError("kid must be 1..64 characters of A-Za-z0-9._-")
        kid = self.kid.encode()
        return b"".join([
            self.stream.encode(KIND_SEALED), self.suite.wire_id,
            bytes([len(kid)]), kid,
            struct.pack(">H", len(self.enc)), self.enc,
            struct.pack(">H", len(self.sealed_dek)), self.sealed_dek,
        ])

    def open_dek(self, keyring: HpkeKeyring, doc_id: uuid.UUID | bytes) -> bytes:
        return keyring.open_sealed_dek(self.suite, self.kid, self.enc, self.sealed_dek, doc_id)

    def stored_header(self) -> bytes:
        """The header of the equivalent stored container."""
        return self.stream.encode(KIND_STORED)


class _Reader:
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it = iter(chunks)
        self._buf = bytearray()

    def read(self, n: int) -> bytes:
        while len(self._buf) < n:
            try:
                self._buf += next(self._it)
            except StopIteration:
                raise InvalidCiphertext("truncated header") from None
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def rest(self) -> Iterator[bytes]:
        if self._buf:
            yield bytes(self._buf)
            self._buf.clear()
        yield from self._it


def read_sealed_header(chunks: Iterable[bytes]) -> tuple[SealedHeader, Iterator[bytes]]:
    """Parse the header from the front of a stream; returns it and the segment bytes."""
    reader = _Reader(chunks)
    head = reader.read(STORED_HEADER_SIZE)
    stream = StreamHeader.decode_core(head)
    if head[-1] != KIND_SEALED:
        raise InvalidCiphertext("not a sealed container")
    suite = SUITES_BY_WIRE_ID.get(reader.read(6))
    if suite is None:
        raise InvalidCiphertext("unsupported HPKE suite")
    try:
        kid = reader.read(reader.read(1)[0]).decode("ascii")
    except UnicodeDecodeError:
        raise InvalidCiphertext("invalid kid") from None
    if not _KID_RE.fullmatch(kid):
        raise InvalidCiphertext("invalid kid")
    (enc_len,) = struct.unpack(">H", reader.read(2))
    if enc_len != suite.enc_size:
        raise InvalidCiphertext("wrong encapsulated key length")
    enc = reader.read(enc_len)
    (sealed_len,) = struct.unpack(">H", reader.read(2))
    if sealed_len != SEALED_DEK_SIZE:
        raise InvalidCiphertext("wrong sealed key length")
    sealed = reader.read(sealed_len)
    return SealedHeader(stream, suite, kid, enc, sealed), reader.rest()


def seal_stream(chunks: Iterable[bytes], public_key_b64: str, suite: HpkeSuite | str,
                kid: str, doc_id: uuid.UUID | bytes, *, dek: bytes | None = None,
                segment_size: int = DEFAULT_SEGMENT_SIZE,
                nonce_prefix: bytes | None = None) -> Iterator[bytes]:
    """Reference client: encrypt ``chunks`` into a sealed container for one server key.

    ``dek`` and ``nonce_prefix`` are for test vectors only; by default both are random.
    """
    dek = dek if dek is not None else new_dek()
    enc, sealed = seal_dek(public_key_b64, suite, dek, doc_id)
    encryptor = SegmentEncryptor(dek, doc_id, segment_size=segment_size,
                                 nonce_prefix=nonce_prefix)
    yield SealedHeader(encryptor.stream, get_suite(suite), kid, enc, sealed).encode()
    for chunk in chunks:
        out = encryptor.update(chunk)
        if out:
            yield out
    yield encryptor.finalize()


def decrypt_sealed_stream(chunks: Iterable[bytes], keyring: HpkeKeyring,
                          doc_id: uuid.UUID | bytes) -> Iterator[bytes]:
    header, body = read_sealed_header(chunks)
    dek = header.open_dek(keyring, doc_id)
    yield from decrypt_stream(body, dek, doc_id, header=header.stream)


def sealed_to_stored(chunks: Iterable[bytes], keyring: HpkeKeyring, doc_id: uuid.UUID | bytes,
                     on_plaintext: Callable[[bytes], None]) -> tuple[bytes, Iterator[bytes]]:
    """Turn a client upload into a stored container while verifying every segment.

    Returns the DEK (wrap it with the KEK and keep it in the database) and the stored
    container's bytes for ``ObjectStore.put_stream``. Verified plaintext is passed to
    ``on_plaintext`` as it goes by; a bad segment raises InvalidCiphertext before the
    returned iterator ends, so the store aborts. Header errors raise right here.
    """
    header, body = read_sealed_header(chunks)
    dek = header.open_dek(keyring, doc_id)
    decryptor = SegmentDecryptor(dek, doc_id, header=header.stream)

    def stored() -> Iterator[bytes]:
        yield header.stored_header()
        yield from passthrough_verify(body, decryptor, on_plaintext)

    return dek, stored()
