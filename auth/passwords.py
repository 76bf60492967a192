"""argon2id hashing (ASVS parameters) and the password policy."""
from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH, MAX_LENGTH = 8, 128

hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Stored where no password may ever match (an erased account): not an argon2 hash at all.
UNUSABLE_HASH = "!unusable"

# Verifying against this keeps "unknown login" as slow as "wrong password".
_DUMMY_HASH = hasher.hash("kinpass-timing-equaliser")


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"Must be at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Must be at most {MAX_LENGTH} characters."
    if password.lower() in _common():
        return "This password is too common."
    return None


def hash_password(password: str) -> str:
    return hasher.hash(password)


def spend_hash_work() -> None:
    """One password hash's worth of work, for the paths that have no password to hash, so
    that every path of a request costs the same whatever the account's state."""
    hasher.hash(secrets.token_urlsafe(16))


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher.check_needs_rehash(stored_hash)
