"""English queries' lexical leg (retrieval/crosslingual.py): the default beside the old plan and other settings.

Usage: python scripts/crosslingual_sweep.py INDEX_DIR QUERIES.jsonl QRELS.tsv

Prints nDCG@10 / success@1 / success@5 of hybrid search for: every token at weight 0.4 (the plan before
crosslingual.py), the default, names and numbers at other weights, and other evidence shares and name
rarities at which the weight is full. Settings are swapped in one process, so the query embeddings are computed once.
"""

from __future__ import annotations

import sys
from pathlib import Path

import retrieval.crosslingual as crosslingual
import retrieval.searcher as searcher_module
from retrieval.searcher import LEXICAL_WEIGHT, Searcher
from tracuu_cli.evaluate import evaluate, load_qrels, load_queries, searcher_ranker

WEIGHTS = (0.3, 0.5, 0.6)
SHARES = (0.0, 0.5)
RARE_NAMES = (0.3, 0.7)


def main(index_dir: str, queries_path: str, qrels_path: str) -> None:
    searcher = Searcher(Path(index_dir))
    queries, qrels = load_queries(Path(queries_path)), load_qrels(Path(qrels_path))
    plan, default_share = crosslingual.plan_lexical, crosslingual.FULL_EVIDENCE_SHARE

    def row(name: str) -> None:
        report = evaluate(searcher_ranker(searcher, "hybrid"), queries, qrels)
        cells = " / ".join(f"{report[m]:.3f}" for m in ("ndcg@10", "success@1", "success@5"))
        print(f"| {name} | {cells} |", flush=True)

    print("| English lexical leg | nDCG@10 / success@1 / success@5 |\n|---|---|")
    searcher_module.plan_lexical = lambda query, lexical, weight: crosslingual.LexicalPlan(None, weight)
    row(f"every token, weight {LEXICAL_WEIGHT} (before crosslingual.py)")
    searcher_module.plan_lexical = plan
    row(f"default: names and numbers, {LEXICAL_WEIGHT} scaled by evidence share, full from {default_share}")
    for weight in WEIGHTS:
        searcher_module.plan_lexical = lambda query, lexical, given, weight=weight: plan(
            query, lexical, weight if crosslingual.is_english(query) else given
        )
        row(f"names and numbers, weight {weight}, full from {default_share}")
    searcher_module.plan_lexical = plan
    for share in SHARES:
        crosslingual.FULL_EVIDENCE_SHARE = share
        row(f"names and numbers, weight {LEXICAL_WEIGHT}, " + (f"full from {share}" if share else "not scaled"))
    crosslingual.FULL_EVIDENCE_SHARE = default_share
    default_rare = crosslingual.RARE_NAME
    for rare in RARE_NAMES:
        crosslingual.RARE_NAME = rare
        row(f"names and numbers, weight {LEXICAL_WEIGHT}, full from rarest name idf {rare} of the rarest possible")
    crosslingual.RARE_NAME = default_rare


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
