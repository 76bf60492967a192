"""`kinpass keys rotate --kek` re-wraps every key the server keeps, so the old KEK can be
removed from the keyring: documents (content and metadata), HPKE, authorization-signing and
audit checkpoint keys, staff TOTP secrets, the shared HMAC key and the key sealing
authorization tokens all still work."""
from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.accounts.staff import create_staff
from services.audit.events import SYSTEM, checkpoint_now, searchable_hash
from services.audit.reading import verify_log
from services.authorizations import jws, signing_keys
from services.authorizations.offline import TOKEN_TYPE
from services.authorizations.sealing import seal_token
from services.cases import states as case_states
from services.core import unit_of_work
from services.documents import keyring, operations as documents
from services.documents.metadata import document_metadata
from services.documents.numbers import document_number_hmac
from services.maintenance.key_rotation import rotate_kek
from storage.db import session as db, utcnow
from storage.domain_errors import StorageUnavailable
from storage.hpke_suites import seal_dek
from storage.keys import replace_private_file, wrapped_kid
from storage.models import (
    Account,
    AuditSigningKey,
    Authorization,
    Case,
    Document,
    HpkeKey,
    ServiceSecret,
    SigningKey,
)
from tests.support.documents import CASE, jpeg, sha

FIELDS = {"document_number": "4512 345678", "surname": "Иванова", "given_name": "Мария"}
REASON = "identity check for the handover"
TRAVEL_TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJob2xkZXIiOiJMODk4OTAyQzMifQ.c2lnbmF0dXJl"  # nosec B105


def _commit():
    unit_of_work.commit()
    db.remove()


def _populate(data: bytes) -> dict:
    """Under the first KEK: a staff account, a document with content and metadata, the HMAC
    key, a signed audit checkpoint, a signing key and the HPKE keys."""
    staff = create_staff(email="officer@kinpass.example", full_name="Officer", role="officer",
                         actor=SYSTEM)
    relative = Account(id=uuid.uuid4(), email="mother@example.org", full_name="Мария",
                       role="relative", language="ru", status="active", password_hash="-")
    db().add(relative)
    case = Case(account_id=relative.id, relationship=CASE["relationship"],
                applicant=dict(CASE["applicant"]), soldier=dict(CASE["soldier"]))
    db().add(case)
    db().flush()
    document = documents.add_document(
        case_id=case.id, account=relative, kind="internal_passport", content_type="image/jpeg",
        size=len(data), sha256=sha(data), fields=FIELDS)
    ids = {"staff": staff["id"], "totp": staff["totp_secret"], "relative": relative.id,
           "case": case.id, "document": document.id}
    _commit()
    documents.receive_content(ids["document"], db().get_one(Account, ids["relative"]),
                              documents.Upload("image/jpeg", len(data), [data]))
    _commit()
    case_states.transition(db().get_one(Case, ids["case"]), "submitted")
    ids["kid"] = signing_keys.active_signing_key()[0]
    travel = Authorization(id=uuid.uuid4(), case_id=ids["case"], kind="travel",
                           valid_from=utcnow(), valid_until=utcnow() + timedelta(days=1),
                           kid=ids["kid"])
    seal_token(travel, TRAVEL_TOKEN)
    db().add(travel)
    ids["authorization"] = travel.id
    ids["hash"] = searchable_hash(FIELDS["document_number"])
    ids["server_key"] = keyring.encryption_keys()[0]
    _commit()
    ids["checkpoint_kid"] = checkpoint_now(SYSTEM).kid
    _commit()
    row = db().get_one(Document, ids["document"])
    ids["number_hmac"], ids["old_wrapped_dek"] = row.number_hmac, row.wrapped_dek
    db.remove()
    return ids


def _wrapped_blobs() -> list[bytes]:
    blobs = [
        *db().execute(select(Document.wrapped_dek)).scalars(),
        *db().execute(select(Document.meta_key_wrapped)).scalars(),
        *db().execute(select(HpkeKey.private_key_wrapped)).scalars(),
        *db().execute(select(SigningKey.private_key_wrapped)).scalars(),
        *db().execute(select(AuditSigningKey.private_wrapped)).scalars(),
        *db().execute(select(Account.totp_secret_wrapped)).scalars(),
        *db().execute(select(ServiceSecret.wrapped)).scalars(),
    ]
    db.remove()
    return [blob for blob in blobs if blob is not None]


def _drop_retired_keks(data_dir: str) -> None:
    path = Path(data_dir) / "keys" / "kek.json"
    keyring = json.loads(path.read_text())
    keyring["keys"] = {keyring["active"]: keyring["keys"][keyring["active"]]}
    replace_private_file(path, json.dumps(keyring).encode())


def _kek() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.mark.parametrize("provider", ["keyring file", "environment"])
def test_everything_works_once_the_old_kek_is_gone(deployment, monkeypatch, provider):
    old, new = _kek(), _kek()
    first = deployment.start(**({"kek": f"old:{old}"} if provider == "environment" else {}))
    pepper = first.pepper
    data = jpeg(50_000)
    ids = _populate(data)
    old_kid = first.keys.active_kid

    rotating = deployment.start(**({"kek": f"new:{new},old:{old}"}
                                   if provider == "environment" else {}))
    result = rotate_kek(SYSTEM)
    _commit()
    assert result["kid"] != old_kid
    assert result["data_keys"] == result["metadata_keys"] == 1
    assert result["hpke_keys"] == 2 and result["signing_keys"] == 1
    assert result["audit_keys"] == result["totp_secrets"] == 1
    assert result["service_secrets"] == 2  # the HMAC key and the authorization key
    assert {wrapped_kid(blob) for blob in _wrapped_blobs()} == {rotating.keys.active_kid}

    if provider == "environment":
        after = deployment.start(kek=f"new:{new}")
    else:
        _drop_retired_keks(deployment.data_dir)
        after = deployment.start()
    monkeypatch.setattr(signing_keys, "_private_cache", {})
    with pytest.raises(StorageUnavailable):  # the old KEK is really gone
        after.keys.unwrap(ids["old_wrapped_dek"], ids["document"].bytes)

    officer = db().get_one(Account, ids["staff"])
    content = documents.read_content(ids["document"], officer, REASON)
    assert b"".join(content.chunks) == data
    _commit()
    assert document_metadata(db().get_one(Document, ids["document"])).fields == FIELDS
    assert db().get_one(Authorization, ids["authorization"]).token == TRAVEL_TOKEN

    assert after.pepper == pepper
    assert searchable_hash(FIELDS["document_number"]) == ids["hash"]
    assert document_number_hmac(FIELDS["document_number"]) == ids["number_hmac"]

    wrapped_totp = db().get_one(Account, ids["staff"]).totp_secret_wrapped
    assert after.keys.unwrap(wrapped_totp, b"totp:" + ids["staff"].bytes).decode() == ids["totp"]

    kid, private = signing_keys.active_signing_key()
    assert kid == ids["kid"]
    token = jws.sign({"jti": "after-rotation"}, private, kid=kid, typ=TOKEN_TYPE)
    assert jws.verify(token, signing_keys.verification_keys(), typ=TOKEN_TYPE) == (
        kid, {"jti": "after-rotation"})

    server_key, dek, doc_id = ids["server_key"], os.urandom(32), uuid.uuid4()
    enc, sealed = seal_dek(server_key["public_key"], server_key["suite"], dek, doc_id)
    assert keyring.hpke_keyring().open_sealed_dek(
        server_key["suite"], server_key["kid"], enc, sealed, doc_id) == dek
    _commit()

    checkpoint = checkpoint_now(SYSTEM)
    _commit()
    assert checkpoint.kid == ids["checkpoint_kid"]
    report = verify_log(SYSTEM)
    _commit()
    assert report.ok


def test_a_rerun_skips_what_is_already_under_the_new_kek(deployment):
    old, new = _kek(), _kek()
    deployment.start(kek=f"old:{old}")
    _populate(jpeg(10_000))
    deployment.start(kek=f"new:{new},old:{old}")
    first = rotate_kek(SYSTEM)
    _commit()
    again = rotate_kek(SYSTEM)
    _commit()
    counted = ("data_keys", "metadata_keys", "signing_keys", "audit_keys", "totp_secrets")
    assert all(first[name] == 1 for name in counted) and first["service_secrets"] == 2
    assert all(again[name] == 0 for name in (*counted, "service_secrets"))
