"""`make eval`: tracuu's modes and the peers a Vietnamese engineer would assemble, side by side.

Usage: python scripts/eval_table.py INDEX_DIR QUERIES.jsonl QRELS.tsv [--group passage|article ...]
                                    [--answers ANSWERS.jsonl] [--keywords N] [--by-lang]

Every system ranks the same queries on the same index, with tone marks and with them
stripped (queries without any, such as English ones, once); one table per --group (default passage):
tracuu's rows rank as `tracuu eval --group` does (the peers rank passages either way: they are in the
first table only). With --answers, an answer@1 column (`tracuu eval --answers`; the peers mark no
answer: "-"). The peers use the same model and the same BM25 index, without tracuu's extras:
  dense e5-small        the dense leg alone, the query as typed
  BM25 folded           BM25 over the accent-folded unigram+bigram view only
  RRF(BM25, dense)      plain reciprocal rank fusion of the two peers above
With --keywords N, one more table: each query cut to its N rarest words, as typed and with one seeded
typo (`tracuu eval --keywords N --typos`). With --by-lang, the default's metrics per query language.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from retrieval.fusion import reciprocal_rank_fusion
from retrieval.searcher import Searcher
from tracuu.text.normalise import fold
from tracuu_cli.evaluate import (
    GROUPS,
    PASSAGE_DEPTH,
    Ranker,
    distinct,
    evaluate,
    load_answers,
    load_languages,
    load_qrels,
    load_queries,
    searcher_ranker,
    varied,
)

METRICS = ("ndcg@10", "success@1", "mrr@10", "success@5", "recall@100", "ms_per_query")


def peer_rankers(searcher: Searcher) -> dict[str, Ranker]:
    def to_docs(ranked: list[tuple[int, float]]) -> list[str]:
        rows = searcher.store.passages(pid for pid, _ in ranked)
        return distinct(rows[pid].doc_id for pid, _ in ranked if pid in rows)

    def dense(query: str) -> list[tuple[int, float]]:
        return [(c.id, c.score) for c in searcher.nearest(query, PASSAGE_DEPTH)]

    def bm25(query: str) -> list[tuple[int, float]]:
        return searcher.lexical.search(fold(query), PASSAGE_DEPTH)

    return {
        "peer: dense e5-small": lambda q: to_docs(dense(q)),
        "peer: BM25 folded uni+bigrams": lambda q: to_docs(bm25(q)),
        "peer: RRF(BM25 folded, dense)": lambda q: to_docs(reciprocal_rank_fusion([dense(q), bm25(q)], [1.0, 1.0])),
    }


def main(
    index_dir: str,
    queries_path: str,
    qrels_path: str,
    groups: list[str],
    answers_path: str | None,
    keep: int | None = None,
    by_lang: bool = False,
) -> None:
    searcher = Searcher(Path(index_dir))
    rrf_searcher = Searcher(Path(index_dir), embedder=searcher.embedder, fusion="rrf")
    minmax_searcher = Searcher(Path(index_dir), embedder=searcher.embedder, fusion="minmax")
    no_feedback_searcher = Searcher(Path(index_dir), embedder=searcher.embedder, feedback=0.0)
    queries, qrels = load_queries(Path(queries_path)), load_qrels(Path(qrels_path))
    answers = load_answers(Path(answers_path)) if answers_path else None
    metrics = (*METRICS[:-1], "answer@1", METRICS[-1]) if answers is not None else METRICS
    # queries typed without marks already (English): stripping them changes nothing, one row each
    typings = (False, True) if any(fold(text) != text for _, text in queries) else (False,)
    for number, group in enumerate(groups):
        systems = {
            **(peer_rankers(searcher) if number == 0 else {}),
            "tracuu --mode dense": searcher_ranker(searcher, "dense", group=group),
            "tracuu --mode lexical": searcher_ranker(searcher, "lexical", group=group),
            "tracuu hybrid, RRF fusion instead": searcher_ranker(rrf_searcher, "hybrid", group=group),
            "tracuu hybrid, min-max fusion instead": searcher_ranker(minmax_searcher, "hybrid", group=group),
            "tracuu hybrid, without feedback": searcher_ranker(no_feedback_searcher, "hybrid", group=group),
            "tracuu --mode hybrid (default)": searcher_ranker(searcher, "hybrid", group=group),
        }
        print(f"{chr(10) if number else ''}{Path(queries_path).name}, tracuu with --group {group}:")
        print(f"| system | queries | {' | '.join(metrics)} |")
        print("|---|---|" + "---|" * len(metrics))
        for name, rank in systems.items():
            for folded in typings:
                report = evaluate(rank, queries, qrels, typed=fold if folded else None, answers=answers)
                if name.startswith("peer:") and answers is not None:
                    report["answer@1"] = None  # a peer marks no answer sentence
                label = "without tone marks" if folded else "with tone marks" if len(typings) > 1 else "as written"
                cells = ("-" if report[m] is None else f"{report[m]:.3f}" for m in metrics)
                print(f"| {name} | {label} | " + " | ".join(cells) + " |", flush=True)
    if keep:
        keyword_table(searcher, queries, qrels, keep)
    if by_lang:
        language_table(searcher, queries, qrels, load_languages(Path(queries_path)))


def keyword_table(searcher: Searcher, queries: list[tuple[str, str]], qrels: dict, keep: int) -> None:
    """success@10 / success@1 of short keyword queries, as typed and with one typo, for the peers and tracuu."""
    systems = {**peer_rankers(searcher), "tracuu --mode hybrid (default)": searcher_ranker(searcher, "hybrid")}
    print(f"\nqueries cut to their {keep} rarest words (tracuu eval --keywords {keep} [--typos]):")
    print("| system | success@10 | success@10 with a typo | success@1 | success@1 with a typo |")
    print("|---|---|---|---|---|")
    for name, rank in systems.items():
        clean = evaluate(rank, queries, qrels, typed=varied(searcher, keep, typos=False))
        typo = evaluate(rank, queries, qrels, typed=varied(searcher, keep, typos=True))
        cells = (clean["success@10"], typo["success@10"], clean["success@1"], typo["success@1"])
        print(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |", flush=True)


def language_table(searcher: Searcher, queries: list[tuple[str, str]], qrels: dict, languages: dict) -> None:
    """The default's metrics per query language (tracuu eval --by-lang)."""
    report = evaluate(searcher_ranker(searcher, "hybrid"), queries, qrels, languages=languages)
    print("\ntracuu --mode hybrid (default) by query language (tracuu eval --by-lang):")
    print("| language | queries | ndcg@10 | success@1 | success@10 |")
    print("|---|---|---|---|---|")
    for lang, part in report["by_lang"].items():
        cells = " | ".join(f"{part[m]:.3f}" for m in ("ndcg@10", "success@1", "success@10"))
        print(f"| {lang} | {part['queries']} | {cells} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", metavar="INDEX_DIR")
    parser.add_argument("queries", metavar="QUERIES.jsonl")
    parser.add_argument("qrels", metavar="QRELS.tsv")
    parser.add_argument("--group", action="append", choices=GROUPS, help="passage (default), article; repeatable")
    parser.add_argument("--answers", metavar="ANSWERS.jsonl", help="add answer@1 (tracuu eval --answers)")
    parser.add_argument("--keywords", type=int, metavar="N", help="add the table of N-keyword queries with typos")
    parser.add_argument("--by-lang", action="store_true", help="add the default's metrics per query language")
    args = parser.parse_args()
    groups = list(dict.fromkeys(args.group or ["passage"]))
    main(args.index, args.queries, args.qrels, groups, args.answers, args.keywords, args.by_lang)
