"""`kinpass keys rotate`: new tokens use the new key, old ones stay valid until they expire."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from jwcrypto import jwk, jwt as jose_jwt
from sqlalchemy import select

from api.cli import main
from services.authorizations import signing_keys
from storage.db import session as db, utcnow
from storage.models import AuditEvent, SigningKey
from tests.support.world import World, hours


@pytest.fixture
def world(client, register_relative, make_staff):
    return World(client, register_relative, make_staff)


@pytest.fixture
def rotate(monkeypatch, base_config):
    monkeypatch.setenv("KINPASS_DATA_DIR", base_config["data_dir"])
    monkeypatch.setenv("KINPASS_DATABASE_URL", base_config["database_url"])
    monkeypatch.setenv("KINPASS_NOTIFIER", base_config["notifier"])

    def run() -> str:
        result = CliRunner().invoke(main, ["keys", "rotate"])
        assert result.exit_code == 0, result.output
        db.remove()
        return json.loads(result.output)["signing_key"]

    return run


def kid_of(token: str) -> str:
    return json.loads(base64.urlsafe_b64decode(token.split(".", maxsplit=1)[0] + "=="))["kid"]


def jose_verifies(client, token: str) -> bool:
    keys = jwk.JWKSet.from_json(client.get("/.well-known/jwks.json").get_data(as_text=True))
    try:
        jose_jwt.JWT(jwt=token, key=keys, algs=["EdDSA"],
                     check_claims={"aud": "kinpass-checkpoint"})
    except Exception:
        return False
    return True


def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(world, client,
                                                                              rotate):
    _, case_id, _ = world.approved_case()
    old = world.travel(case_id, hours(-1), hours(24))
    old_kid = kid_of(old["token"])
    new_kid = rotate()
    assert new_kid != old_kid
    jwks = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert [k["kid"] for k in jwks] == [new_kid, old_kid]
    assert jose_verifies(client, old["token"])
    assert world.verify(old["token"])["result"] == "valid"
    _, other_case, _ = world.approved_case()
    new = world.travel(other_case)
    assert kid_of(new["token"]) == new_kid and jose_verifies(client, new["token"])
    listing = client.get("/v1/authorizations/revocations").get_json()
    assert kid_of(listing["jws"]) == new_kid
    event = db().execute(select(AuditEvent).where(AuditEvent.action == "signing_key.rotate")
                         ).scalar_one()
    assert event.actor_role == "system" and event.subject_id == new_kid


def test_retired_key_leaves_the_jwks_when_its_last_token_expires(world, client, rotate):
    _, case_id, _ = world.approved_case()
    short = world.travel(case_id, hours(-1), hours(2))
    _, other_case, _ = world.approved_case()
    long = world.travel(other_case, hours(-1), hours(10))
    old_kid = kid_of(long["token"])
    new_kid = rotate()
    published = lambda at: [k.kid for k in signing_keys.published_keys(at)]  # noqa: E731
    assert published(utcnow() + timedelta(hours=5)) == [new_kid, old_kid]
    assert published(utcnow() + timedelta(hours=11)) == [new_kid]
    assert kid_of(short["token"]) == old_kid
    newest = rotate()  # the middle key signed nothing, so it is dropped at once
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert kids == [newest, old_kid]


def test_rotation_without_tokens_drops_the_old_key_at_once(client, rotate, app):
    first = client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    second = rotate()
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert kids == [second] and first != second
    statuses = dict(db().execute(select(SigningKey.kid, SigningKey.status)).all())
    assert statuses == {first: "retired", second: "active"}


def test_first_key_is_created_once(app):
    from services.core import unit_of_work

    kid, _ = signing_keys.active_signing_key()
    again, _ = signing_keys.active_signing_key()
    unit_of_work.commit()
    assert kid == again
    assert db().execute(select(SigningKey.kid)).scalars().all() == [kid]


def test_rewrap_after_kek_rotation(world, client, app):
    from services.audit.events import SYSTEM
    from services.core import unit_of_work

    _, case_id, _ = world.approved_case()
    token = world.travel(case_id)["token"]
    before = db().execute(select(SigningKey.private_key_wrapped)).scalar_one()
    keys = app.extensions["kinpass"].runtime.keys
    keys.rotate()
    assert signing_keys.rewrap_signing_keys(SYSTEM) == 1
    unit_of_work.commit()
    signing_keys._private_cache.clear()
    after = db().execute(select(SigningKey.private_key_wrapped)).scalar_one()
    assert after != before
    _, other_case, _ = world.approved_case()
    assert kid_of(world.travel(other_case)["token"]) == kid_of(token)
    assert world.verify(token)["result"] == "valid"
