"""Readiness: is every dependency a request may need working? The database, the KEK
against the keys stored in it, the object store, and Redis when configured.

A check that turns red is logged once, naming what failed; it is logged again only after it
has been green in between."""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import text

from services.core import runtime
from services.core.secrets import open_stored_secrets
from storage.db import session as db
from storage.vocabulary import Readiness

OK, UNAVAILABLE = Readiness.OK, Readiness.UNAVAILABLE

log = logging.getLogger("kinpass.readiness")
_red: set[str] = set()


def _probe(name: str, check: Callable[[], object]) -> str:
    try:
        check()
    except Exception as exc:  # a readiness probe reports every failure, it never raises one
        if name not in _red:
            _red.add(name)
            log.error("readiness check failed", extra={"check": name,
                                                       "error": type(exc).__name__})
        return UNAVAILABLE
    _red.discard(name)
    return OK


def _database() -> None:
    db().execute(text("SELECT 1"))


def _keys_open() -> None:
    keys = runtime.get().keys
    keys.check()
    open_stored_secrets(keys)


def check_readiness() -> dict[str, str]:
    """Each dependency's state, "ok" or "unavailable"."""
    rt = runtime.get()
    checks = {"database": _probe("database", _database)}
    if checks["database"] == OK:
        checks["keys"] = _probe("keys", _keys_open)
    else:
        db.remove()
        checks["keys"] = UNAVAILABLE
    checks["storage"] = _probe("storage", rt.objects.check)
    if rt.settings.redis_url:
        checks["redis"] = _probe("redis", rt.limiter.check)
    return checks
