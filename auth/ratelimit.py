"""Fixed-window counters shared by every worker: in the database by default, Redis when set."""
from __future__ import annotations

import time
from typing import Protocol

import redis
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import session as db
from storage.domain_errors import RateLimited, ServiceUnavailable
from storage.models.requests import RateCounter


class Limiter(Protocol):
    """``hit`` counts one attempt and answers the new count in one atomic step (so two
    attempts racing past the limit can never both be let in); ``release`` takes back an
    attempt that turned out not to count, in the window it was counted in."""

    def count(self, key: str, window: int) -> int: ...
    def hit(self, key: str, window: int, now: float | None = None) -> int: ...
    def release(self, key: str, window: int, now: float) -> None: ...
    def check(self) -> None: ...


def _window_start(window: int, now: float) -> int:
    return int(now // window) * window


class SqlLimiter:
    """Counts in the request's own transaction: a refusal that counts keeps its unit of work."""

    def count(self, key: str, window: int) -> int:
        start = _window_start(window, time.time())
        value = db().execute(select(RateCounter.count).where(
            RateCounter.key == key, RateCounter.window == start)).scalar_one_or_none()
        return value or 0

    def hit(self, key: str, window: int, now: float | None = None) -> int:
        start = _window_start(window, time.time() if now is None else now)
        dialect = db().get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(RateCounter).values(key=key, window=start, count=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[RateCounter.key, RateCounter.window],
            set_={"count": RateCounter.count + 1}).returning(RateCounter.count)
        return db().execute(stmt).scalar_one()

    def check(self) -> None:
        """The counters live in the database, whose readiness is checked on its own."""

    def release(self, key: str, window: int, now: float) -> None:
        db().execute(update(RateCounter).where(
            RateCounter.key == key, RateCounter.window == _window_start(window, now),
            RateCounter.count > 0).values(count=RateCounter.count - 1))


def purge_counters(now: float, longest_window: int) -> int:
    """Delete the database's counters of windows that have ended (Redis expires its own)."""
    return db().execute(delete(RateCounter).where(
        RateCounter.window < int(now) - longest_window)).rowcount or 0


class RedisLimiter:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def _key(self, key: str, window: int, now: float | None = None) -> str:
        start = _window_start(window, time.time() if now is None else now)
        return f"kinpass:rl:{key}:{start}"

    def check(self) -> None:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise ServiceUnavailable() from exc

    def count(self, key: str, window: int) -> int:
        try:
            return int(self.client.get(self._key(key, window)) or 0)
        except redis.RedisError as exc:
            raise ServiceUnavailable() from exc

    def hit(self, key: str, window: int, now: float | None = None) -> int:
        name = self._key(key, window, now)
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.incr(name)
            pipe.expire(name, window + 5)
            return int(pipe.execute()[0])
        except redis.RedisError as exc:
            raise ServiceUnavailable() from exc

    def release(self, key: str, window: int, now: float) -> None:
        try:
            self.client.decr(self._key(key, window, now))
        except redis.RedisError as exc:
            raise ServiceUnavailable() from exc


def retry_after(window: int) -> int:
    now = time.time()
    return max(1, int(_window_start(window, now) + window - now) + 1)


def refusal(window: int, **extra: str) -> RateLimited:
    return RateLimited(headers={"Retry-After": str(retry_after(window))}, extra=extra)


def hit_within(limiter: Limiter, key: str, limit: int, window: int) -> None:
    """Count one attempt; the one past the limit is refused."""
    if limiter.hit(key, window) > limit:
        raise refusal(window)
