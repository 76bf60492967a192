"""The server's public keys for client-side encrypted uploads (docs/encryption.md)."""
from __future__ import annotations

from api.blueprint import Blueprint
from schemas.documents import EncryptionKeysOut
from services.documents.keyring import encryption_keys as public_encryption_keys

blp = Blueprint("encryption_keys", __name__, url_prefix="/v1",
                description="Keys for client-side encryption")


@blp.route("/encryption-keys", methods=["GET"])
@blp.response(200, EncryptionKeysOut)
def encryption_keys():
    """The server's keys for client-side encryption.

    Seal uploads to one of these (HPKE); see docs/encryption.md.
    """
    return {"keys": public_encryption_keys()}
