"""Key-encryption keys (KEKs): wrap and unwrap data keys and other secrets.

Wrapped blob (all providers)::

    0      1  format version 0x01
    1      1  algorithm: 0x01 AES-256-GCM under a local/env KEK, 0x02 AWS KMS
    2      2  kid length n (big endian)
    4      n  kid (UTF-8): which KEK wrapped it, so rotation can tell
    4+n    ..  payload: 0x01 -> nonce (12) || ciphertext || tag (16)
                        0x02 -> the KMS CiphertextBlob

For 0x01 the GCM associated data is blob bytes 0..4+n-1 || context; for 0x02 the context
travels as the KMS EncryptionContext. ``context`` is what the secret belongs to (a
document's 16 id bytes, or a key label) so a wrapped key cannot be moved to another owner.

A wrapped blob that is malformed or fails authentication raises InvalidCiphertext; a KEK
that is not configured, or an unreachable KMS, raises StorageUnavailable.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import stat
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.domain_errors import InvalidCiphertext, StorageUnavailable

KEK_SIZE = 32
FORMAT_VERSION = 0x01
ALG_AES_GCM = 0x01
ALG_KMS = 0x02
_PREFIX = struct.Struct(">BBH")
_NONCE_SIZE = 12


# --- secret files ---------------------------------------------------------------------

def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(directory: Path, data: bytes) -> Path:
    """Write ``data`` to a fresh 0600 file (O_CREAT|O_EXCL) in ``directory`` and fsync it."""
    tmp = directory / f".tmp-{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def create_private_file(path: Path, data: bytes) -> bool:
    """Create ``path`` (0600) holding ``data`` unless it exists. Returns True if created.

    Written to a temp file and hard-linked into place, so concurrent starters never see a
    partly written file: one of them wins, the others read the winner's.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = _write_temp(path.parent, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    _fsync_dir(path.parent)
    return True


def replace_private_file(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with a 0600 file holding ``data``."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = _write_temp(path.parent, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def read_private_file(path: Path) -> bytes:
    """Read a secret file, refusing one that its group or others could read or write."""
    fd = os.open(path, os.O_RDONLY)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise PermissionError(f"{path} is not a regular file")
        if mode & 0o077:
            raise PermissionError(f"{path} must be accessible by its owner only (chmod 600)")
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_or_create_secret(path: str | os.PathLike[str], nbytes: int) -> bytes:
    """Random secret of ``nbytes`` in a 0600 file, generated on first use (e.g. JWT key)."""
    target = Path(path)
    if not target.exists():
        create_private_file(target, secrets.token_bytes(nbytes))
    data = read_private_file(target)
    if len(data) != nbytes:
        raise ValueError(f"{target} holds {len(data)} bytes, expected {nbytes}")
    return data


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# --- wrapped blobs --------------------------------------------------------------------

def _encode_prefix(alg: int, kid: str) -> bytes:
    raw = kid.encode()
    if not raw or len(raw) > 0xFFFF:
        raise ValueError("kid length out of range")
    return _PREFIX.pack(FORMAT_VERSION, alg, len(raw)) + raw


def parse_wrapped(wrapped: bytes) -> tuple[int, str, bytes, bytes]:
    """Split a wrapped blob into (algorithm, kid, prefix bytes, payload)."""
    if len(wrapped) < _PREFIX.size:
        raise InvalidCiphertext("wrapped key too short")
    version, alg, kid_len = _PREFIX.unpack_from(wrapped)
    end = _PREFIX.size + kid_len
    if version != FORMAT_VERSION or alg not in (ALG_AES_GCM, ALG_KMS) or not kid_len \
            or len(wrapped) <= end:
        raise InvalidCiphertext("malformed wrapped key")
    try:
        kid = wrapped[_PREFIX.size:end].decode()
    except UnicodeDecodeError:
        raise InvalidCiphertext("malformed wrapped key") from None
    return alg, kid, wrapped[:end], wrapped[end:]


def wrapped_kid(wrapped: bytes) -> str:
    """The id of the KEK that wrapped ``wrapped`` (rotation skips blobs already current)."""
    return parse_wrapped(wrapped)[1]


class KeyProvider(Protocol):
    development: bool

    @property
    def active_kid(self) -> str: ...

    def wrap(self, dek: bytes, context: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes: ...

    def rewrap(self, wrapped: bytes, context: bytes) -> bytes: ...

    def check(self) -> None: ...


# --- AES-GCM keyrings (local file, environment) ---------------------------------------

def decode_configured_key(value: str, name: str) -> bytes:
    """Key bytes given as configuration: base64 in either alphabet, padding optional."""
    text = value.strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4),
                                altchars=b"-_" if ("-" in text or "_" in text) else None,
                                validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{name} is not valid base64") from None


def _b64decode_key(value: str) -> bytes:
    key = decode_configured_key(value, "KEK")
    if len(key) != KEK_SIZE:
        raise ValueError(f"KEK must be {KEK_SIZE} bytes, got {len(key)}")
    return key


class _AesGcmKeyring:
    """Wrap with the active KEK, unwrap with whichever KEK the blob names."""

    development = False

    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        self._install(keys, active)

    def _install(self, keys: Mapping[str, bytes], active: str) -> None:
        if active not in keys:
            raise ValueError("active KEK missing from keyring")
        for kid, key in keys.items():
            if not kid or len(key) != KEK_SIZE:
                raise ValueError(f"invalid KEK {kid!r}")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self._active = active

    @property
    def active_kid(self) -> str:
        return self._active

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    def _refresh(self) -> None:
        """Hook for keyrings that can change underneath (the local file)."""

    def wrap(self, dek: bytes, context: bytes) -> bytes:
        self._refresh()
        prefix = _encode_prefix(ALG_AES_GCM, self._active)
        nonce = os.urandom(_NONCE_SIZE)
        return prefix + nonce + self._keys[self._active].encrypt(nonce, dek, prefix + context)

    def _key_for(self, kid: str) -> AESGCM:
        if kid not in self._keys:
            self._refresh()
        if kid not in self._keys:
            raise StorageUnavailable(f"KEK {kid!r} is not configured")
        return self._keys[kid]

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        alg, kid, prefix, payload = parse_wrapped(wrapped)
        if alg != ALG_AES_GCM:
            raise StorageUnavailable("key wrapped by a different kind of KEK provider")
        if len(payload) < _NONCE_SIZE + 16:
            raise InvalidCiphertext("wrapped key too short")
        try:
            return self._key_for(kid).decrypt(payload[:_NONCE_SIZE], payload[_NONCE_SIZE:],
                                              prefix + context)
        except InvalidTag:
            raise InvalidCiphertext("wrapped key failed authentication") from None

    def rewrap(self, wrapped: bytes, context: bytes) -> bytes:
        return self.wrap(self.unwrap(wrapped, context), context)

    def check(self) -> None:
        self._refresh()


class EnvKeyProvider(_AesGcmKeyring):
    """KEKs from an environment value: ``b64`` or ``kid1:b64,kid2:b64`` (first is active).

    A bare key gets the stable kid ``env-`` + the first 8 hex digits of its SHA-256.
    """

    def __init__(self, value: str) -> None:
        entries = [part.strip() for part in value.split(",") if part.strip()]
        if not entries:
            raise ValueError("empty KEK value")
        keys: dict[str, bytes] = {}
        for entry in entries:
            kid, sep, b64 = entry.rpartition(":")
            key = _b64decode_key(b64)
            kid = kid.strip() if sep else "env-" + hashlib.sha256(key).hexdigest()[:8]
            if not kid or kid in keys:
                raise ValueError(f"missing or duplicate KEK id {kid!r}")
            keys[kid] = key
        super().__init__(keys, next(iter(keys)))


class LocalFileKeyProvider(_AesGcmKeyring):
    """Development default: a keyring file in the data dir, created 0600 on first use.

    File format (JSON)::

        {"version": 1, "active": "<kid>", "keys": {"<kid>": "<base64 of 32 bytes>", ...}}

    ``rotate()`` adds a fresh active KEK and keeps the old ones for unwrapping. Other
    processes pick the new keyring up on their next wrap (the file's identity is checked)
    or when asked to unwrap under a kid they do not know yet.
    """

    development = True

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int, int] | None = None
        if not self.path.exists():
            kid = self._new_kid()
            create_private_file(self.path,
                                self._serialize({kid: secrets.token_bytes(KEK_SIZE)}, kid))
        self._load()

    @staticmethod
    def _new_kid() -> str:
        return "kek-" + secrets.token_hex(6)

    @staticmethod
    def _serialize(keys: Mapping[str, bytes], active: str) -> bytes:
        doc = {"version": 1, "active": active,
               "keys": {kid: base64.b64encode(key).decode() for kid, key in keys.items()}}
        return json.dumps(doc, indent=2).encode() + b"\n"

    def _read(self) -> tuple[dict[str, bytes], str]:
        try:
            doc: Any = json.loads(read_private_file(self.path))
            keys = {str(kid): _b64decode_key(b64) for kid, b64 in doc["keys"].items()}
            return keys, str(doc["active"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"unreadable keyring {self.path}: {exc}") from None

    def _file_stamp(self) -> tuple[int, int, int]:
        st = os.stat(self.path)
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _load(self) -> None:
        stamp = self._file_stamp()
        keys, active = self._read()
        self._install(keys, active)
        self._stamp = stamp

    def _refresh(self) -> None:
        if self._file_stamp() != self._stamp:
            self._load()

    def rotate(self) -> str:
        """Add a new active KEK (old ones stay for unwrap). Returns its kid."""
        with file_lock(self.path.with_name(self.path.name + ".lock")):
            keys, _ = self._read()
            kid = self._new_kid()
            keys[kid] = secrets.token_bytes(KEK_SIZE)
            replace_private_file(self.path, self._serialize(keys, kid))
            self._load()
        return kid


# --- AWS KMS --------------------------------------------------------------------------

def kms_client(endpoint_url: str | None = None, region: str | None = None, *,
               connect_timeout: float = 3, read_timeout: float = 10) -> Any:
    config = Config(retries={"mode": "standard", "total_max_attempts": 3},
                    connect_timeout=connect_timeout, read_timeout=read_timeout)
    try:
        return boto3.client("kms", endpoint_url=endpoint_url, region_name=region,
                            config=config)
    except BotoCoreError as exc:
        raise ValueError(f"cannot configure KMS client: {exc}") from None


_KMS_BAD_CIPHERTEXT = {"InvalidCiphertextException", "IncorrectKeyException"}


class KmsKeyProvider:
    """KEK held by AWS KMS; each wrap is a KMS Encrypt bound by an EncryptionContext.

    The kid stored in a blob is the key ARN KMS reports, so a blob stays readable after
    ``key_id`` (an alias, say) is moved to a new key; ``rewrap`` moves it to the new key.
    """

    development = False

    def __init__(self, key_id: str, client: Any) -> None:
        self.key_id = key_id
        self._client = client

    @property
    def active_kid(self) -> str:
        return self.key_id

    @staticmethod
    def _context(context: bytes) -> dict[str, str]:
        return {"kinpass:purpose": "key-wrap", "kinpass:context": context.hex()}

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _KMS_BAD_CIPHERTEXT:
                raise InvalidCiphertext("wrapped key rejected by KMS") from None
            raise StorageUnavailable(f"KMS {operation} failed: {code or 'error'}") from None
        except BotoCoreError as exc:
            raise StorageUnavailable(f"KMS {operation} failed: {type(exc).__name__}") from None

    def wrap(self, dek: bytes, context: bytes) -> bytes:
        resp = self._call("encrypt", KeyId=self.key_id, Plaintext=dek,
                          EncryptionContext=self._context(context))
        return _encode_prefix(ALG_KMS, resp["KeyId"]) + resp["CiphertextBlob"]

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        alg, kid, _, payload = parse_wrapped(wrapped)
        if alg != ALG_KMS:
            raise StorageUnavailable("key wrapped by a different kind of KEK provider")
        resp = self._call("decrypt", KeyId=kid, CiphertextBlob=payload,
                          EncryptionContext=self._context(context))
        return bytes(resp["Plaintext"])

    def rewrap(self, wrapped: bytes, context: bytes) -> bytes:
        return self.wrap(self.unwrap(wrapped, context), context)

    def check(self) -> None:
        resp = self._call("describe_key", KeyId=self.key_id)
        if not resp.get("KeyMetadata", {}).get("Enabled", False):
            raise StorageUnavailable("KMS key is disabled")


def open_key_provider(data_dir: str | os.PathLike[str], env_kek: str | None,
                      kms_key_id: str | None, kms_endpoint_url: str | None) -> KeyProvider:
    """KMS if a key id is given, else the environment KEK(s), else ``<data_dir>/keys/kek.json``."""
    if kms_key_id and env_kek:
        raise ValueError("configure either a KMS key or an environment KEK, not both")
    if kms_key_id:
        # A key ARN names its region; otherwise boto3's usual configuration decides.
        arn = kms_key_id.split(":")
        region = arn[3] if len(arn) > 5 and arn[0] == "arn" and arn[3] else None
        return KmsKeyProvider(kms_key_id, kms_client(kms_endpoint_url, region))
    if env_kek:
        return EnvKeyProvider(env_kek)
    return LocalFileKeyProvider(Path(data_dir) / "keys" / "kek.json")
