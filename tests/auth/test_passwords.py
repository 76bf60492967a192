"""argon2id hashing and the password policy, without an app."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from auth.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)


def test_a_hash_verifies_its_password_only():
    stored = hash_password("Kyiv-Reunion-2026")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "Kyiv-Reunion-2026")
    assert not verify_password(stored, "Kyiv-Reunion-2027")


def test_the_same_password_hashes_differently_each_time():
    assert hash_password("Kyiv-Reunion-2026") != hash_password("Kyiv-Reunion-2026")


@pytest.mark.parametrize("stored", [None, "", "not-a-hash", "$argon2id$v=19$broken"])
def test_no_hash_or_a_broken_one_never_verifies(stored):
    assert verify_password(stored, "Kyiv-Reunion-2026") is False


def test_the_dummy_hash_never_admits_its_own_password():
    assert not verify_password(None, "kinpass-timing-equaliser")


def test_weaker_parameters_ask_for_a_rehash():
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("x" * 10)
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("x" * 10))


@pytest.mark.parametrize(("password", "problem"), [
    ("a" * (MIN_LENGTH - 1), f"at least {MIN_LENGTH}"),
    ("a" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH}"),
    ("password", "too common"),
    ("PassWord", "too common"),
])
def test_the_policy_names_what_is_wrong(password, problem):
    assert problem in password_problem(password)


@pytest.mark.parametrize("password", ["a" * MIN_LENGTH, "Kyiv-Reunion-2026", "x" * MAX_LENGTH,
                                      "Мама-ждёт-сына-2026"])
def test_acceptable_passwords_pass(password):
    assert password_problem(password) is None
