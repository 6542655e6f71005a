"""GET /metrics of a real `tracuu serve`: Prometheus text whose counters and histograms follow the traffic,
with one worker and with `--workers 2` (samples of both workers summed)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from conftest import free_port
from prometheus_client.parser import text_string_to_metric_families

SEARCH = "/api/search"


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = httpx.get(url + "/metrics", timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def requests_total(samples, route: str, status: str) -> float:
    key = ("tracuu_http_requests_total", (("method", "GET"), ("route", route), ("status", status)))
    return samples.get(key, 0.0)


def latency(samples, route: str, suffix: str, le: str | None = None) -> float:
    labels = [("method", "GET"), ("route", route)] + ([("le", le)] if le else [])
    return samples.get((f"tracuu_http_request_duration_seconds_{suffix}", tuple(sorted(labels))), 0.0)


def test_metrics_count_and_time_searches(live_server) -> None:
    before = scrape(live_server.url)
    for q in ("đảng viên", "kết nạp đảng viên mới", "Vĩnh Bảo"):
        assert httpx.get(live_server.url + SEARCH, params={"q": q, "k": 3}, timeout=60).status_code == 200
    assert httpx.get(live_server.url + SEARCH, params={"q": "x", "k": "0"}, timeout=60).status_code == 400
    assert httpx.get(live_server.url + "/no/such/page", timeout=60).status_code == 404
    after = scrape(live_server.url)

    assert requests_total(after, SEARCH, "200") - requests_total(before, SEARCH, "200") == 3
    assert requests_total(after, SEARCH, "400") - requests_total(before, SEARCH, "400") == 1
    assert requests_total(after, "unmatched", "404") - requests_total(before, "unmatched", "404") == 1
    # The histogram saw the four searches; its buckets are cumulative and end at +Inf == count.
    assert latency(after, SEARCH, "count") - latency(before, SEARCH, "count") == 4
    assert latency(after, SEARCH, "sum") > latency(before, SEARCH, "sum")
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for (name, labels), value in after.items()
        if name == "tracuu_http_request_duration_seconds_bucket"
        and dict(labels)["route"] == SEARCH
        and dict(labels)["method"] == "GET"  # other methods (405s sent by other tests) have series of their own
    )
    assert len(buckets) > 5 and buckets[-1] == (float("inf"), latency(after, SEARCH, "count"))
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:], strict=False))
    # The scrape itself is counted (route template, never the raw URL).
    assert requests_total(after, "/metrics", "200") >= 1
    assert not any("no/such" in str(key) for key in after)


def test_metrics_route_is_documented(live_server) -> None:
    spec = httpx.get(live_server.url + "/openapi.json", timeout=30).json()
    assert "text/plain" in spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]


@pytest.fixture(scope="module")
def two_workers(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """`tracuu serve --workers 2`, with an operator-chosen PROMETHEUS_MULTIPROC_DIR."""
    tmp = tmp_path_factory.mktemp("workers")
    port = free_port()
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp / "metrics"))
    cmd = [sys.executable, "-m", "tracuu_cli.main", "serve", "--index", str(sample_index), "--port", str(port)]
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen([*cmd, "--workers", "2"], stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # two model loads on a busy 2-core machine
        while True:
            assert proc.poll() is None, (tmp / "server.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "server did not become ready"
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_two_workers_serve_and_report_summed_metrics(two_workers) -> None:
    url, pid = two_workers
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    cmdlines = [Path(f"/proc/{c}/cmdline").read_bytes().replace(b"\0", b" ").decode() for c in children]
    workers = [c for c in cmdlines if "spawn_main" in c]  # beside them: multiprocessing's resource tracker
    assert len(workers) == 2, cmdlines  # two uvicorn worker processes under the supervisor
    before = scrape(url)
    for i in range(12):  # a new connection each time: the kernel hands them to either worker
        with httpx.Client(timeout=60) as client:
            r = client.get(url + SEARCH, params={"q": f"đảng viên {i}", "k": 2, "mode": "dense"})
            assert r.status_code == 200 and len(r.json()["hits"]) == 2
    after = scrape(url)
    assert requests_total(after, SEARCH, "200") - requests_total(before, SEARCH, "200") == 12
    assert latency(after, SEARCH, "count") - latency(before, SEARCH, "count") == 12


def test_two_workers_share_connections_that_arrive_together(two_workers) -> None:
    """Connections opened at once are spread over both workers (each has a listening socket of its own,
    search_api.server.WorkerSocket); with one shared socket the first worker awake often accepted them all."""
    url, pid = two_workers
    port = int(url.rsplit(":", 1)[1])
    workers = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    workers = [c for c in workers if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
    socks = [socket.socket() for _ in range(24)]
    try:
        for sock in socks:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
        for sock in socks:  # one request on each, every connection kept open
            sock.setblocking(True)
            sock.settimeout(60)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for sock in socks:
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        held = {
            w: sum(
                1
                for c in psutil.Process(w).net_connections("tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
            )
            for w in workers
        }
    finally:
        for sock in socks:
            sock.close()
    assert sum(held.values()) == 24, held
    assert min(held.values()) >= 2, held  # by chance fewer: about 3 times in a million runs
