from __future__ import annotations

from api.app import create_app


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
    text = r.get_data(as_text=True)
    assert 'kinpass_http_requests_total{endpoint="public.healthz",method="GET",status="200"}' in text
    assert "@" not in text
