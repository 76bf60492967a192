"""Fixed-window counters in the database and in Redis (a real server on loopback)."""
from __future__ import annotations

import time
import uuid

import pytest
import redis

from auth.ratelimit import RedisLimiter, SqlLimiter, hit_within, retry_after
from storage.db import session as db
from storage.domain_errors import RateLimited, ServiceUnavailable
from tests.support.http import closed_port_url

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["sql", "redis"])
def limiter(request):
    if request.param == "sql":
        request.getfixturevalue("app")
        yield SqlLimiter()
        db.remove()
        return
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield RedisLimiter(REDIS_URL)


@pytest.fixture
def key() -> str:
    return f"test:{uuid.uuid4().hex}"


def test_hits_count_up_from_one(limiter, key):
    assert limiter.count(key, 60) == 0
    assert [limiter.hit(key, 60) for _ in range(3)] == [1, 2, 3]
    assert limiter.count(key, 60) == 3


def test_keys_count_apart(limiter, key):
    limiter.hit(key, 60)
    assert limiter.count(key + ":other", 60) == 0
    assert limiter.count(key, 60) == 1


def test_the_attempt_past_the_limit_is_refused_with_retry_after(limiter, key):
    for _ in range(3):
        hit_within(limiter, key, limit=3, window=60)
    with pytest.raises(RateLimited) as refused:
        hit_within(limiter, key, limit=3, window=60)
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 61


def test_a_released_attempt_is_uncounted(limiter, key):
    now = time.time()
    limiter.hit(key, 86400, now)
    limiter.hit(key, 86400, now)
    limiter.release(key, 86400, now)
    assert limiter.count(key, 86400) == 1


def test_redis_expires_its_windows(key):
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    limiter = RedisLimiter(REDIS_URL)
    limiter.hit(key, 60)
    ttls = [limiter.client.ttl(name) for name in limiter.client.scan_iter(f"kinpass:rl:{key}:*")]
    assert ttls and all(0 < ttl <= 65 for ttl in ttls)


def test_an_unreachable_redis_is_unavailable_not_unlimited(key):
    limiter = RedisLimiter(closed_port_url().replace("http", "redis"))
    with pytest.raises(ServiceUnavailable):
        limiter.hit(key, 60)
    with pytest.raises(ServiceUnavailable):
        limiter.count(key, 60)


def test_retry_after_is_within_the_window():
    assert 1 <= retry_after(60) <= 61
    assert 1 <= retry_after(1) <= 2
