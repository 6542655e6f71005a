"""Prometheus metrics of `tracuu serve`: request counts and latency histograms at `GET /metrics`.

    tracuu_http_requests_total{method, route, status}        requests answered
    tracuu_http_request_duration_seconds{method, route}      latency histogram (first byte in, last byte out)
    tracuu_http_requests_in_progress                         requests being answered now

`route` is the route's path template (`/api/search`), never the raw URL, so the label set stays
small; requests that match no route are counted under `unmatched`.

One process keeps its metrics in its own registry. With several uvicorn workers
(`tracuu serve --workers N`), `enable_multiprocess()` is called before the workers start: each worker
then writes its samples to files in PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode)
and `/metrics`, whichever worker answers it, reports the sum over all workers.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def enable_multiprocess() -> str:
    """Call in the parent before workers start: a fresh directory for their samples (removed at exit)."""
    existing = multiprocess_dir()
    if existing:  # set by the operator: theirs to manage
        os.makedirs(existing, exist_ok=True)
        return existing
    path = tempfile.mkdtemp(prefix="tracuu-metrics-")
    os.environ[MULTIPROC_ENV] = path
    atexit.register(shutil.rmtree, path, True)
    return path


class Metrics:
    """The instruments of one app, and the ASGI middleware that feeds them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tracuu_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tracuu_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "tracuu_http_requests_in_progress",
            "HTTP requests being answered.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def render(self) -> bytes:
        """The Prometheus text exposition: this process's registry, or every worker's samples summed."""
        if multiprocess_dir():
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class MetricsMiddleware:
    """Pure ASGI (no request/response objects built): times every HTTP request through the whole app."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception that escapes every handler still ends as a 500

        async def send_and_note(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.in_progress.dec()
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.observe(scope.get("method", "GET"), route, status, time.perf_counter() - started)


def install(app: FastAPI) -> Metrics:
    """Count and time every request of `app` and serve the metrics at GET /metrics."""
    metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        summary="Prometheus metrics: request counts and latency histograms (text exposition format)",
    )
    def prometheus_metrics() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return metrics
