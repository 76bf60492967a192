"""Prometheus metrics, behind their own bearer token (KINPASS_METRICS_TOKEN), never public.

With several gunicorn workers, `kinpass serve` sets PROMETHEUS_MULTIPROC_DIR so that every
worker's counters are summed in one scrape.
"""
from __future__ import annotations

import hmac
import os
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from api.blueprint import Blueprint
from services.messages.delivery import outbox_state
from storage.db import utcnow
from storage.domain_errors import NotFound

REQUESTS = Counter("kinpass_http_requests_total", "HTTP requests",
                   ["method", "endpoint", "status"])
LATENCY = Histogram("kinpass_http_request_duration_seconds", "HTTP request latency",
                    ["endpoint"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))

# A method nobody serves is one label, whatever a client invents (one series per name
# would grow the scrape without bound).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

blp = Blueprint("metrics", __name__, description="Operations")


class OutboxCollector(Collector):
    """The outbox as the database holds it, the same whichever process is scraped: a gateway
    that is down shows as a growing queue and an ageing oldest message."""

    def collect(self):
        state = outbox_state()
        yield GaugeMetricFamily("kinpass_outbox_queued", "Messages waiting to be delivered",
                                value=state.queued)
        age = ((utcnow() - state.oldest_queued_at).total_seconds()
               if state.oldest_queued_at else 0.0)
        yield GaugeMetricFamily("kinpass_outbox_oldest_queued_age_seconds",
                                "Age of the oldest message waiting to be delivered", value=age)
        counts = GaugeMetricFamily("kinpass_outbox_messages", "Messages by channel and state",
                                   labels=["channel", "status"])
        for (channel, status), count in sorted(state.counts.items()):
            counts.add_metric([channel, status], count)
        yield counts


def _observe(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(method, endpoint, str(response.status_code)).inc()
    started = g.get("started")  # set first thing by api.http
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


@blp.route("/metrics", methods=["GET"])
@blp.doc(security=[{"metricsToken": []}, {}])
@blp.response(200, content_type=CONTENT_TYPE_LATEST)
def metrics():
    """Prometheus metrics.

    Needs `Authorization: Bearer` with the configured metrics token; without it, or when
    none is configured, the answer is 404.
    """
    token = current_app.extensions["kinpass"].settings.metrics_token
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        raise NotFound()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        payload = generate_latest(registry)
    else:
        payload = generate_latest()
    outbox = CollectorRegistry()
    outbox.register(OutboxCollector())
    return Response(payload + generate_latest(outbox), content_type=CONTENT_TYPE_LATEST)


def init_metrics(app: Flask) -> None:
    app.after_request(_observe)
