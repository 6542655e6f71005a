"""`tracuu eval`: BEIR-style retrieval metrics for an index (trec_eval definitions).

An article counts once, at the rank of its best passage. nDCG uses the graded relevance in
the qrels; success@k is the share of queries with a relevant article in the top k.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from retrieval.contract import SearchParams, limited
from retrieval.searcher import Searcher
from tracuu.settings import Settings
from tracuu.text.normalise import fold, fold_every_other_marked_word

Ranker = Callable[[str], list[str]]  # query -> article ids, best first
PASSAGE_DEPTH = 300  # passages fetched per query, enough for 100 distinct articles in practice


def load_queries(path: Path) -> list[tuple[str, str]]:
    queries = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                queries.append((str(record["_id"]), record["text"]))
    return queries


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader)
        if header[:2] != ["query-id", "corpus-id"]:
            raise ValueError(f"{path}: expected a header 'query-id corpus-id score', got {header}")
        for row in reader:
            if len(row) >= 3 and int(row[2]) > 0:
                qrels[row[0]][row[1]] = int(row[2])
    return qrels


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def mrr_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    return next((1.0 / (i + 1) for i, doc in enumerate(ranked[:k]) if doc in relevant), 0.0)


def success_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    return 1.0 if any(doc in relevant for doc in ranked[:k]) else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def distinct(doc_ids: Iterable[str], n: int = 100) -> list[str]:
    """Distinct article ids in order: each article at the rank of its best passage."""
    return list(dict.fromkeys(doc_ids))[:n]


def searcher_ranker(searcher: Searcher, mode: str, exact: bool = False) -> Ranker:
    """Rank articles the way `tracuu search --mode MODE` does."""
    deep = limited(SearchParams, searcher.settings, max_k=PASSAGE_DEPTH)

    def rank(query: str) -> list[str]:
        result = searcher.search(deep.parse({"q": query, "k": PASSAGE_DEPTH, "mode": mode, "exact": exact}))
        return distinct(hit.doc_id for hit in result.hits)

    return rank


def evaluate(
    rank: Ranker,
    queries: list[tuple[str, str]],
    qrels: dict[str, dict[str, int]],
    k: int = 10,
    typed: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Metrics of `rank` over the queries, each first passed through `typed` (how users type it) if given."""
    per_metric: dict[str, list[float]] = defaultdict(list)
    timings = []
    for qid, text in queries:
        relevant = qrels.get(qid)
        if not relevant:
            continue
        started = time.perf_counter()
        ranked = rank(typed(text) if typed else text)
        timings.append((time.perf_counter() - started) * 1000)
        per_metric[f"ndcg@{k}"].append(ndcg_at(ranked, relevant, k))
        per_metric[f"mrr@{k}"].append(mrr_at(ranked, relevant, k))
        for cut in (1, 5, 10, 100):
            per_metric[f"success@{cut}"].append(success_at(ranked, relevant, cut))
        per_metric["recall@100"].append(recall_at(ranked, relevant, 100))
    report: dict[str, Any] = {"queries": len(timings)}
    report.update({name: round(statistics.fmean(values), 4) for name, values in per_metric.items()})
    report["ms_per_query"] = round(statistics.median(timings), 2) if timings else 0.0
    return report


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    searcher = Searcher(Path(args.index), model=args.model, settings=settings)
    ranker = searcher_ranker(searcher, args.mode)
    typed = fold if args.fold_queries else fold_every_other_marked_word if args.fold_half else None
    report = evaluate(ranker, load_queries(Path(args.queries)), load_qrels(Path(args.qrels)), args.k, typed)
    if args.json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print(f"{name:>14}  {value}")
    return 0
