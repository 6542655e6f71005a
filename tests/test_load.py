"""Load: a few thousand requests from 16 concurrent clients to a live `tracuu serve` (loopback only):
zero errors, and the server's private memory stays within a bound after warm-up (no per-request leak).

Private (anonymous) memory is what a leak grows. Pages of memory-mapped files (the index, the model's
weights) count in RSS too, but they are shared page cache that grows as new queries touch new rows of the
word-embedding table, so they are not measured here.

TRACUU_LOAD_REQUESTS sets the number of requests (default 2000)."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REQUESTS = int(os.environ.get("TRACUU_LOAD_REQUESTS", "2000"))
CLIENTS = 16
WARMUP = 200
RSS_GROWTH_LIMIT_MB = 48


def private_bytes(pid: int) -> int:
    """RssAnon of the process: its resident memory that belongs to no file."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no RssAnon for process {pid}")


QUERIES = [
    "kết nạp đảng viên mới",
    "ket nap dang vien moi",
    "Đảng bộ huyện Vĩnh Bảo có bao nhiêu đảng viên",
    "Ba Đồn kỷ luật đảng viên",
    "xây dựng chi bộ trong sạch vững mạnh",
    "party members admitted in 2021",
    "tự soi, tự sửa",
    "Đông Hà phường 5",
]


def request_for(n: int) -> tuple[str, dict, int]:
    """(path, params, expected status) for the n-th request: mostly searches, some pages and errors."""
    query = QUERIES[n % len(QUERIES)]
    kind = n % 10
    if kind < 5:
        modes = ("hybrid", "lexical", "dense")
        return "/api/search", {"q": query, "k": 1 + n % 20, "mode": modes[n % 3]}, 200
    if kind == 5:
        return "/api/search", {"q": f"{query} {n}", "from": "2021-01-01", "to": "2023-12-31"}, 200
    if kind == 6:
        return "/", {"q": query}, 200
    if kind == 7:
        return "/health", {}, 200
    if kind == 8:
        return "/api/search", {"q": query, "k": "0"}, 400
    return "/api/search", {"q": query, "source": "Báo Quảng Trị", "k": 5}, 200


def test_thousands_of_concurrent_requests_no_errors_bounded_memory(live_server) -> None:
    pid = live_server.proc.pid
    local = threading.local()
    errors: list[str] = []
    latencies: list[float] = []

    def send(n: int) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=live_server.url, timeout=120)
        path, params, status = request_for(n)
        started = time.perf_counter()
        try:
            r = local.client.get(path, params=params)
            if r.status_code != status:
                errors.append(f"{path} {params}: {r.status_code} {r.text[:200]}")
            elif path == "/api/search" and status == 200 and r.json()["returned"] != len(r.json()["hits"]):
                errors.append(f"{path} {params}: inconsistent body")
        except httpx.HTTPError as exc:
            errors.append(f"{path} {params}: {exc!r}")
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, range(WARMUP)))
        warm_rss = private_bytes(pid)
        peak = warm_rss
        for batch in range(WARMUP, REQUESTS, 200):
            list(pool.map(send, range(batch, min(batch + 200, REQUESTS))))
            peak = max(peak, private_bytes(pid))
    seconds = time.perf_counter() - started
    growth_mb = (peak - warm_rss) / 2**20
    latencies.sort()
    print(
        f"\n{REQUESTS} requests, {CLIENTS} clients, {len(errors)} errors in {seconds:.1f} s "
        f"({REQUESTS / seconds:.0f}/s, p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms); "
        f"private memory {warm_rss / 2**20:.0f} MB after warm-up, peak {peak / 2**20:.0f} MB (+{growth_mb:.1f} MB)"
    )
    assert not errors, errors[:5]
    assert len(latencies) == REQUESTS
    assert growth_mb < RSS_GROWTH_LIMIT_MB
    assert httpx.get(live_server.url + "/health").status_code == 200
