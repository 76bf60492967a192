"""Object stores for document ciphertext: local files and S3 (boto3).

Keys are random (``docs/`` + 32 hex digits) and carry no personal data; nothing but the
key and the bytes reaches the store (no metadata). A ``put_stream`` is all or nothing:
if the chunk iterable raises (a failed check, a bad segment) or the store fails, no
object and no partial upload remain, and the iterable's own exception propagates.
Store failures raise StorageUnavailable; reading a missing object raises ObjectMissing.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storage.domain_errors import StorageUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

_KEY_RE = re.compile(r"(?:[a-z0-9_-]+/){0,4}[a-z0-9_-]{1,128}")
_TMP_DIR = ".tmp"
READ_CHUNK = 64 * 1024


class ObjectMissing(KeyError):  # noqa: N818 - the name the API layer uses
    """The object does not exist (never written, or deleted)."""


def _check_key(key: str) -> str:
    if not _KEY_RE.fullmatch(key):
        raise ValueError("invalid object key")
    return key


def new_object_key() -> str:
    return "docs/" + secrets.token_hex(16)


class ObjectStore(Protocol):
    def new_key(self) -> str: ...

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int: ...

    def open_stream(self, key: str) -> Iterator[bytes]: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def iter_keys(self, prefix: str = "") -> Iterator[str]: ...

    def iter_objects(self, prefix: str = "") -> Iterator[tuple[str, datetime]]: ...

    def sweep_incomplete(self, before: datetime,
                         keep: frozenset[str] = frozenset()) -> int: ...

    def check(self) -> None: ...


class LocalObjectStore:
    """Objects as 0600 files under ``root``; written to ``root/.tmp``, fsynced, renamed."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self._tmp = self.root / _TMP_DIR
        try:
            # The root itself, not as a parent of .tmp: mkdir(parents=True) makes the
            # parents with the umask's mode (0755).
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._tmp.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"object store root unusable: {exc.strerror}") from None

    def new_key(self) -> str:
        return new_object_key()

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        target = self._path(key)
        tmp = self._tmp / secrets.token_hex(16)
        written = 0
        try:
            f = _os(open, tmp, "xb", opener=_private_opener)
            with f:
                for chunk in chunks:  # the iterable's own exceptions pass through unchanged
                    _os(f.write, chunk)
                    written += len(chunk)
                _os(f.flush)
                _os(os.fsync, f.fileno())
            _os(_private_dirs, self.root, target.parent)
            _os(os.replace, tmp, target)
            _os(_fsync_dir, target.parent)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        return written

    def open_stream(self, key: str) -> Iterator[bytes]:
        try:
            f = open(self._path(key), "rb")  # closed by _read_file
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        except OSError as exc:
            raise StorageUnavailable(f"cannot read object: {exc.strerror}") from None
        return _read_file(f)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot delete object: {exc.strerror}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            if Path(dirpath) == self.root:
                dirnames[:] = [d for d in dirnames if d != _TMP_DIR]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix) and _KEY_RE.fullmatch(key):
                    yield key

    def iter_objects(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """Keys with their last modification time (UTC)."""
        for key in self.iter_keys(prefix):
            try:
                mtime = self._path(key).stat().st_mtime
            except FileNotFoundError:
                continue
            yield key, datetime.fromtimestamp(mtime, UTC)

    def sweep_incomplete(self, before: datetime, keep: frozenset[str] = frozenset()) -> int:
        """Remove temp files of writes that died before ``before`` (a crashed process).
        Resumable uploads are staged elsewhere (storage.staging), so ``keep`` is moot here."""
        removed = 0
        for entry in self._tmp.iterdir():
            try:
                if datetime.fromtimestamp(entry.stat().st_mtime, UTC) < before:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StorageUnavailable(f"cannot sweep temp files: {exc.strerror}") from None
        return removed

    def check(self) -> None:
        probe = self._tmp / f"probe-{secrets.token_hex(8)}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            probe.unlink()
        except OSError as exc:
            raise StorageUnavailable(f"object store not writable: {exc.strerror}") from None


def _os(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except OSError as exc:
        raise StorageUnavailable(f"object store I/O failed: {exc.strerror or exc}") from None


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _private_dirs(root: Path, directory: Path) -> None:
    """``directory`` and every missing level between it and ``root``, each 0700."""
    level = root
    for part in directory.relative_to(root).parts:
        level = level / part
        level.mkdir(mode=0o700, exist_ok=True)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_file(f: Any) -> Iterator[bytes]:
    with f:
        while True:
            try:
                chunk = f.read(READ_CHUNK)
            except OSError as exc:
                raise StorageUnavailable(f"cannot read object: {exc.strerror}") from None
            if not chunk:
                return
            yield chunk


MIN_PART_SIZE = 5 * 1024 * 1024


class S3ObjectStore:
    """Objects in an S3 bucket; streams above ``part_size`` go up as multipart uploads."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, *,
                 connect_timeout: float = 3, read_timeout: float = 10,
                 region: str | None = None, part_size: int = 8 * 1024 * 1024,
                 client: Any = None) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError("S3 parts must be at least 5 MiB")
        self.bucket = bucket
        self.part_size = part_size
        if client is None:
            config = Config(retries={"mode": "standard", "total_max_attempts": 3},
                            connect_timeout=connect_timeout, read_timeout=read_timeout,
                            s3={"addressing_style": "path"} if endpoint_url else None)
            try:
                client = boto3.client("s3", endpoint_url=endpoint_url,
                                      region_name=region or _default_region(), config=config)
            except (BotoCoreError, ValueError) as exc:
                raise StorageUnavailable(f"cannot configure S3 client: {exc}") from None
        self._s3 = client

    def new_key(self) -> str:
        return new_object_key()

    def _call(self, operation: str, *, object_op: bool = False, **kwargs: Any) -> Any:
        try:
            return getattr(self._s3, operation)(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if object_op and code in ("NoSuchKey", "404", "NotFound"):
                raise ObjectMissing(kwargs.get("Key", "")) from None
            raise StorageUnavailable(f"S3 {operation} failed: {code or 'error'}") from None
        except BotoCoreError as exc:
            raise StorageUnavailable(f"S3 {operation} failed: {type(exc).__name__}") from None

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        _check_key(key)
        it = iter(chunks)
        buf = bytearray()
        for chunk in it:
            buf += chunk
            if len(buf) >= self.part_size:
                return self._put_multipart(key, buf, it)
        self._call("put_object", Bucket=self.bucket, Key=key, Body=bytes(buf),
                   ContentType="application/octet-stream")
        return len(buf)

    def _put_multipart(self, key: str, buf: bytearray, rest: Iterator[bytes]) -> int:
        upload_id = self._call("create_multipart_upload", Bucket=self.bucket, Key=key,
                               ContentType="application/octet-stream")["UploadId"]
        parts: list[dict[str, Any]] = []
        written = 0
        try:
            def send(data: bytes) -> None:
                resp = self._call("upload_part", Bucket=self.bucket, Key=key,
                                  UploadId=upload_id, PartNumber=len(parts) + 1, Body=data)
                parts.append({"PartNumber": len(parts) + 1, "ETag": resp["ETag"]})

            while True:
                while len(buf) >= self.part_size:
                    send(bytes(buf[:self.part_size]))
                    written += self.part_size
                    del buf[:self.part_size]
                chunk = next(rest, None)
                if chunk is None:
                    break
                buf += chunk
            if buf:
                send(bytes(buf))
                written += len(buf)
            self._call("complete_multipart_upload", Bucket=self.bucket, Key=key,
                       UploadId=upload_id, MultipartUpload={"Parts": parts})
        except BaseException:
            self._abort(key, upload_id)
            raise
        return written

    def start_multipart(self, key: str) -> str:
        """Begin a multipart upload that outlives the request (a resumable upload)."""
        return self._call("create_multipart_upload", Bucket=self.bucket, Key=_check_key(key),
                          ContentType="application/octet-stream")["UploadId"]

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Upload (or replace) part ``number``; returns its ETag."""
        return self._call("upload_part", Bucket=self.bucket, Key=_check_key(key),
                          UploadId=upload_id, PartNumber=number, Body=data)["ETag"]

    def finish_multipart(self, key: str, upload_id: str, etags: list[str]) -> None:
        self._call("complete_multipart_upload", Bucket=self.bucket, Key=_check_key(key),
                   UploadId=upload_id, MultipartUpload={"Parts": [
                       {"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, 1)]})

    def abort_multipart(self, key: str, upload_id: str) -> None:
        self._abort(key, upload_id)

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (BotoCoreError, ClientError) as exc:
            # The bucket's lifecycle rule for incomplete uploads is the backstop.
            log.error("could not abort multipart upload %s: %s", upload_id, exc)

    def open_stream(self, key: str) -> Iterator[bytes]:
        body = self._call("get_object", object_op=True, Bucket=self.bucket,
                          Key=_check_key(key))["Body"]
        return self._read_body(body)

    @staticmethod
    def _read_body(body: Any) -> Iterator[bytes]:
        try:
            while True:
                try:
                    chunk = body.read(READ_CHUNK)
                except (BotoCoreError, OSError) as exc:
                    raise StorageUnavailable(
                        f"S3 read failed: {type(exc).__name__}") from None
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self._call("delete_object", Bucket=self.bucket, Key=_check_key(key))

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", object_op=True, Bucket=self.bucket, Key=_check_key(key))
        except ObjectMissing:
            return False
        return True

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"]
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"S3 list failed: {type(exc).__name__}") from None

    def iter_objects(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """Keys with their last modification time (UTC)."""
        paginator = self._s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"], obj["LastModified"].astimezone(UTC)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"S3 list failed: {type(exc).__name__}") from None

    def sweep_incomplete(self, before: datetime, keep: frozenset[str] = frozenset()) -> int:
        """Abort multipart uploads begun before ``before`` whose writer died, but those in
        ``keep`` (resumable uploads still in flight)."""
        paginator = self._s3.get_paginator("list_multipart_uploads")
        aborted = 0
        try:
            for page in paginator.paginate(Bucket=self.bucket):
                for upload in page.get("Uploads", []):
                    if upload["UploadId"] in keep:
                        continue
                    if upload["Initiated"].astimezone(UTC) < before:
                        self._call("abort_multipart_upload", Bucket=self.bucket,
                                   Key=upload["Key"], UploadId=upload["UploadId"])
                        aborted += 1
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"S3 list failed: {type(exc).__name__}") from None
        return aborted

    def check(self) -> None:
        self._call("head_bucket", Bucket=self.bucket)


def _default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def open_object_store(url: str, data_dir: str | os.PathLike[str],
                      endpoint_url: str | None) -> ObjectStore:
    """``file://`` (``<data_dir>/objects``), ``file:///abs/path`` or ``s3://bucket``."""
    parsed = urlparse(url)
    if parsed.scheme == "file" and not parsed.netloc:
        if parsed.params or parsed.query or parsed.fragment:
            raise ValueError(f"unsupported storage URL {url!r}")
        return LocalObjectStore(parsed.path or Path(data_dir) / "objects")
    if parsed.scheme == "s3" and parsed.netloc and parsed.path in ("", "/") \
            and not (parsed.query or parsed.fragment):
        return S3ObjectStore(parsed.netloc, endpoint_url=endpoint_url)
    raise ValueError(f"unsupported storage URL {url!r}")
