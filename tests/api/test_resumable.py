"""tus 1.0.0 uploads spoken by hand: the protocol's answers, the PUT's checks at the last
byte, and nothing of a partial upload in plaintext — on the local store and on S3."""
from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from services.core import runtime, unit_of_work
from services.maintenance.gc import collect_garbage
from storage.db import session as db, utcnow
from storage.envelope import decrypt_stream
from storage.models.uploads import ResumableUpload
from storage.sealed import seal_stream
from tests.support.documents import (
    MARKER,
    app_on_store,
    declare,
    document_row,
    empty_local_store,
    jpeg,
    open_case,
    pdf,
)
from tests.support.http import bearer
from tests.support.tus import CHUNK_TYPE, TUS, create, head, patch, send_all, tus_headers

SEGMENT = 64 * 1024


@pytest.fixture(autouse=True)
def _no_objects(app):
    empty_local_store(app)


@pytest.fixture(params=["local", "s3"])
def store(request, base_config):
    return app_on_store(request, base_config, "kinpass-tus")


@pytest.fixture
def web(store):
    return store.test_client()


@pytest.fixture
def relative(register_relative):
    return register_relative()[2]["access_token"]


def _declared(web, relative, data: bytes, **extra) -> dict:
    case_id = open_case(web, relative)
    r = declare(web, relative, case_id, data, **extra)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _plaintext_of(document_id: str) -> bytes:
    row = document_row(document_id)
    rt = runtime.get()
    dek = rt.keys.unwrap(row.wrapped_dek, row.id.bytes)
    return b"".join(decrypt_stream(rt.objects.open_stream(row.object_key), dek, row.id))


def test_options_lists_the_protocol(web, relative):
    doc = _declared(web, relative, jpeg(10_000))
    r = web.options(doc["upload"]["tus_url"])
    assert r.status_code == 204
    assert r.headers["Tus-Version"] == "1.0.0"
    assert set(r.headers["Tus-Extension"].split(",")) == {
        "creation", "termination", "checksum", "expiration"}
    assert int(r.headers["Tus-Max-Size"]) > 20 * 1024 * 1024
    assert r.headers["Tus-Checksum-Algorithm"] == "sha256"


def test_server_encrypted_upload_in_chunks_is_stored(web, relative):
    data = jpeg(700_000)
    doc = _declared(web, relative, data)
    r = send_all(web, relative, doc, data, chunk=200_000)
    assert r.status_code == 204, r.get_data()
    assert r.headers["Upload-Offset"] == str(len(data))
    assert r.headers["Tus-Resumable"] == "1.0.0"
    assert document_row(doc["id"]).status == "stored"
    assert _plaintext_of(doc["id"]) == data
    assert web.get(f"/v1/documents/{doc['id']}", headers=bearer(relative)).get_json()[
        "status"] == "stored"


def test_client_sealed_upload_in_chunks_is_stored(web, relative):
    data = pdf(300_000)
    doc = _declared(web, relative, data, content_type="application/pdf", encryption="client")
    key = web.get("/v1/encryption-keys").get_json()["keys"][0]
    sealed = b"".join(seal_stream([data], key["public_key"], key["suite"], key["kid"],
                                  uuid.UUID(doc["id"])))
    r = send_all(web, relative, doc, sealed, chunk=100_001)
    assert r.status_code == 204, r.get_data()
    assert document_row(doc["id"]).status == "stored"
    assert _plaintext_of(doc["id"]) == data


def test_the_durable_offset_is_the_last_whole_segment(web, relative):
    data = jpeg(300_000)
    doc = _declared(web, relative, data)
    location = create(web, relative, doc, len(data)).headers["Location"]
    r = patch(web, relative, location, 0, data[:100_000])
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(SEGMENT)
    r = head(web, relative, location)
    assert r.status_code == 200 and r.headers["Upload-Offset"] == str(SEGMENT)
    assert r.headers["Upload-Length"] == str(len(data)) and "Upload-Expires" in r.headers
    r = patch(web, relative, location, SEGMENT, data[SEGMENT:])
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(data))
    assert _plaintext_of(doc["id"]) == data


def test_nothing_of_a_partial_upload_is_plaintext(web, store, relative):
    data = MARKER * 40_000  # every segment holds the marker
    data = b"\xff\xd8\xff\xe0" + data
    doc = _declared(web, relative, data)
    location = create(web, relative, doc, len(data)).headers["Location"]
    assert patch(web, relative, location, 0, data[:SEGMENT * 3 + 5]).status_code == 204
    objects = store.extensions["kinpass"].runtime.objects
    if hasattr(objects, "root"):
        kept = b"".join(p.read_bytes() for p in Path(objects.root).rglob("*") if p.is_file())
    else:
        kept = b"".join(b"".join(objects.open_stream(k)) for k in objects.iter_keys())
    assert len(kept) >= SEGMENT * 3 and MARKER not in kept


def test_protocol_refusals(web, relative, register_relative):
    data = jpeg(200_000)
    doc = _declared(web, relative, data)
    r = web.post(doc["upload"]["tus_url"], headers={**bearer(relative), "Upload-Length": "1"})
    assert r.status_code == 412 and r.get_json()["code"] == "unsupported_version"
    assert r.headers["Tus-Version"] == "1.0.0"
    assert create(web, relative, doc, len(data) + 1).get_json()["code"] == "size_mismatch"
    assert create(web, relative, doc, 10**12).status_code == 413
    location = create(web, relative, doc, len(data)).headers["Location"]
    assert location.startswith("http") and "/v1/uploads/" in location
    r = patch(web, relative, location, 5, data[:10])
    assert r.status_code == 409 and r.get_json()["code"] == "offset_mismatch"
    r = patch(web, relative, location, 0, data[:SEGMENT], checksum=hashlib.sha256(b"x").digest())
    assert r.status_code == 460 and r.get_json()["code"] == "checksum_mismatch"
    assert head(web, relative, location).headers["Upload-Offset"] == "0"
    r = web.patch(location, data=data[:10], content_type="application/octet-stream",
                  headers=tus_headers(relative, **{"Upload-Offset": "0"}))
    assert r.status_code == 415
    r = web.patch(location, data=data[:10], content_type=CHUNK_TYPE,
                  headers=tus_headers(relative, **{"Upload-Offset": "0",
                                                   "Upload-Checksum": "md5 AAAA"}))
    assert r.status_code == 400
    other = register_relative()[2]["access_token"]
    assert head(web, other, location).status_code == 404
    assert patch(web, other, location, 0, data[:10]).status_code == 404
    r = web.delete(location, headers=tus_headers(relative))
    assert r.status_code == 204
    assert head(web, relative, location).status_code == 404


def test_an_expired_upload_is_gone(web, relative):
    data = jpeg(100_000)
    doc = _declared(web, relative, data)
    location = create(web, relative, doc, len(data)).headers["Location"]
    db.remove()
    row = db().get(ResumableUpload, uuid.UUID(location.rsplit("/", 1)[1]))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db().commit()
    db.remove()
    assert head(web, relative, location).status_code == 410
    assert patch(web, relative, location, 0, data).get_json()["code"] == "gone"


def test_the_last_patch_runs_the_put_checks(web, relative):
    data = jpeg(150_000)
    case_id = open_case(web, relative)
    doc = declare(web, relative, case_id, data, sha256="0" * 64).get_json()
    r = send_all(web, relative, doc, data, chunk=SEGMENT)
    assert r.status_code == 422 and r.get_json()["code"] == "checksum_mismatch"
    assert document_row(doc["id"]).status == "pending_upload"
    png = declare(web, relative, case_id, data, content_type="image/png").get_json()
    r = send_all(web, relative, png, data)
    assert r.status_code == 415 and r.get_json()["code"] == "unsupported_media_type"
    # the document still takes a plain PUT
    r = web.put(doc["upload"]["url"], data=data, content_type="image/jpeg",
                headers=bearer(relative))
    assert r.status_code == 422


def test_a_bad_sealed_container_is_refused_at_the_last_byte(web, relative):
    data = pdf(100_000)
    doc = _declared(web, relative, data, content_type="application/pdf", encryption="client")
    key = web.get("/v1/encryption-keys").get_json()["keys"][0]
    sealed = bytearray(b"".join(seal_stream([data], key["public_key"], key["suite"],
                                            key["kid"], uuid.UUID(doc["id"]))))
    sealed[-5] ^= 1
    r = send_all(web, relative, doc, bytes(sealed))
    assert r.status_code == 422 and r.get_json()["code"] == "invalid_ciphertext"
    assert document_row(doc["id"]).status == "pending_upload"
    assert TUS["Tus-Resumable"] == r.headers["Tus-Resumable"]


def _set_expiry(location: str, when) -> None:
    db.remove()
    row = db().get(ResumableUpload, uuid.UUID(location.rsplit("/", 1)[1]))
    row.expires_at = when
    db().commit()
    db.remove()


def test_gc_removes_expired_partial_uploads(web, store, relative):
    objects = store.extensions["kinpass"].runtime.objects
    part = getattr(objects, "part_size", SEGMENT * 4)
    data = jpeg(part + 3 * SEGMENT)
    expired = _declared(web, relative, data)
    live = _declared(web, relative, data)
    locations = []
    for doc in (expired, live):
        location = create(web, relative, doc, len(data)).headers["Location"]
        assert patch(web, relative, location, 0, data[:part + SEGMENT]).status_code == 204
        locations.append(location)
    _set_expiry(locations[0], utcnow() - timedelta(seconds=1))

    def in_flight() -> int:
        if hasattr(objects, "root"):
            return len(list((Path(objects.root) / ".uploads").iterdir()))
        listed = objects._s3.list_multipart_uploads(Bucket=objects.bucket)
        return len(listed.get("Uploads", []))

    assert in_flight() == 2
    later = utcnow() + timedelta(hours=2)  # past the age at which dead writes are swept
    report = collect_garbage(now=later)
    unit_of_work.commit()
    db.remove()
    assert report["expired_resumable_uploads"] == 1
    assert in_flight() == 1
    assert head(web, relative, locations[0]).status_code == 404
    r = head(web, relative, locations[1])
    assert r.status_code == 200 and int(r.headers["Upload-Offset"]) == part + SEGMENT
    r = patch(web, relative, locations[1], part + SEGMENT, data[part + SEGMENT:])
    assert r.status_code == 204 and _plaintext_of(live["id"]) == data


def test_lengths_the_upload_cannot_take(web, relative):
    data = pdf(50_000)
    doc = _declared(web, relative, data, content_type="application/pdf", encryption="client")
    location = create(web, relative, doc, 0).headers["Location"]
    r = patch(web, relative, location, 0, b"")
    assert r.status_code == 422 and r.get_json()["reason"] == "truncated"
    assert document_row(doc["id"]).status == "pending_upload"
    location = create(web, relative, doc, 100).headers["Location"]
    r = patch(web, relative, location, 0, b"\x00" * 101)
    assert r.status_code == 413 and head(web, relative, location).headers["Upload-Offset"] == "0"
    r = web.post(doc["upload"]["tus_url"], headers=tus_headers(relative, **{
        "Upload-Length": "-5"}))
    assert r.status_code == 400 and r.get_json()["code"] == "validation_error"
    r = web.post(doc["upload"]["tus_url"], headers=tus_headers(relative, **{
        "Upload-Defer-Length": "1"}))
    assert r.status_code == 400


def test_delete_ends_the_upload_and_what_it_kept(web, store, relative):
    objects = store.extensions["kinpass"].runtime.objects
    part = getattr(objects, "part_size", SEGMENT * 4)
    data = jpeg(part + 3 * SEGMENT)
    doc = _declared(web, relative, data)
    location = create(web, relative, doc, len(data)).headers["Location"]
    assert patch(web, relative, location, 0, data[:part + SEGMENT]).status_code == 204

    def kept() -> int:
        if hasattr(objects, "root"):
            return len(list((Path(objects.root) / ".uploads").iterdir()))
        uploads = objects._s3.list_multipart_uploads(Bucket=objects.bucket).get("Uploads", [])
        return len(uploads) + len(list(objects.iter_keys("uploads/")))

    assert kept() == (1 if hasattr(objects, "root") else 2)  # S3: the multipart and a tail
    assert web.delete(location, headers=tus_headers(relative)).status_code == 204
    assert kept() == 0
    assert document_row(doc["id"]).status == "pending_upload"
