"""The offline recipe of docs/checkpoint.md, run as written against a test server's documents."""
from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from services.authorizations import jws
from services.authorizations.offline import RevocationListError, verify_offline
from tests.support.world import World, hours

DOC = Path(__file__).resolve().parents[2] / "docs" / "checkpoint.md"


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


def documented_python() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def save_documents(client, directory: Path) -> tuple[dict, dict]:
    jwks = client.get("/.well-known/jwks.json").get_json()
    revocations = client.get("/v1/authorizations/revocations").get_json()
    (directory / "jwks.json").write_text(json.dumps(jwks))
    (directory / "revocations.json").write_text(json.dumps(revocations))
    return jwks, revocations


def run_documented(token: str, directory: Path, monkeypatch, capsys) -> str:
    monkeypatch.chdir(directory)
    exec(compile(documented_python(), str(DOC), "exec"), {"token": token})
    return capsys.readouterr().out


def test_documented_python_recipe(world, client, tmp_path, monkeypatch, capsys):
    _, case_id, _ = world.approved_case()
    travel = world.travel(case_id)
    save_documents(client, tmp_path)
    out = run_documented(travel["token"], tmp_path, monkeypatch, capsys)
    assert out.splitlines() == ["valid", "IVANOVA MARIIA PETROVNA 1971-04-02 L898902C3"]
    client.post(f"/v1/admin/authorizations/{travel['id']}/revoke", headers=world.officer,
                json={"reason": "lost phone"})
    out = run_documented(travel["token"], tmp_path, monkeypatch, capsys)
    assert out.splitlines()[0] == "valid"  # the saved list predates the revocation
    save_documents(client, tmp_path)
    out = run_documented(travel["token"], tmp_path, monkeypatch, capsys)
    assert out.splitlines() == ["revoked"]


def test_documented_command(world, client, tmp_path, app):
    _, case_id, _ = world.approved_case()
    good = world.travel(case_id)["token"]
    save_documents(client, tmp_path)
    runner = CliRunner()
    args = ["checkpoint", "verify-offline", "--jwks", str(tmp_path / "jwks.json"),
            "--revocations", str(tmp_path / "revocations.json")]
    result = runner.invoke(main, [*args, "--issuer", "https://kinpass.example", good])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["result"] == "valid" and answer["claims"]["kind"] == "travel"
    result = runner.invoke(main, [*args, good[:-3] + "AAA"])
    assert result.exit_code == 1 and json.loads(result.output)["result"] == "invalid"
    result = runner.invoke(main, [*args, "--issuer", "https://elsewhere.example", good])
    assert result.exit_code == 2  # neither the list nor the token is that issuer's
    (tmp_path / "revocations.json").write_text(json.dumps({"revoked": [], "jws": "x.y.z"}))
    result = runner.invoke(main, [*args, good])
    assert result.exit_code == 2


def test_offline_results_over_time(world, client):
    _, _, _, pickup = world.ready_pickup(starts_at=hours(1), ends_at=hours(3))
    jwks = client.get("/.well-known/jwks.json").get_json()
    revocations = client.get("/v1/authorizations/revocations").get_json()
    outcome = verify_offline(pickup["token"], jwks, revocations)
    assert outcome.result == "not_yet_valid" and outcome.claims["jti"] == pickup["id"]
    nbf = outcome.claims["nbf"]
    exp = outcome.claims["exp"]
    assert verify_offline(pickup["token"], jwks, revocations, now=nbf).result == "valid"
    assert verify_offline(pickup["token"], jwks, revocations, now=exp).result == "expired"
    assert verify_offline(pickup["token"], jwks, revocations, now=nbf).notes == [
        "single use: redeem online"]
    assert verify_offline("garbage", jwks, revocations).result == "invalid"


def test_revocation_list_must_be_signed_by_the_jwks(world, client):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _, case_id, _ = world.approved_case()
    token = world.travel(case_id)["token"]
    jwks = client.get("/.well-known/jwks.json").get_json()
    revocations = client.get("/v1/authorizations/revocations").get_json()
    kid = jwks["keys"][0]["kid"]
    forged = jws.sign({"iss": "https://kinpass.example", "iat": 1, "revoked": []},
                      Ed25519PrivateKey.generate(), kid=kid, typ="kinpass-revocations+jwt")
    for bad in ({**revocations, "jws": forged}, {"revoked": []}, {**revocations, "jws": token}):
        with pytest.raises(RevocationListError):
            verify_offline(token, jwks, bad)
    with pytest.raises(RevocationListError):
        verify_offline(token, {"keys": []}, revocations)
    # The unsigned copy beside the JWS is not trusted: editing it changes nothing.
    tampered = {**revocations, "revoked": [{"id": json.loads(
        jws.b64url_decode(token.split(".")[1]))["jti"], "revoked_at": "x"}]}
    assert verify_offline(token, jwks, tampered).result == "valid"


def test_a_long_revocation_list_is_read(world, client):
    from services.authorizations import signing_keys
    from services.core import unit_of_work

    _, case_id, _ = world.approved_case()
    token = world.travel(case_id)["token"]
    jwks = client.get("/.well-known/jwks.json").get_json()
    jti = json.loads(jws.b64url_decode(token.split(".")[1]))["jti"]
    revoked = [{"id": str(uuid.uuid4()), "revoked_at": "2026-03-02T10:15:00Z"}
               for _ in range(2000)] + [{"id": jti, "revoked_at": "2026-03-02T10:15:00Z"}]
    kid, key = signing_keys.active_signing_key()
    unit_of_work.commit()
    signed = jws.sign({"iss": "https://kinpass.example", "iat": 1, "revoked": revoked}, key,
                      kid=kid, typ="kinpass-revocations+jwt")
    assert len(signed) > jws.MAX_TOKEN_CHARS
    outcome = verify_offline(token, jwks, {"revoked": revoked, "jws": signed})
    assert outcome.result == "revoked" and outcome.revocations_issued_at == 1
