"""RFC 6238 codes: the current step and one either side, nothing else."""
from __future__ import annotations

import base64

import pyotp
import pytest

from auth.totp import STEP, matching_step, new_secret, provisioning_uri

NOW = 1_800_000_000.0


@pytest.fixture
def secret() -> str:
    return new_secret()


def test_secrets_carry_160_bits(secret):
    assert len(base64.b32decode(secret)) == 20
    assert new_secret() != secret


@pytest.mark.parametrize("drift", [-1, 0, 1])
def test_one_step_of_drift_either_way_is_accepted(secret, drift):
    step = int(NOW // STEP) + drift
    code = pyotp.TOTP(secret).generate_otp(step)
    assert matching_step(secret, code, now=NOW) == step


@pytest.mark.parametrize("drift", [-3, -2, 2, 3])
def test_codes_further_away_are_refused(secret, drift):
    code = pyotp.TOTP(secret).generate_otp(int(NOW // STEP) + drift)
    neighbours = {pyotp.TOTP(secret).generate_otp(int(NOW // STEP) + d) for d in (-1, 0, 1)}
    if code not in neighbours:  # a 6-digit collision with a neighbour is a real acceptance
        assert matching_step(secret, code, now=NOW) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12345a", " 123456", None, 123456])
def test_malformed_codes_are_refused(secret, code):
    assert matching_step(secret, code, now=NOW) is None


def test_the_provisioning_uri_names_issuer_and_account(secret):
    uri = provisioning_uri(secret, "officer@kinpass.example")
    assert uri.startswith("otpauth://totp/KinPass:officer%40kinpass.example?")
    assert f"secret={secret}" in uri and "issuer=KinPass" in uri
