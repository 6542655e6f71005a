"""What time words do to a question set: its questions that name a period, searched with time=on and time=off.

Usage: python scripts/time_eval.py INDEX_DIR QUERIES.jsonl QRELS.tsv

For each of eval_table.py's tracuu systems, with tone marks and without: how many questions name a period,
their nDCG@10 and success@1 with time=off (today's search) and time=on, and what that changes in the mean
over the whole set (every other question takes the unchanged path, so this is the whole table's change).
"""

from __future__ import annotations

import sys
from pathlib import Path

from retrieval.contract import SearchParams, limited
from retrieval.searcher import Searcher
from tracuu.text.normalise import fold
from tracuu_cli.evaluate import PASSAGE_DEPTH, Ranked, Ranker, distinct, evaluate, load_qrels, load_queries


def ranker(searcher: Searcher, mode: str, time: str) -> Ranker:
    """`searcher_ranker` (passage group) with the time switch."""
    deep = limited(SearchParams, searcher.settings, max_k=PASSAGE_DEPTH)

    def rank(query: str) -> Ranked:
        params = deep.parse({"q": query, "k": PASSAGE_DEPTH, "mode": mode, "time": time})
        hits = searcher.search(params).hits
        return Ranked(distinct(h.doc_id for h in hits), hits[0].answer.text if hits and hits[0].answer else None)

    return rank


def main(index_dir: str, queries_path: str, qrels_path: str) -> None:
    searcher = Searcher(Path(index_dir))
    systems = {
        "tracuu --mode dense": (searcher, "dense"),
        "tracuu --mode lexical": (searcher, "lexical"),
        "tracuu hybrid, RRF fusion instead": (
            Searcher(Path(index_dir), embedder=searcher.embedder, fusion="rrf"),
            "hybrid",
        ),
        "tracuu hybrid, min-max fusion instead": (
            Searcher(Path(index_dir), embedder=searcher.embedder, fusion="minmax"),
            "hybrid",
        ),
        "tracuu hybrid, without feedback": (
            Searcher(Path(index_dir), embedder=searcher.embedder, feedback=0.0),
            "hybrid",
        ),
        "tracuu --mode hybrid (default)": (searcher, "hybrid"),
    }
    queries, qrels = load_queries(Path(queries_path)), load_qrels(Path(qrels_path))
    print("| system | queries | naming a period | nDCG@10 off → on | success@1 off → on | whole set: nDCG@10, s@1 |")
    print("|---|---|---|---|---|---|")
    for name, (system, mode) in systems.items():
        for folded in (False, True):
            typed = fold if folded else None
            timed = [(i, t) for i, t in queries if system.time.interpret(fold(t) if folded else t)]
            if not timed:
                continue
            off = evaluate(ranker(system, mode, "off"), timed, qrels, typed=typed)
            on = evaluate(ranker(system, mode, "on"), timed, qrels, typed=typed)
            share = len(timed) / len(queries)
            whole = ", ".join(f"{(on[m] - off[m]) * share:+.4f}" for m in ("ndcg@10", "success@1"))
            print(
                f"| {name} | {'without' if folded else 'with'} tone marks | {len(timed)} of {len(queries)} | "
                f"{off['ndcg@10']:.3f} → {on['ndcg@10']:.3f} | {off['success@1']:.3f} → {on['success@1']:.3f} | "
                f"{whole} |",
                flush=True,
            )


if __name__ == "__main__":
    main(*sys.argv[1:4])
