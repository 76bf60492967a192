"""Start `kinpass serve` and the bare Flask baseline side by side on loopback."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextlib.contextmanager
def kinpass_server(workers: int = 2, **env: str) -> Iterator[tuple[str, Path]]:
    """A real `kinpass serve` on a fresh data dir; yields (base URL, data dir)."""
    with tempfile.TemporaryDirectory(prefix="kinpass-bench-") as tmp:
        port = free_port()
        data = Path(tmp)
        environ = {**os.environ, "KINPASS_DATA_DIR": str(data), "KINPASS_WORKERS": str(workers),
                   "KINPASS_BIND": f"127.0.0.1:{port}",
                   "KINPASS_NOTIFIER": f"file:{data / 'outbox.jsonl'}", **env}
        if "KINPASS_DATABASE_URL" not in env:
            environ.pop("KINPASS_DATABASE_URL", None)
        log = open(data / "server.log", "wb")
        proc = subprocess.Popen([str(BIN / "kinpass"), "serve"], env=environ, stdout=log,
                                stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_ready(f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}", data
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()


@contextlib.contextmanager
def hello_server(workers: int = 2) -> Iterator[str]:
    """The bare Flask hello-world under gunicorn's default (sync) workers."""
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level",
         "warning", "bench.hello_app:app"], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}/hello")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextlib.contextmanager
def granian_server(data: Path, workers: int = 2, threads: int = 8, **env: str) -> Iterator[str]:
    """The same app (wsgi.py) under granian on the data dir a `kinpass serve` has migrated."""
    port = free_port()
    environ = {**os.environ, "KINPASS_DATA_DIR": str(data),
               "KINPASS_NOTIFIER": f"file:{data / 'outbox.jsonl'}", **env}
    if "KINPASS_DATABASE_URL" not in env:
        environ.pop("KINPASS_DATABASE_URL", None)
    log = open(data / "granian.log", "wb")
    proc = subprocess.Popen(
        [str(BIN / "granian"), "--interface", "wsgi", "--workers", str(workers),
         "--blocking-threads", str(threads), "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "wsgi:app"], cwd=ROOT, env=environ, stdout=log,
        stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
