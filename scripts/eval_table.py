"""`make eval`: tracuu's modes and the peers a Vietnamese engineer would assemble, side by side.

Usage: python scripts/eval_table.py INDEX_DIR QUERIES.jsonl QRELS.tsv

Every system ranks the same queries on the same index, with tone marks and with them
stripped. The peers use the same model and the same BM25 index, without tracuu's extras:
  dense e5-small        the dense leg alone, the query as typed
  BM25 folded           BM25 over the accent-folded unigram+bigram view only
  RRF(BM25, dense)      plain reciprocal rank fusion of the two peers above
"""

from __future__ import annotations

import sys
from pathlib import Path

from retrieval.fusion import reciprocal_rank_fusion
from retrieval.searcher import Searcher
from tracuu.text.normalise import fold
from tracuu_cli.evaluate import PASSAGE_DEPTH, Ranker, distinct, evaluate, load_qrels, load_queries, searcher_ranker

METRICS = ("ndcg@10", "success@1", "mrr@10", "success@5", "recall@100", "ms_per_query")


def peer_rankers(searcher: Searcher) -> dict[str, Ranker]:
    def to_docs(ranked: list[tuple[int, float]]) -> list[str]:
        rows = searcher.store.passages(pid for pid, _ in ranked)
        return distinct(rows[pid].doc_id for pid, _ in ranked if pid in rows)

    def dense(query: str) -> list[tuple[int, float]]:
        return [(c.id, c.score) for c in searcher._dense(query, PASSAGE_DEPTH, None)]

    def bm25(query: str) -> list[tuple[int, float]]:
        return searcher.lexical.search(fold(query), PASSAGE_DEPTH)

    return {
        "peer: dense e5-small": lambda q: to_docs(dense(q)),
        "peer: BM25 folded uni+bigrams": lambda q: to_docs(bm25(q)),
        "peer: RRF(BM25 folded, dense)": lambda q: to_docs(reciprocal_rank_fusion([dense(q), bm25(q)], [1.0, 1.0])),
    }


def main(index_dir: str, queries_path: str, qrels_path: str) -> None:
    searcher = Searcher(Path(index_dir))
    rrf_searcher = Searcher(Path(index_dir), embedder=searcher.embedder, fusion="rrf")
    minmax_searcher = Searcher(Path(index_dir), embedder=searcher.embedder, fusion="minmax")
    no_feedback_searcher = Searcher(Path(index_dir), embedder=searcher.embedder, feedback=0.0)
    queries, qrels = load_queries(Path(queries_path)), load_qrels(Path(qrels_path))
    systems = {
        **peer_rankers(searcher),
        "tracuu --mode dense": searcher_ranker(searcher, "dense"),
        "tracuu --mode lexical": searcher_ranker(searcher, "lexical"),
        "tracuu hybrid, RRF fusion instead": searcher_ranker(rrf_searcher, "hybrid"),
        "tracuu hybrid, min-max fusion instead": searcher_ranker(minmax_searcher, "hybrid"),
        "tracuu hybrid, without feedback": searcher_ranker(no_feedback_searcher, "hybrid"),
        "tracuu --mode hybrid (default)": searcher_ranker(searcher, "hybrid"),
    }
    print(f"| system | queries | {' | '.join(METRICS)} |")
    print("|---|---|" + "---|" * len(METRICS))
    for name, rank in systems.items():
        for folded in (False, True):
            report = evaluate(rank, queries, qrels, typed=fold if folded else None)
            label = "without tone marks" if folded else "with tone marks"
            print(f"| {name} | {label} | " + " | ".join(f"{report[m]:.3f}" for m in METRICS) + " |", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
