"""In-process query latency of each mode (and hybrid without feedback), side by side.

Usage: python scripts/latency_modes.py INDEX_DIR QUERIES.jsonl [N_QUERIES]

Every query is searched (k=10) by each system in turn, as written and with its tone marks stripped,
in two rounds, so machine noise falls on all of them alike. The query-vector cache is off: every search
embeds its query. Prints the median and 95th percentile of each.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from search_api.params import make_request
from search_api.searcher import Searcher
from tracuu.evaluate import load_queries
from tracuu.textnorm import fold

ROUNDS = 2
WARM_UP = 20


def main(index_dir: str, queries_path: str, limit: str = "300") -> None:
    queries = [text for _, text in load_queries(Path(queries_path))][: int(limit)]
    default = Searcher(Path(index_dir))
    without_feedback = Searcher(Path(index_dir), embedder=default.embedder, feedback=0.0)
    for searcher in (default, without_feedback):
        searcher._encode_query = default.embedder.encode_query  # every search pays for its embedding
    systems = {
        "lexical": (default, "lexical"),
        "dense": (default, "dense"),
        "hybrid, without feedback": (without_feedback, "hybrid"),
        "hybrid (default)": (default, "hybrid"),
    }
    for query in queries[:WARM_UP]:
        for searcher, mode in systems.values():
            searcher.search(make_request(query, k=10, mode=mode))
    times: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(ROUNDS):
        for query in queries + [fold(q) for q in queries]:
            for name, (searcher, mode) in systems.items():
                started = time.perf_counter()
                searcher.search(make_request(query, k=10, mode=mode))
                times[name].append(time.perf_counter() - started)
    print("| system | p50 ms | p95 ms | searches |")
    print("|---|---|---|---|")
    for name, spent in times.items():
        spent.sort()
        p95 = spent[int(len(spent) * 0.95)]
        print(f"| {name} | {statistics.median(spent) * 1000:.2f} | {p95 * 1000:.2f} | {len(spent)} |")


if __name__ == "__main__":
    main(*sys.argv[1:4])
