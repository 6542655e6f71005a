"""Median in-process query latency per mode, interleaved in one run (these machines are noisy).

Usage: TRACUU_QUERY_CACHE=0 python scripts/mode_latency.py INDEX_DIR QUERIES.jsonl [N]
Queries are taken as typed and with tone marks stripped; k=10, like the search box. The query
embedding cache must be off, or every mode after the first would get its embedding for free.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from search_api.params import MODES, SearchRequest
from search_api.searcher import Searcher
from tracuu.evaluate import load_queries
from tracuu.settings import SETTINGS
from tracuu.textnorm import fold


def main(index_dir: str, queries_path: str, n: str = "100") -> None:
    if SETTINGS.query_cache:
        sys.exit("set TRACUU_QUERY_CACHE=0: a cached query embedding would make the modes incomparable")
    searcher = Searcher(Path(index_dir))
    texts = [t for _, t in load_queries(Path(queries_path))[: int(n)]]
    timings: dict[str, list[float]] = {mode: [] for mode in MODES}
    for text in texts + [fold(t) for t in texts]:
        for mode in MODES:
            started = time.perf_counter()
            searcher.search(SearchRequest(query=text, k=10, mode=mode))
            timings[mode].append((time.perf_counter() - started) * 1000)
    dense = statistics.median(timings["dense"])
    print("| mode | queries | median ms | p95 ms | vs dense |")
    print("|---|---|---|---|---|")
    for mode, values in timings.items():
        p95 = statistics.quantiles(values, n=20)[-1]
        median = statistics.median(values)
        print(f"| {mode} | {len(values)} | {median:.1f} | {p95:.1f} | {median / dense:.2f}x |")


if __name__ == "__main__":
    main(*sys.argv[1:4])
