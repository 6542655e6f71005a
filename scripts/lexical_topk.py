"""The lexical leg's top k, exhaustive against pruned, side by side in one process (issue 17).

Usage: python scripts/lexical_topk.py INDEX QUERIES.jsonl [-k 40] [-n 100]

INDEX is an index directory (its current version is opened, deletions included) or one segment directory.
For each query, alternately: the exhaustive path the Searcher used before (a BM25 score for every passage,
the k best, every passage sharing a token as the matches) and `LexicalIndex.query` (MaxScore over the
common tokens). Checks that both return the same k passages with the same scores, and prints the p50 and
p90 of each and the median number of matches each reports (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from indexer.format import layout
from indexer.format.lexical import LexicalIndex
from indexer.format.segments import Snapshot
from tracuu.text.tokens import query_tokens


def open_lexical(path: Path) -> LexicalIndex:
    """The lexical index of an index directory's current version, or of one segment directory."""
    if (path / "current").exists():
        version = layout.current_version(path)
        snapshot = Snapshot.open(version, layout.read_manifest(version))
        store = snapshot.store()
        try:
            return LexicalIndex(snapshot.segments, store.deleted_ids())
        finally:
            store.close()
    return LexicalIndex([path])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("queries", type=Path)
    parser.add_argument("-k", type=int, default=40, help="passages ranked (the Searcher asks 2 k + 20, 100 in hybrid)")
    parser.add_argument("-n", type=int, default=100, help="queries")
    args = parser.parse_args()
    lexical = open_lexical(args.index)
    with args.queries.open(encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines][: args.n]

    def exhaustive(tokens: list[str]) -> tuple[list[tuple[int, float]], np.ndarray]:
        known = [t for t in tokens if t in lexical.vocab]
        scores = lexical.scores(known) if known else None
        return lexical.top(scores, args.k), lexical.matching_ids(scores)

    times: dict[str, list[float]] = {"exhaustive": [], "pruned": []}
    matches: dict[str, list[int]] = {"exhaustive": [], "pruned": []}
    for text in texts[:5]:  # pages in, caches filled
        exhaustive(query_tokens(text))
        lexical.query(query_tokens(text), args.k)
    for text in texts:
        tokens = query_tokens(text)
        started = time.perf_counter()
        want, every = exhaustive(tokens)
        times["exhaustive"].append(time.perf_counter() - started)
        started = time.perf_counter()
        got, matched = lexical.query(tokens, args.k)
        times["pruned"].append(time.perf_counter() - started)
        if got != want:
            raise SystemExit(f"pruned top {args.k} differs for {text!r}")
        matches["exhaustive"].append(len(every))
        matches["pruned"].append(len(matched))
    out = {"passages": lexical.n_docs, "queries": len(texts), "k": args.k, "same_top_k": True}
    for name, samples in times.items():
        out[f"{name}_p50_ms"] = round(statistics.median(samples) * 1000, 2)
        out[f"{name}_p90_ms"] = round(float(np.percentile(samples, 90)) * 1000, 2)
        out[f"{name}_matches_p50"] = statistics.median(matches[name])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
