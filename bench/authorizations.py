"""Authorizations: issuance through the API and offline verification, next to bare Ed25519.

    .venv/bin/python -m bench.authorizations [--issues 300] [--verifies 20000]
    KINPASS_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/kinpass_bench .venv/bin/python -m bench.authorizations

Issuance: POST /v1/admin/cases/{id}/authorizations (travel) through the Flask test client,
one request after another — role check, case lock, re-issue revocation, claims, EdDSA
signature, insert, audit chain, commit. Baseline: Ed25519 signing of the same payload bytes.
Offline verification: services.authorizations.offline.OfflineVerifier.verify (JWS parse, EdDSA
verify, claim checks, revocation lookup) with the revocation list those issuances left;
baseline: Ed25519 verification of the same signature. Online verification
(POST /v1/checkpoint/verify) is printed for scale.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, timedelta

import pyotp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from api.app import create_app
from bench.database import bench_database
from services.accounts import staff as accounts
from services.audit.events import SYSTEM
from services.authorizations import jws
from services.authorizations.offline import OfflineVerifier
from services.core import unit_of_work
from services.documents.metadata import seal_metadata
from services.registry.prisoners import create_prisoner
from storage.db import session as db, utcnow
from storage.models import Account, Base, Case, CaseStatusChange, Document

MRZ = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def staff_headers(client, role: str) -> dict:
    created = accounts.create_staff(email=f"{role}-{uuid.uuid4().hex[:6]}@bench.example",
                                    full_name=role, role=role, actor=SYSTEM)
    unit_of_work.commit()
    db.remove()
    r = client.post("/v1/auth/login", json={"login": created["email"],
                                            "password": created["password"],
                                            "otp": pyotp.TOTP(created["totp_secret"]).now()})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def approved_case() -> uuid.UUID:
    now = utcnow()
    relative = Account(email=f"m-{uuid.uuid4().hex[:6]}@bench.example", full_name="Мария",
                       role="relative", language="ru", status="active", password_hash="x")
    db().add(relative)
    prisoner = create_prisoner(actor=SYSTEM, registry_number=f"B-{uuid.uuid4().hex[:8]}",
                               surname="Иванов", given_name="Алексей",
                               birth_date=date(2001, 9, 14))
    db().flush()
    case = Case(account_id=relative.id, status="approved", relationship="mother",
                applicant={"surname": "Иванова", "given_name": "Мария",
                           "patronymic": "Петровна", "birth_date": "1971-04-02"},
                soldier={"surname": "Иванов", "given_name": "Алексей",
                         "birth_date": "2001-09-14"},
                prisoner_id=prisoner.id, created_at=now, updated_at=now, submitted_at=now)
    db().add(case)
    db().flush()
    db().add(CaseStatusChange(case_id=case.id, seq=1, status="approved", at=now))
    document = Document(case_id=case.id, kind="passport", content_type="image/jpeg", size=1,
                        sha256="0" * 64, status="stored", uploaded_at=now)
    seal_metadata(document, mrz=MRZ, fields=None)
    db().add(document)
    unit_of_work.commit()
    case_id = case.id
    db.remove()
    return case_id


def quiet_app(data_dir: str):
    """The app on the bench's database, its schema laid, its per-request logs quiet; with
    the database's URL."""
    url = bench_database(data_dir)
    app = create_app({"data_dir": data_dir, "database_url": url, "notifier": "log",
                      "env": "development"})
    Base.metadata.create_all(app.extensions["kinpass"].engine)
    for name in ("kinpass.access", "kinpass.notifier", "werkzeug"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return app, url


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def bench_issuance(client, officer: dict, case_id: uuid.UUID, count: int) -> tuple[
        float, float, list[str]]:
    start = utcnow().astimezone(UTC)
    body = {"kind": "travel", "valid_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "valid_until": (start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "entry_point": "Sumy"}
    path = f"/v1/admin/cases/{case_id}/authorizations"
    latencies, tokens = [], []
    began = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        r = client.post(path, json=body, headers=officer)
        latencies.append(time.perf_counter() - t0)
        assert r.status_code == 201, r.get_json()
        tokens.append(r.get_json()["token"])
    elapsed = time.perf_counter() - began
    return _rate(count, elapsed), statistics.median(latencies) * 1000, tokens


def bench_raw_sign(token: str, count: int) -> float:
    key = Ed25519PrivateKey.generate()
    message = token.rsplit(".", 1)[0].encode()
    began = time.perf_counter()
    for _ in range(count):
        key.sign(message)
    return _rate(count, time.perf_counter() - began)


def bench_offline(verifier: OfflineVerifier, token: str, count: int) -> float:
    assert verifier.verify(token).result == "valid"
    began = time.perf_counter()
    for _ in range(count):
        verifier.verify(token)
    return _rate(count, time.perf_counter() - began)


def bench_raw_verify(verifier: OfflineVerifier, token: str, count: int) -> float:
    header = jws.read_header(token)
    key = verifier.keys[header["kid"]]
    head, body, signature = token.split(".")
    message, raw = f"{head}.{body}".encode(), jws.b64url_decode(signature)
    began = time.perf_counter()
    for _ in range(count):
        key.verify(raw, message)
    return _rate(count, time.perf_counter() - began)


def bench_online(client, checkpoint: dict, token: str, count: int) -> float:
    began = time.perf_counter()
    for _ in range(count):
        r = client.post("/v1/checkpoint/verify", json={"token": token}, headers=checkpoint)
        assert r.get_json()["result"] == "valid"
    return _rate(count, time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=300)
    parser.add_argument("--verifies", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        app, url = quiet_app(data_dir)
        client = app.test_client()
        officer, checkpoint = staff_headers(client, "officer"), staff_headers(client, "checkpoint")
        case_id = approved_case()
        database = make_url(url).get_backend_name()
        print(f"database: {database}, {args.issues} issuances, {args.verifies} verifications")

        issue_rate, p50, tokens = bench_issuance(client, officer, case_id, args.issues)
        sign_rate = bench_raw_sign(tokens[-1], args.verifies)
        print(f"issuance via API         {issue_rate:10.0f} /s   (p50 {p50:.2f} ms, "
              f"token {len(tokens[-1])} chars)")
        print(f"raw Ed25519 sign         {sign_rate:10.0f} /s")

        jwks = client.get("/.well-known/jwks.json").get_json()
        revocations = client.get("/v1/authorizations/revocations").get_json()
        issuer = app.extensions["kinpass"].settings.issuer
        verifier = OfflineVerifier(jwks, revocations, issuer=issuer)
        offline_rate = bench_offline(verifier, tokens[-1], args.verifies)
        raw_rate = bench_raw_verify(verifier, tokens[-1], args.verifies)
        print(f"offline verify           {offline_rate:10.0f} /s   "
              f"({len(revocations['revoked'])} revoked in the list)")
        print(f"raw Ed25519 verify       {raw_rate:10.0f} /s")
        began = time.perf_counter()
        OfflineVerifier(jwks, revocations, issuer=issuer)
        print(f"revocation list check    {(time.perf_counter() - began) * 1000:10.2f} ms "
              f"(once per refresh)")
        online_rate = bench_online(client, checkpoint, tokens[-1], min(500, args.verifies))
        print(f"online verify via API    {online_rate:10.0f} /s")


if __name__ == "__main__":
    main()
