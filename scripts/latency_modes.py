"""In-process query latency of each mode (hybrid also without feedback, and grouped by article), side by side.

Usage: python scripts/latency_modes.py INDEX_DIR QUERIES.jsonl [N_QUERIES]

Every query is searched (k=10) by each system in turn, as written and with its tone marks stripped,
in two rounds, so machine noise falls on all of them alike. The query-vector cache is off: every search
embeds its query. Prints the median and 95th percentile of each. "hybrid, as before query understanding"
is the default without typo correction and with restoration from the corpus alone (no language prior): the
same run's baseline for what they cost.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from retrieval.contract import SearchParams
from retrieval.searcher import Searcher
from tracuu.settings import Settings
from tracuu.text.normalise import fold
from tracuu.text.restore import RESTORE_FILE, ToneModel
from tracuu_cli.evaluate import load_queries

ROUNDS = 2
WARM_UP = 20


class NoCorrection:
    """A spelling corrector that corrects nothing: the searcher as it was before typo tolerance."""

    def correct(self, query: str) -> None:
        return None


def main(index_dir: str, queries_path: str, limit: str = "300") -> None:
    queries = [text for _, text in load_queries(Path(queries_path))][: int(limit)]
    no_cache = Settings(query_cache=0)  # every search pays for its embedding
    default = Searcher(Path(index_dir), settings=no_cache)
    without_feedback = Searcher(Path(index_dir), embedder=default.embedder, feedback=0.0, settings=no_cache)
    before = Searcher(Path(index_dir), embedder=default.embedder, settings=no_cache)
    before.spelling = NoCorrection()  # type: ignore[assignment]
    before.tones = ToneModel.load(before.version_dir / RESTORE_FILE, prior=False)
    systems = {
        "lexical": (default, {"mode": "lexical"}),
        "dense": (default, {"mode": "dense"}),
        "hybrid, without feedback": (without_feedback, {}),
        "hybrid, as before query understanding": (before, {}),
        "hybrid (default)": (default, {}),
        "hybrid, grouped by article": (default, {"group": "article"}),
    }
    for query in queries[:WARM_UP]:
        for searcher, params in systems.values():
            searcher.search(SearchParams(q=query, k=10, **params))
    times: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(ROUNDS):
        for query in queries + [fold(q) for q in queries]:
            for name, (searcher, params) in systems.items():
                started = time.perf_counter()
                searcher.search(SearchParams(q=query, k=10, **params))
                times[name].append(time.perf_counter() - started)
    print("| system | p50 ms | p95 ms | searches |")
    print("|---|---|---|---|")
    for name, spent in times.items():
        spent.sort()
        p95 = spent[int(len(spent) * 0.95)]
        print(f"| {name} | {statistics.median(spent) * 1000:.2f} | {p95 * 1000:.2f} | {len(spent)} |")


if __name__ == "__main__":
    main(*sys.argv[1:4])
