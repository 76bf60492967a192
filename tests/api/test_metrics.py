from __future__ import annotations

import urllib.request

from api.app import create_app
from tests.support.serving import serve_kinpass


def test_metrics_hidden_without_token(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token(base_config):
    app = create_app({**base_config, "metrics_token": "scrape-secret-123"})
    client = app.test_client()
    client.get("/healthz")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    r = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert r.status_code == 200 and r.mimetype == "text/plain"
    assert r.headers["Content-Type"].count("charset=") == 1, r.headers["Content-Type"]
    text = r.get_data(as_text=True)
    assert 'kinpass_http_requests_total{endpoint="public.healthz",method="GET",status="200"}' in text
    assert "@" not in text


def test_served_metrics_sum_every_worker(tmp_path):
    """Under `kinpass serve` (gunicorn, two workers) a scrape counts every worker's requests."""
    token = "scrape-secret-456"
    with serve_kinpass(tmp_path, KINPASS_METRICS_TOKEN=token) as (base, *_):
        for _ in range(20):
            with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                assert r.status == 200
        scrape = urllib.request.Request(base + "/metrics",
                                        headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(scrape, timeout=5) as r:
            text = r.read().decode()
    counted = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("kinpass_http_requests_total{")
               and 'endpoint="public.healthz"' in line]
    assert sum(counted) >= 20, text[:500]
    assert "kinpass_http_request_duration_seconds_bucket" in text
