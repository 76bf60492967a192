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

from storage.domain_errors import InvalidCiphertext, SizeMismatch
from storage.envelope import (
    DEFAULT_SEGMENT_SIZE,
    KIND_SEALED,
    KIND_STORED,
    STORED_HEADER_SIZE,
    TAG_SIZE,
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
from storage.vocabulary import CiphertextFault as Fault

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
                raise InvalidCiphertext("truncated header", reason=Fault.TRUNCATED) from None
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
        raise InvalidCiphertext("not a sealed container", reason=Fault.BAD_HEADER)
    suite = SUITES_BY_WIRE_ID.get(reader.read(6))
    if suite is None:
        raise InvalidCiphertext("unsupported HPKE suite", reason=Fault.UNSUPPORTED_SUITE)
    try:
        kid = reader.read(reader.read(1)[0]).decode("ascii")
    except UnicodeDecodeError:
        raise InvalidCiphertext("invalid kid", reason=Fault.BAD_HEADER) from None
    if not _KID_RE.fullmatch(kid):
        raise InvalidCiphertext("invalid kid", reason=Fault.BAD_HEADER)
    (enc_len,) = struct.unpack(">H", reader.read(2))
    if enc_len != suite.enc_size:
        raise InvalidCiphertext("wrong encapsulated key length", reason=Fault.BAD_HEADER)
    enc = reader.read(enc_len)
    (sealed_len,) = struct.unpack(">H", reader.read(2))
    if sealed_len != SEALED_DEK_SIZE:
        raise InvalidCiphertext("wrong sealed key length", reason=Fault.BAD_HEADER)
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


def segment_section_lengths(plaintext_size: int, segment_size: int) -> tuple[int, int]:
    """The shortest and longest segment bytes that hold ``plaintext_size`` bytes: an encoder
    seals a short (possibly empty) last segment; a decoder also takes a full one."""
    full, rest = divmod(plaintext_size, segment_size)
    longest = full * (segment_size + TAG_SIZE) + rest + TAG_SIZE
    shortest = longest - TAG_SIZE if rest == 0 and full else longest
    return shortest, longest


def _measured(body: Iterable[bytes], decryptor: SegmentDecryptor,
              on_plaintext: Callable[[bytes], None], plaintext_size: int,
              segment_size: int) -> Iterator[bytes]:
    """``passthrough_verify`` that knows how long the segments must be: bytes past a valid
    last segment are ``trailing_data``, a stream that stops early is ``truncated``."""
    shortest, longest = segment_section_lengths(plaintext_size, segment_size)
    seen = 0
    for chunk in body:
        if seen + len(chunk) > longest:
            head = chunk[:longest - seen]
            on_plaintext(decryptor.update(head))
            yield head
            try:
                last = decryptor.finalize()
            except InvalidCiphertext:
                raise SizeMismatch() from None  # the plaintext goes on past the declared size
            on_plaintext(last)
            raise InvalidCiphertext("bytes after the last segment", reason=Fault.TRAILING_DATA)
        seen += len(chunk)
        plaintext = decryptor.update(chunk)
        if plaintext:
            on_plaintext(plaintext)
        yield chunk
    try:
        last = decryptor.finalize()
    except InvalidCiphertext as exc:
        if seen < shortest:
            raise InvalidCiphertext("the stream ends early", reason=Fault.TRUNCATED) from None
        raise exc from None
    if last:
        on_plaintext(last)


def sealed_to_stored(chunks: Iterable[bytes], keyring: HpkeKeyring, doc_id: uuid.UUID | bytes,
                     on_plaintext: Callable[[bytes], None], *,
                     plaintext_size: int | None = None) -> tuple[bytes, Iterator[bytes]]:
    """Turn a client upload into a stored container while verifying every segment.

    Returns the DEK (wrap it with the KEK and keep it in the database) and the stored
    container's bytes for ``ObjectStore.put_stream``. Verified plaintext is passed to
    ``on_plaintext`` as it goes by; a bad segment raises InvalidCiphertext before the
    returned iterator ends, so the store aborts. Header errors raise right here. Given the
    declared ``plaintext_size``, the segments must be exactly as long as it needs.
    """
    header, body = read_sealed_header(chunks)
    dek = header.open_dek(keyring, doc_id)
    decryptor = SegmentDecryptor(dek, doc_id, header=header.stream)

    def stored() -> Iterator[bytes]:
        yield header.stored_header()
        if plaintext_size is None:
            yield from passthrough_verify(body, decryptor, on_plaintext)
        else:
            yield from _measured(body, decryptor, on_plaintext, plaintext_size,
                                 header.stream.segment_size)

    return dek, stored()
