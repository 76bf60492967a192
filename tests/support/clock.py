"""A clock for the fixed-window limiters that starts a test at the beginning of a window, so
a test's attempts never straddle two windows (and split their count) whatever the hour."""
from __future__ import annotations

import time as _time
from types import ModuleType

import auth.ratelimit
import services.accounts.sessions

LIMITER_CLOCKS = (auth.ratelimit, services.accounts.sessions)


class _Shifted:
    """The `time` module, with `time()` moved back by ``offset`` seconds."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def time(self) -> float:
        return _time.time() - self.offset

    def __getattr__(self, name: str):
        return getattr(_time, name)


def at_window_start(monkeypatch, window: int,
                    modules: tuple[ModuleType, ...] = LIMITER_CLOCKS) -> None:
    """From here on the limiters read a clock one second into a ``window``-long window."""
    shifted = _Shifted(_time.time() % window - 1)
    for module in modules:
        monkeypatch.setattr(module, "time", shifted)
