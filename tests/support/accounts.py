"""Accounts as a client makes them: a relative through register/verify/login, staff through
the service (there is no public staff sign-up) and then a TOTP login."""
from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path

import pyotp

from auth.passwords import hash_password as _hash
from services.accounts import staff as accounts
from services.audit.events import SYSTEM
from services.core import unit_of_work
from storage.db import session as db
from storage.models.accounts import Account

PASSWORD = "Kyiv-Reunion-2026"


@cache
def hash_password(password: str) -> str:
    """argon2 once per password for the whole run: service tests make many accounts."""
    return _hash(password)


def outbox_messages(path: Path, to: str | None = None) -> list[dict]:
    """The messages the file notifier wrote, optionally only those to one contact."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [m for m in lines if to is None or m["to"] == to]


def register_relative(client, outbox, email: str, *, language: str = "ru",
                      password: str = PASSWORD) -> dict:
    """Register, verify with the code from ``outbox(email)``, log in; returns the tokens."""
    r = client.post("/v1/auth/register", json={
        "email": email, "password": password, "full_name": "Мария Иванова",
        "language": language})
    assert r.status_code == 202, r.get_json()
    code = outbox(email)[-1]["code"]
    assert client.post("/v1/auth/verify", json={"login": email, "code": code}).status_code == 200
    r = client.post("/v1/auth/login", json={"login": email, "password": password})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def create_staff(client, role: str, email: str) -> dict:
    """A staff account and its tokens: the created fields plus the login's tokens."""
    created = accounts.create_staff(email=email, full_name=role.title(), role=role, actor=SYSTEM)
    unit_of_work.commit()
    db.remove()
    otp = pyotp.TOTP(created["totp_secret"]).now()
    r = client.post("/v1/auth/login", json={"login": email, "password": created["password"],
                                            "otp": otp})
    assert r.status_code == 200, r.get_json()
    return {**created, **r.get_json()}


def add_account(role: str = "relative", *, email: str | None = None,
                language: str = "ru") -> Account:
    """An active account inserted directly, for service tests that need an actor."""
    account = Account(email=email or f"{role}-{uuid.uuid4().hex[:10]}@kinpass.example",
                      full_name=role.title(), role=role, language=language, status="active",
                      password_hash=hash_password(PASSWORD))
    db().add(account)
    db().flush()
    return account
