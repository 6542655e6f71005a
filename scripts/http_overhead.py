"""What HTTP adds to a search: each distinct question searched in this process, then over HTTP, in turn.

Usage: python scripts/http_overhead.py INDEX QUERIES.jsonl [--queries 200]

Starts `tracuu serve` on INDEX (query cache off, so every request embeds its query) and, for each
question, times `Searcher.search` here and then the same question over one keep-alive connection. Prints
as JSON the medians of both, of their paired difference, of the server's own `took_ms`, and of the time
outside the search (client wall minus `took_ms`); and the first Vietnamese and English queries a fresh
server answered. Pairs cancel the machine's drift; run old and new checkouts in turn (docs/performance.md).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import time
import urllib.parse
from pathlib import Path

from retrieval.contract import SearchParams
from retrieval.searcher import Searcher
from tracuu.settings import Settings
from tracuu_cli.bench.server import serving

WARM_UP = 20
# Not imported from tracuu_cli.bench.runner, so that this script also measures checkouts from before it existed.
FIRST_QUERIES = (("vi", "thủ đô của nước Pháp là thành phố nào"), ("en", "which city is the capital of France"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("queries", type=Path)
    ap.add_argument("--queries", dest="count", type=int, default=200)
    args = ap.parse_args(argv)
    questions = [json.loads(line)["text"] for line in args.queries.read_text(encoding="utf-8").splitlines() if line]
    local = Searcher(args.index, settings=Settings(query_cache=0))
    report: dict[str, float] = {}
    with serving(args.index, env={"TRACUU_QUERY_CACHE": "0"}) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)

        def ask(query: str) -> float:
            """The server's took_ms for `query`, in seconds."""
            conn.request("GET", "/api/search?" + urllib.parse.urlencode({"q": query, "k": 10}))
            response = conn.getresponse()
            return float(json.loads(response.read())["took_ms"]) / 1000

        for lang, query in FIRST_QUERIES:
            started = time.perf_counter()
            ask(query)
            report[f"first_{lang}_ms"] = round(1000 * (time.perf_counter() - started), 2)
        for query in questions[-WARM_UP:]:
            local.search(SearchParams(q=query))
            ask(query)
        here, there, took = [], [], []
        for query in questions[: args.count]:
            started = time.perf_counter()
            local.search(SearchParams(q=query))
            here.append(time.perf_counter() - started)
            started = time.perf_counter()
            took.append(ask(query))
            there.append(time.perf_counter() - started)

    def median_ms(values: list[float]) -> float:
        return round(1000 * statistics.median(values), 2)

    report.update(
        inprocess_p50_ms=median_ms(here),
        http1_p50_ms=median_ms(there),
        paired_difference_p50_ms=median_ms([b - a for a, b in zip(here, there, strict=True)]),
        server_took_p50_ms=median_ms(took),
        outside_search_p50_ms=median_ms([b - t for b, t in zip(there, took, strict=True)]),
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
