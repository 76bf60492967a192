"""The offline recipe of docs/checkpoint.md, run as written against a test server's documents."""
from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from services.authorizations import jws, signing_keys
from services.authorizations.offline import OfflineVerifier, RevocationListError, verify_offline
from services.core import unit_of_work
from tests.support.world import World, hours

DOC = Path(__file__).resolve().parents[2] / "docs" / "checkpoint.md"
ISSUER = "https://kinpass.example"


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
    result = runner.invoke(main, [*args, "--issuer", ISSUER, good[:-3] + "AAA"])
    assert result.exit_code == 1 and json.loads(result.output)["result"] == "invalid"
    result = runner.invoke(main, [*args, "--issuer", "https://elsewhere.example", good])
    assert result.exit_code == 2  # neither the list nor the token is that issuer's
    (tmp_path / "revocations.json").write_text(json.dumps({"revoked": [], "jws": "x.y.z"}))
    result = runner.invoke(main, [*args, "--issuer", ISSUER, good])
    assert result.exit_code == 2


def test_the_command_requires_the_issuer(world, client, tmp_path, app, monkeypatch):
    _, case_id, _ = world.approved_case()
    good = world.travel(case_id)["token"]
    save_documents(client, tmp_path)
    args = ["checkpoint", "verify-offline", "--jwks", str(tmp_path / "jwks.json"),
            "--revocations", str(tmp_path / "revocations.json")]
    monkeypatch.delenv("KINPASS_ISSUER", raising=False)
    result = CliRunner().invoke(main, [*args, good])
    assert result.exit_code == 2 and "--issuer" in result.output
    monkeypatch.setenv("KINPASS_ISSUER", ISSUER)
    result = CliRunner().invoke(main, [*args, good])
    assert result.exit_code == 0 and json.loads(result.output)["result"] == "valid"


def signed_list(revoked: list, iat: int, issuer: str = ISSUER) -> dict:
    """A revocation list signed now by the server's active key, saying it was made at iat."""
    kid, key = signing_keys.active_signing_key()
    unit_of_work.commit()
    return {"revoked": revoked, "jws": jws.sign({"iss": issuer, "iat": iat, "revoked": revoked},
                                                key, kid=kid, typ="kinpass-revocations+jwt")}


def test_the_command_answers_stale_for_an_old_list(world, client, tmp_path, app, monkeypatch):
    _, case_id, _ = world.approved_case()
    good = world.travel(case_id)["token"]
    save_documents(client, tmp_path)
    old = int(time.time()) - 61 * 60
    (tmp_path / "revocations.json").write_text(json.dumps(signed_list([], old)))
    args = ["checkpoint", "verify-offline", "--jwks", str(tmp_path / "jwks.json"),
            "--revocations", str(tmp_path / "revocations.json"), "--issuer", ISSUER]
    monkeypatch.delenv("KINPASS_REVOCATION_MAX_AGE_MINUTES", raising=False)
    result = CliRunner().invoke(main, [*args, good])
    assert result.exit_code == 3, result.output
    answer = json.loads(result.output)
    assert answer["result"] == "stale" and answer["revocations_issued_at"] == old
    assert answer["notes"] == ["revocation list older than 60 minutes: refresh it online"]
    monkeypatch.setenv("KINPASS_REVOCATION_MAX_AGE_MINUTES", "90")
    result = CliRunner().invoke(main, [*args, good])
    assert result.exit_code == 0 and json.loads(result.output)["result"] == "valid"
    result = CliRunner().invoke(main, [*args, "--max-age-minutes", "30", good])
    assert result.exit_code == 3


def test_offline_results_over_time(world, client):
    _, _, _, pickup = world.ready_pickup(starts_at=hours(1), ends_at=hours(3))
    jwks = client.get("/.well-known/jwks.json").get_json()
    revocations = client.get("/v1/authorizations/revocations").get_json()
    verifier = OfflineVerifier(jwks, revocations, issuer=ISSUER, max_age_minutes=240)
    outcome = verifier.verify(pickup["token"])
    assert outcome.result == "not_yet_valid" and outcome.claims["jti"] == pickup["id"]
    nbf = outcome.claims["nbf"]
    exp = outcome.claims["exp"]
    assert verifier.verify(pickup["token"], now=nbf).result == "valid"
    assert verifier.verify(pickup["token"], now=exp).result == "expired"
    assert verifier.verify(pickup["token"], now=nbf).notes == ["single use: redeem online"]
    assert verifier.verify("garbage").result == "invalid"


def test_a_stale_list_never_says_valid(world, client):
    _, case_id, _ = world.approved_case()
    token = world.travel(case_id)["token"]
    revoked = world.travel(world.approved_case()[1])
    client.post(f"/v1/admin/authorizations/{revoked['id']}/revoke", headers=world.officer,
                json={"reason": "lost phone"})
    jwks = client.get("/.well-known/jwks.json").get_json()
    revocations = client.get("/v1/authorizations/revocations").get_json()
    iat = OfflineVerifier(jwks, revocations, issuer=ISSUER).revocations_issued_at
    fresh, late = iat + 60 * 60, iat + 60 * 60 + 1
    assert verify_offline(token, jwks, revocations, issuer=ISSUER, now=fresh).result == "valid"
    stale = verify_offline(token, jwks, revocations, issuer=ISSUER, now=late)
    assert stale.result == "stale" and stale.claims["holder"]["birth_date"] == "1971-04-02"
    assert verify_offline(token, jwks, revocations, issuer=ISSUER, max_age_minutes=5,
                          now=iat + 5 * 60 + 1).result == "stale"
    # What the list or the clock proves still holds, however old the list.
    assert verify_offline(revoked["token"], jwks, revocations, issuer=ISSUER,
                          now=late).result == "revoked"
    assert verify_offline("garbage", jwks, revocations, issuer=ISSUER,
                          now=late).result == "invalid"


def test_the_issuer_is_required(world, client):
    _, case_id, _ = world.approved_case()
    token = world.travel(case_id)["token"]
    jwks = client.get("/.well-known/jwks.json").get_json()
    revocations = client.get("/v1/authorizations/revocations").get_json()
    with pytest.raises(TypeError):
        verify_offline(token, jwks, revocations)  # type: ignore[call-arg]
    for missing in (None, ""):
        with pytest.raises(ValueError, match="issuer"):
            verify_offline(token, jwks, revocations, issuer=missing)  # type: ignore[arg-type]
    # A list signed without the issuer (or for another) is not this server's list.
    with pytest.raises(RevocationListError):
        verify_offline(token, jwks, signed_list([], int(time.time()), issuer="https://x.example"),
                       issuer=ISSUER)
    assert verify_offline(token, jwks, signed_list([], int(time.time())),
                          issuer=ISSUER).result == "valid"


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
            verify_offline(token, jwks, bad, issuer=ISSUER)
    with pytest.raises(RevocationListError):
        verify_offline(token, {"keys": []}, revocations, issuer=ISSUER)
    # The unsigned copy beside the JWS is not trusted: editing it changes nothing.
    tampered = {**revocations, "revoked": [{"id": json.loads(
        jws.b64url_decode(token.split(".")[1]))["jti"], "revoked_at": "x"}]}
    assert verify_offline(token, jwks, tampered, issuer=ISSUER).result == "valid"


def test_a_long_revocation_list_is_read(world, client):
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
    outcome = verify_offline(token, jwks, {"revoked": revoked, "jws": signed}, issuer=ISSUER)
    assert outcome.result == "revoked" and outcome.revocations_issued_at == 1
