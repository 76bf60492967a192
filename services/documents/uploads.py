"""Streaming checks on an upload: size limits, SHA-256 and the file type read from its bytes.

Every check fails as early as the bytes allow and always before the stream ends, so an
object store consuming the stream aborts and keeps nothing.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from storage.domain_errors import (
    ChecksumMismatch,
    PayloadTooLarge,
    SizeMismatch,
    UnsupportedMediaType,
)
from storage.envelope import TAG_SIZE
from storage.vocabulary import ContentType

MAGIC = (
    (b"\xff\xd8\xff", ContentType.JPEG),
    (b"\x89PNG\r\n\x1a\n", ContentType.PNG),
    (b"%PDF-", ContentType.PDF),
)
SNIFF_BYTES = max(len(magic) for magic, _ in MAGIC)
# The largest sealed-container header (docs/encryption.md): 28 + 64-byte kid + hybrid enc
# (1120) + sealed DEK (48).
MAX_SEALED_HEADER = 28 + 64 + 1120 + 48
MIN_SEGMENT = 16


def sniff(head: bytes) -> ContentType | None:
    """The content type the leading bytes announce, if one we accept."""
    for magic, content_type in MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def sealed_size_bound(size: int) -> int:
    """The most bytes a sealed container of ``size`` plaintext bytes can take (smallest
    segments, a full final segment)."""
    return MAX_SEALED_HEADER + size + TAG_SIZE * (size // MIN_SEGMENT + 1)


@dataclass(frozen=True)
class Expected:
    """What the client declared about the plaintext."""

    size: int
    sha256: str
    content_type: str
    limit: int


class PlaintextCheck:
    """Fed the plaintext as it goes by; raises at the first byte that breaks a promise."""

    def __init__(self, expected: Expected) -> None:
        self.expected = expected
        self._hash = hashlib.sha256()
        self._head = b""
        self._typed = False
        self.size = 0

    def __call__(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.expected.limit:
            raise PayloadTooLarge()
        if self.size > self.expected.size:
            raise SizeMismatch()
        self._hash.update(chunk)
        if not self._typed:
            self._head += chunk[:SNIFF_BYTES]
            if len(self._head) >= SNIFF_BYTES:
                self._check_type()

    def _check_type(self) -> None:
        self._typed = True
        if sniff(self._head) != self.expected.content_type:
            raise UnsupportedMediaType()

    def finish(self) -> None:
        if self.size != self.expected.size:
            raise SizeMismatch()
        if not self._typed:
            self._check_type()
        if not hmac.compare_digest(self._hash.hexdigest(), self.expected.sha256):
            raise ChecksumMismatch()


def limited(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """Pass ``chunks`` through, raising 413 once more than ``limit`` bytes have come."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge()
        yield chunk


def checked(chunks: Iterable[bytes], check: PlaintextCheck) -> Iterator[bytes]:
    """Plaintext through ``check``; the final verdict comes before the iterator ends."""
    for chunk in chunks:
        check(chunk)
        yield chunk
    check.finish()


def finished(chunks: Iterable[bytes], check: PlaintextCheck) -> Iterator[bytes]:
    """Yield ``chunks`` (fed to ``check`` elsewhere), then the check's final verdict."""
    yield from chunks
    check.finish()
