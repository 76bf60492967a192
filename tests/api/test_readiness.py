"""/readyz is red, and says which check, whenever a request could fail on a dependency:
the database, the KEK against the keys stored with it, the object store, Redis."""
from __future__ import annotations

import base64
import logging
import os

import pytest

from api.app import create_app
from services.core import runtime


def test_all_green(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok",
                            "checks": {"database": "ok", "keys": "ok", "storage": "ok"}}


@pytest.fixture
def hmac_key_stored(client):
    """The shared HMAC key is made on first use: a registration makes it."""
    client.post("/v1/auth/register", json={"email": "first@example.org", "full_name": "F",
                                           "password": "Kyiv-Reunion-2026"})
    runtime.get().hmac_key()


def test_a_kek_that_cannot_open_the_stored_keys_is_not_ready(app, base_config,
                                                             hmac_key_stored, caplog):
    other = base64.b64encode(os.urandom(32)).decode()
    wrong = create_app({**base_config, "kek": other}).test_client()
    with caplog.at_level(logging.ERROR, logger="kinpass.readiness"):
        first, second = wrong.get("/readyz"), wrong.get("/readyz")
    for r in (first, second):
        body = assert_problem_503(r, "service_unavailable")
        assert body["checks"] == {"database": "ok", "keys": "unavailable", "storage": "ok"}
    failures = [rec for rec in caplog.records if rec.getMessage() == "readiness check failed"]
    assert [getattr(rec, "check", None) for rec in failures] == ["keys"]


def test_redis_configured_but_unreachable_is_not_ready(app, base_config, closed_port_url):
    redis_url = closed_port_url.replace("http://", "redis://") + "/0"
    r = create_app({**base_config, "redis_url": redis_url}).test_client().get("/readyz")
    body = assert_problem_503(r, "service_unavailable")
    assert body["checks"]["redis"] == "unavailable" and body["checks"]["database"] == "ok"


def test_redis_reachable_is_ready(app, base_config):
    client = create_app({**base_config, "redis_url": "redis://127.0.0.1:6379/0"}).test_client()
    r = client.get("/readyz")
    if r.status_code == 503 and r.get_json()["checks"].get("redis") == "unavailable":
        pytest.skip("no Redis on 127.0.0.1:6379")
    assert r.status_code == 200 and r.get_json()["checks"]["redis"] == "ok"


def assert_problem_503(response, code: str) -> dict:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code
    assert "Traceback" not in response.get_data(as_text=True)
    return body
