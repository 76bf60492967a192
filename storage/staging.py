"""Where a resumable upload's bytes wait until the last one arrives.

Only ciphertext is staged: KPS1 segments under the document's DEK (server encryption) or
the client's sealed container (client encryption). A stage is described by a `Stage` the
caller keeps in the database; `append` returns the next one and is all or nothing towards
it: bytes written past the stage the database records are overwritten by the next append.

- Local store: one file per upload under ``<root>/.uploads``, appended and fsynced per
  request, locked while it is written, moved into place when complete.
- S3: a multipart upload on the final key. Parts must hold at least 5 MiB (but the last),
  so the bytes not yet in a part wait in a small object of their own (the tail, named for
  the offset it ends at) and go into the next part with the bytes that follow.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from storage.domain_errors import Conflict, StorageUnavailable
from storage.object_store import (
    LocalObjectStore,
    ObjectMissing,
    ObjectStore,
    S3ObjectStore,
    _fsync_dir,
    _os,
)

UPLOADS_DIR = ".uploads"
TAIL_PREFIX = "uploads/"


@dataclass(frozen=True)
class Stage:
    """What is durably staged: ``stored`` bytes destined for object ``key``."""

    key: str
    upload_name: str
    stored: int = 0
    multipart_id: str | None = None
    parts: tuple[str, ...] = field(default_factory=tuple)
    tail_key: str | None = None


class Staging(Protocol):
    def append(self, stage: Stage, chunks: Iterable[bytes]) -> Stage: ...

    def complete(self, stage: Stage) -> str: ...

    def discard(self, stage: Stage) -> None: ...


class LocalStaging:
    def __init__(self, store: LocalObjectStore) -> None:
        self.store = store
        self._dir = store.root / UPLOADS_DIR
        _os(self._dir.mkdir, mode=0o700, exist_ok=True)

    def _file(self, stage: Stage) -> Path:
        if not stage.upload_name.isalnum():
            raise ValueError("invalid upload name")
        return self._dir / stage.upload_name

    def append(self, stage: Stage, chunks: Iterable[bytes]) -> Stage:
        path = self._file(stage)
        fd = _os(os.open, path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict("another request is writing this upload") from None
            _os(f.truncate, stage.stored)
            f.seek(stage.stored)
            written = 0
            for chunk in chunks:  # the iterable's own exceptions pass through unchanged
                _os(f.write, chunk)
                written += len(chunk)
            _os(f.flush)
            _os(os.fsync, f.fileno())
        return replace(stage, stored=stage.stored + written)

    def complete(self, stage: Stage) -> str:
        path = self._file(stage)
        if not path.exists():
            self.append(stage, ())
        target = self.store.root / stage.key
        _os(target.parent.mkdir, mode=0o700, parents=True, exist_ok=True)
        _os(os.replace, path, target)
        _os(_fsync_dir, target.parent)
        return stage.key

    def discard(self, stage: Stage) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._file(stage).unlink(missing_ok=True)


class S3Staging:
    def __init__(self, store: S3ObjectStore) -> None:
        self.store = store

    def _tail(self, stage: Stage) -> bytearray:
        if stage.tail_key is None:
            return bytearray()
        try:
            return bytearray(b"".join(self.store.open_stream(stage.tail_key)))
        except ObjectMissing:
            raise StorageUnavailable("the staged tail of an upload is missing") from None

    def _multipart(self, stage: Stage) -> str:
        if stage.multipart_id:
            return stage.multipart_id
        return self.store.start_multipart(stage.key)

    def append(self, stage: Stage, chunks: Iterable[bytes]) -> Stage:
        buf = self._tail(stage)
        upload_id = stage.multipart_id
        parts = list(stage.parts)
        size = self.store.part_size
        for chunk in chunks:
            buf += chunk
            while len(buf) >= size:
                upload_id = upload_id or self._multipart(stage)
                parts.append(self.store.put_part(stage.key, upload_id, len(parts) + 1,
                                                 bytes(buf[:size])))
                del buf[:size]
        stored = len(parts) * size + len(buf)  # every part but the last is full
        tail_key = None
        if buf:
            tail_key = f"{TAIL_PREFIX}{stage.upload_name}/t{stored}"
            self.store.put_stream(tail_key, [bytes(buf)])
        return replace(stage, stored=stored, multipart_id=upload_id, parts=tuple(parts),
                       tail_key=tail_key)

    def complete(self, stage: Stage) -> str:
        buf = self._tail(stage)
        parts = list(stage.parts)
        if not parts:
            self.store.put_stream(stage.key, [bytes(buf)])
            return stage.key
        if buf:
            parts.append(self.store.put_part(stage.key, stage.multipart_id or "",
                                             len(parts) + 1, bytes(buf)))
        self.store.finish_multipart(stage.key, stage.multipart_id or "", parts)
        return stage.key

    def discard(self, stage: Stage) -> None:
        if stage.multipart_id:
            self.store.abort_multipart(stage.key, stage.multipart_id)


def staging_for(store: ObjectStore) -> Staging:
    if isinstance(store, LocalObjectStore):
        return LocalStaging(store)
    if isinstance(store, S3ObjectStore):
        return S3Staging(store)
    raise TypeError("no staging for this object store")


def tails_of(store: ObjectStore, upload_name: str) -> Iterator[str]:
    """Every tail object an upload may have left (earlier ones whose deletion failed)."""
    if isinstance(store, S3ObjectStore):
        yield from store.iter_keys(f"{TAIL_PREFIX}{upload_name}/")
