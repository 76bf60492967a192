"""A real nginx in front of KinPass instances, run from the shipped docs/deploy/nginx.conf
with only its addresses changed (plain HTTP on loopback instead of TLS on 443)."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.serving import stop

SHIPPED = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    """nginx, or a skip where it is not installed (CI installs it and sets KINPASS_CI)."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None)
    if found is None:
        if os.environ.get("KINPASS_CI"):
            raise AssertionError("CI needs nginx (apt install nginx-light)")
        pytest.skip("nginx is not installed")
    return found


def local_config(upstreams: list[str], port: int) -> str:
    """The shipped server block, listening on loopback without TLS, with these upstreams."""
    text = SHIPPED.read_text()
    text = re.sub(r"(?m)^    server \S+:\d+;\n", "", text)
    text = text.replace("upstream kinpass {\n", "upstream kinpass {\n" + "".join(
        f"    server {address};\n" for address in upstreams))
    text = re.sub(r"(?m)^    listen .*;$", f"    listen 127.0.0.1:{port};", text)
    text = re.sub(r"(?m)^    ssl_.*;\n", "", text)
    return text


@contextlib.contextmanager
def run_nginx(tmp_path: Path, upstreams: list[str], port: int) -> Iterator[str]:
    root = tmp_path / "nginx"
    (root / "logs").mkdir(parents=True)
    temp = {name: root / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    (root / "nginx.conf").write_text(f"""
daemon off;
master_process on;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {root}/logs/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {root}/kinpass.conf;
}}
""")
    (root / "kinpass.conf").write_text(local_config(upstreams, port))
    binary = nginx_binary()
    check = subprocess.run([binary, "-t", "-p", str(root), "-c", str(root / "nginx.conf")],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    server = subprocess.Popen([binary, "-p", str(root), "-c", str(root / "nginx.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield base
    finally:
        stop(server, signal.SIGQUIT, timeout=10)
