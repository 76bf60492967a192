"""HPKE (RFC 9180, base mode) suites that clients seal document DEKs with.

Two suites, both with HKDF-SHA256 and AES-256-GCM:

    name                               kem_id  kdf_id  aead_id  public key          enc
    X25519-SHA256-AES256GCM            0x0020  0x0001  0x0002   32 bytes            32
    MLKEM768X25519-SHA256-AES256GCM    0x647a  0x0001  0x0002   1216 = ML-KEM-768   1120
                                                                ek (1184) || X25519

The DEK is sealed with single-shot HPKE, ``info = "kinpass/kps1/sealed-dek" || doc id``
(16 raw bytes), no AAD; ``sealed`` is the 48-byte AEAD output (DEK and tag).

The server's keys for them: :mod:`storage.hpke_keys`.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from storage.domain_errors import InvalidCiphertext
from storage.envelope import DEK_SIZE, doc_id_bytes
from storage.vocabulary import CiphertextFault as Fault

INFO_LABEL = b"kinpass/kps1/sealed-dek"
XWING_SEED_SIZE = 32
XWING_EXPANDED_SIZE = 96


def _hybrid_halves(raw: bytes) -> tuple[mlkem.MLKEM768PrivateKey, x25519.X25519PrivateKey]:
    """The ML-KEM-768 and X25519 private keys of an X-Wing private key
    (draft-connolly-cfrg-xwing-kem-06, expandDecapsulationKey): the 32-byte seed expands by
    SHAKE256 to 96 bytes, the ML-KEM-768 seed d || z then the X25519 scalar. Keys made
    before the seed form are kept expanded (96 bytes) and still load."""
    if len(raw) == XWING_SEED_SIZE:
        raw = hashlib.shake_256(raw).digest(XWING_EXPANDED_SIZE)
    if len(raw) != XWING_EXPANDED_SIZE:
        raise ValueError("an X-Wing private key is a 32-byte seed")
    return (mlkem.MLKEM768PrivateKey.from_seed_bytes(raw[:64]),
            x25519.X25519PrivateKey.from_private_bytes(raw[64:]))
SEALED_DEK_SIZE = DEK_SIZE + 16

PrivateKey = x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey
PublicKey = x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey


@dataclass(frozen=True)
class HpkeSuite:
    name: str
    kid_prefix: str
    kem_id: int
    kdf_id: int
    aead_id: int
    public_key_size: int
    enc_size: int

    @property
    def wire_id(self) -> bytes:
        """kem_id || kdf_id || aead_id, as in the sealed container header."""
        return struct.pack(">HHH", self.kem_id, self.kdf_id, self.aead_id)

    def hpke_suite(self) -> hpke.Suite:
        kem = hpke.KEM.X25519 if self is X25519_SUITE else hpke.KEM.MLKEM768_X25519
        return hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

    def generate(self) -> tuple[PrivateKey, bytes]:
        """A new private key and its serialization: the X25519 scalar, or the 32-byte X-Wing
        seed for the hybrid suite."""
        if self is X25519_SUITE:
            x = x25519.X25519PrivateKey.generate()
            return x, x.private_bytes_raw()
        seed = os.urandom(XWING_SEED_SIZE)
        return self.load_private(seed), seed

    def load_private(self, raw: bytes) -> PrivateKey:
        if self is X25519_SUITE:
            return x25519.X25519PrivateKey.from_private_bytes(raw)
        pq, x = _hybrid_halves(raw)
        return hpke.MLKEM768X25519PrivateKey(pq, x)

    def public_bytes(self, raw_private: bytes) -> bytes:
        if self is X25519_SUITE:
            return x25519.X25519PrivateKey.from_private_bytes(raw_private).public_key() \
                .public_bytes_raw()
        pq, x = _hybrid_halves(raw_private)
        return pq.public_key().public_bytes_raw() + x.public_key().public_bytes_raw()

    def load_public(self, raw: bytes) -> PublicKey:
        if len(raw) != self.public_key_size:
            raise ValueError(f"{self.name} public key must be {self.public_key_size} bytes")
        if self is X25519_SUITE:
            return x25519.X25519PublicKey.from_public_bytes(raw)
        return hpke.MLKEM768X25519PublicKey(mlkem.MLKEM768PublicKey.from_public_bytes(raw[:1184]),
                                            x25519.X25519PublicKey.from_public_bytes(raw[1184:]))


X25519_SUITE = HpkeSuite("X25519-SHA256-AES256GCM", "x25519", 0x0020, 0x0001, 0x0002, 32, 32)
MLKEM768_X25519_SUITE = HpkeSuite("MLKEM768X25519-SHA256-AES256GCM", "mlkem768x25519",
                                  0x647A, 0x0001, 0x0002, 1216, 1120)
SUITES = {s.name: s for s in (X25519_SUITE, MLKEM768_X25519_SUITE)}
SUITES_BY_WIRE_ID = {s.wire_id: s for s in SUITES.values()}


def get_suite(suite: HpkeSuite | str) -> HpkeSuite:
    if isinstance(suite, HpkeSuite):
        return suite
    try:
        return SUITES[suite]
    except KeyError:
        raise ValueError(f"unknown HPKE suite {suite!r}") from None


def sealed_dek_info(doc_id: uuid.UUID | bytes) -> bytes:
    return INFO_LABEL + doc_id_bytes(doc_id)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("invalid base64url") from None


def seal_dek(public_key_b64: str, suite: HpkeSuite | str, dek: bytes,
             doc_id: uuid.UUID | bytes) -> tuple[bytes, bytes]:
    """Client side: seal ``dek`` to a server public key. Returns (enc, sealed)."""
    s = get_suite(suite)
    if len(dek) != DEK_SIZE:
        raise ValueError("DEK must be 32 bytes")
    public_key = s.load_public(b64url_decode(public_key_b64))
    out = s.hpke_suite().encrypt(dek, public_key, info=sealed_dek_info(doc_id))
    return out[:s.enc_size], out[s.enc_size:]


def open_with_private_key(suite: HpkeSuite | str, private_key: PrivateKey, enc: bytes,
                          sealed: bytes, doc_id: uuid.UUID | bytes) -> bytes:
    s = get_suite(suite)
    if len(enc) != s.enc_size or len(sealed) != SEALED_DEK_SIZE:
        raise InvalidCiphertext("sealed DEK has the wrong size", reason=Fault.BAD_HEADER)
    try:
        return s.hpke_suite().decrypt(enc + sealed, private_key, info=sealed_dek_info(doc_id))
    except InvalidTag:
        raise InvalidCiphertext("sealed DEK failed to open", reason=Fault.BAD_SEAL) from None
