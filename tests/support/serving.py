"""A real `kinpass serve` (gunicorn, several workers) as a subprocess on its own data dir."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine

from storage.migrate import stamp
from storage.models import Base
from tests.support.http import free_port

START_SECONDS = 45


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Ask ``process`` to stop with ``sig``; kill it if it has not within ``timeout``."""
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_healthy(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not come up")


@contextlib.contextmanager
def serve_kinpass(tmp_path: Path, **extra_env: str) -> Iterator[tuple]:
    """Yields (base URL, server process, its environment, the kinpass command, tmp_path).

    SQLite and local objects. The schema is laid from the models, as the app fixture does
    (tests/storage/test_migrations.py proves the migrations build the same schema), so
    serving's migrate step finds it current."""
    (tmp_path / "data").mkdir(mode=0o700)
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'kinpass.db'}")
    Base.metadata.create_all(engine)
    stamp(engine)
    engine.dispose()
    port = free_port()
    env = {**os.environ, "KINPASS_DATA_DIR": str(tmp_path / "data"),
           "KINPASS_BIND": f"127.0.0.1:{port}", "KINPASS_ENV": "development",
           "KINPASS_NOTIFIER": f"file:{tmp_path / 'outbox.jsonl'}", "KINPASS_WORKERS": "2"}
    for name in ("KINPASS_DATABASE_URL", "KINPASS_STORAGE_URL", "KINPASS_REDIS_URL",
                 "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    env.update(extra_env)
    kinpass = [sys.executable, "-m", "api.cli"] if not Path(sys.executable).with_name(
        "kinpass").exists() else [str(Path(sys.executable).with_name("kinpass"))]
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([*kinpass, "serve"], env=env, stdout=log, stderr=log,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server)
        yield base, server, env, kinpass, tmp_path
    finally:
        stop(server)
        log.close()
