"""Seconds from `POST /api/articles` to searchable, against a real `tracuu serve` on a copy of an index.

Usage: python scripts/ingest_latency.py INDEX [--rounds 3]

Posts one article, then a batch of 10, each with `wait=true` (the answer comes once this server
searches the change), and checks each is found; prints the medians as JSON (docs/reliability.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tracuu_cli.bench.server import serving

TOKEN = "ingest-latency"


def _article(n: int, tag: str) -> dict[str, str]:
    return {
        "id": f"ingest-latency-{tag}-{n}",
        "title": f"Xã Thử Nghiệm {tag} khánh thành nhà văn hóa số {n}",
        "text": f"Sáng nay, xã Thử Nghiệm {tag} khánh thành nhà văn hóa thôn số {n} với tổng kinh phí 2 tỷ đồng. "
        "Công trình phục vụ sinh hoạt cộng đồng của hơn 400 hộ dân.",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    timings: dict[str, list[float]] = {"one_s": [], "batch_10_s": []}
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        shutil.copytree(args.index, index_dir, symlinks=True)
        with (
            serving(index_dir, env={"TRACUU_ADMIN_TOKEN": TOKEN}) as server,
            httpx.Client(base_url=server.url, timeout=600, headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        ):
            for round_no in range(args.rounds):
                for name, batch in (("one_s", [_article(0, f"r{round_no}")]), ("batch_10_s", None)):
                    batch = batch or [_article(n, f"b{round_no}") for n in range(10)]
                    started = time.perf_counter()
                    r = http.post("/api/articles", params={"wait": "true"}, json=batch)
                    timings[name].append(time.perf_counter() - started)
                    assert r.status_code == 200, r.text
                    assert http.get(f"/api/articles/{batch[-1]['id']}").status_code == 200
            health = http.get("/health").json()
    report = {k: round(statistics.median(v), 2) for k, v in timings.items()}
    report.update(articles=health["articles"], passages=health["passages"], rounds=args.rounds)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
