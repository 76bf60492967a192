"""The shared HMAC key (runtime pepper): one per deployment, KEK-wrapped in the database,
independent of the session-token secret."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from services.audit.events import searchable_hash
from services.core import secrets, unit_of_work
from services.core.settings import Settings
from storage.db import session as db
from storage.keys import wrapped_kid
from storage.models.secrets import ServiceSecret


def _pepper(rt) -> bytes:
    value = rt.pepper
    unit_of_work.commit()
    db.remove()
    return value


def _stored() -> list[ServiceSecret]:
    rows = list(db().execute(select(ServiceSecret)).scalars())
    db.remove()
    return rows


def test_every_instance_shares_one_key_whatever_the_session_secret(deployment):
    first = deployment.start(jwt_secret="session-secret-one")
    key = _pepper(first)
    digest = searchable_hash("L898902C3")
    second = deployment.start(jwt_secret="session-secret-two, rotated")
    assert _pepper(second) == key and len(key) == secrets.SECRET_BYTES
    assert searchable_hash("L898902C3") == digest
    [row] = _stored()
    assert row.name == secrets.HMAC_KEY and key not in row.wrapped
    assert wrapped_kid(row.wrapped) == first.keys.active_kid


def test_a_concurrent_creator_wins_and_its_key_is_read(deployment, monkeypatch):
    winner = _pepper(deployment.start())
    late = deployment.start()
    reads = iter([None])
    real = secrets._wrapped
    # The late instance read no row just before the winner's insert committed.
    monkeypatch.setattr(secrets, "_wrapped", lambda session, name: next(reads, real(session,
                                                                                    name)))
    assert _pepper(late) == winner
    assert len(_stored()) == 1


def test_a_key_made_in_a_rolled_back_transaction_is_not_kept(deployment):
    rt = deployment.start()
    discarded = rt.pepper
    assert rt.pepper == discarded  # the same transaction sees the same key
    unit_of_work.rollback()
    db.remove()
    assert _stored() == []
    kept = _pepper(rt)
    assert kept != discarded
    assert _pepper(deployment.start()) == kept == rt.pepper


def test_a_configured_key_is_used_as_given(deployment):
    given = bytes(range(40))
    rt = deployment.start(hmac_key=base64.b64encode(given).decode())
    assert _pepper(rt) == given
    assert _stored() == []


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_bad_configured_key_refuses_to_start(deployment, value):
    with pytest.raises(ValueError, match="KINPASS_HMAC_KEY"):
        deployment.start(hmac_key=value)


def test_production_does_not_require_a_configured_key():
    settings = Settings(env="production", database_url="postgresql://db/kinpass",
                        kek=base64.b64encode(bytes(32)).decode(), jwt_secret="x" * 64,
                        storage_url="s3://kinpass", issuer="https://kinpass.gov.example",
                        metrics_token="m" * 32)
    settings.check_production()
    assert settings.hmac_key is None
