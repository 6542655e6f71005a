"""`tracuu eval`: BEIR-style retrieval metrics for an index (trec_eval definitions).

An article counts once, at the rank of its best passage. nDCG uses the graded relevance in
the qrels; success@k is the share of queries with a relevant article in the top k.

`--group article` ranks with the search's `group=article` (one hit per article, as the page shows
them) instead of distinct articles of a deep passage ranking; the metrics and their keys are the same.
`--answers ANSWERS.jsonl` adds `answer@1`: among the queries whose first hit is a relevant article,
the share whose hit's `answer` (the sentence the search marks as answering) contains an expected answer.
`--keywords N` and `--typos` vary the queries (tracuu_cli/variants.py); `--by-lang` adds `by_lang`, the
same metrics per query language (a query line's `lang`, else the language detected in its text).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from retrieval.contract import SearchParams, limited
from retrieval.searcher import Searcher
from tracuu.settings import Settings
from tracuu.text.lang import detect_query_language
from tracuu.text.normalise import fold, fold_every_other_marked_word
from tracuu_cli.variants import compose, keywords, with_typo, word_frequency

Ranker = Callable[[str], list[str]]  # query -> article ids, best first (a `Ranked` also carries the answer)
PASSAGE_DEPTH = 300  # passages fetched per query, enough for 100 distinct articles in practice
ARTICLE_DEPTH = 100  # articles fetched per query with group=article: the deepest cut-off (success@100, recall@100)
GROUPS = ("passage", "article")
EXIT_BAD_INPUT = 2  # as tracuu_cli.main


class Ranked(list[str]):
    """Article ids, best first, and the answer text of the first hit (None: no hit, or no answer marked).

    A list, so a ranker that returns one is still a `Ranker` (scripts/eval_table.py's peers return plain lists).
    """

    def __init__(self, doc_ids: Iterable[str] = (), answer: str | None = None) -> None:
        super().__init__(doc_ids)
        self.answer = answer


def load_queries(path: Path) -> list[tuple[str, str]]:
    queries = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                queries.append((str(record["_id"]), record["text"]))
    return queries


def load_languages(path: Path) -> dict[str, str]:
    """Each query's language: its line's `lang` when given, else the one detected in its text ("?": none)."""
    languages = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                given = record.get("lang")
                languages[str(record["_id"])] = given or detect_query_language(record["text"]) or "?"
    return languages


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


def load_answers(path: Path) -> dict[str, list[str]]:
    """Expected answers per query id, from `{"_id", "answers": [...]}` lines; a query with none is left out."""
    answers: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            given = record.get("answers") if isinstance(record, dict) else None
            if not isinstance(given, list) or "_id" not in record or not all(isinstance(a, str) for a in given):
                raise ValueError(f'{path}:{number}: expected {{"_id": ..., "answers": [strings]}}, got {line[:80]!r}')
            if any(a.strip() for a in given):
                answers[str(record["_id"])] = [a for a in given if a.strip()]
    return answers


def _comparable(text: str) -> str:
    """Text as answers are compared: NFC, case-folded, runs of white space as one space."""
    return " ".join(unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold()).split())


def answer_found(answer: str | None, expected: Iterable[str]) -> bool:
    """Whether the marked answer text contains one of the expected answers (case-insensitive, NFC)."""
    if not answer:
        return False
    text = _comparable(answer)
    return any(_comparable(e) in text for e in expected if e.strip())


def distinct(doc_ids: Iterable[str], n: int = 100) -> list[str]:
    """Distinct article ids in order: each article at the rank of its best passage."""
    return list(dict.fromkeys(doc_ids))[:n]


def searcher_ranker(searcher: Searcher, mode: str, exact: bool = False, group: str = "passage") -> Ranker:
    """Rank articles the way `tracuu search --mode MODE --group GROUP` does.

    passage: the distinct articles of the top PASSAGE_DEPTH passages, each at its best passage's rank.
    article: the top ARTICLE_DEPTH hits of group=article, one per article (distinct again, in case).
    Either way the `Ranked` carries the first hit's answer text.
    """
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}, got {group!r}")
    depth = PASSAGE_DEPTH if group == "passage" else ARTICLE_DEPTH
    deep = limited(SearchParams, searcher.settings, max_k=depth)

    def rank(query: str) -> Ranked:
        params = deep.parse({"q": query, "k": depth, "mode": mode, "exact": exact, "group": group})
        hits = searcher.search(params).hits
        answer = hits[0].answer.text if hits and hits[0].answer else None
        return Ranked(distinct(hit.doc_id for hit in hits), answer)

    return rank


def evaluate(
    rank: Ranker,
    queries: list[tuple[str, str]],
    qrels: dict[str, dict[str, int]],
    k: int = 10,
    typed: Callable[[str], str] | None = None,
    answers: dict[str, list[str]] | None = None,
    languages: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Metrics of `rank` over the queries, each first passed through `typed` (how users type it) if given.

    With `answers` (expected answers per query id) the report adds `answer@1`, the share of the queries
    with expected answers and a relevant first article whose first hit's answer contains one of them
    (null when there is no such query), and `answer_queries`, how many such queries there were.
    With `languages` (a language per query id) it adds `by_lang`: the same report per language.
    """
    measured: list[tuple[str, dict[str, float], float, float | None]] = []  # qid, metrics, ms, answer
    for qid, text in queries:
        relevant = qrels.get(qid)
        if not relevant:
            continue
        started = time.perf_counter()
        ranked = rank(typed(text) if typed else text)
        elapsed = (time.perf_counter() - started) * 1000
        metrics = {f"ndcg@{k}": ndcg_at(ranked, relevant, k), f"mrr@{k}": mrr_at(ranked, relevant, k)}
        metrics.update({f"success@{cut}": success_at(ranked, relevant, cut) for cut in (1, 5, 10, 100)})
        metrics["recall@100"] = recall_at(ranked, relevant, 100)
        answer = None
        if answers is not None and answers.get(qid) and ranked and ranked[0] in relevant:
            answer = 1.0 if answer_found(getattr(ranked, "answer", None), answers[qid]) else 0.0
        measured.append((qid, metrics, elapsed, answer))
    report = _report(measured, answers is not None)
    if languages is not None:
        by_lang: dict[str, list[tuple[str, dict[str, float], float, float | None]]] = defaultdict(list)
        for row in measured:
            by_lang[languages.get(row[0], "?")].append(row)
        report["by_lang"] = {lang: _report(rows, answers is not None) for lang, rows in sorted(by_lang.items())}
    return report


def _report(measured: list[tuple[str, dict[str, float], float, float | None]], answers: bool) -> dict[str, Any]:
    """The mean of each metric over the measured queries, the median time, and answer@1 when asked."""
    report: dict[str, Any] = {"queries": len(measured)}
    names = measured[0][1] if measured else {}
    report.update({name: round(statistics.fmean(m[name] for _, m, _, _ in measured), 4) for name in names})
    report["ms_per_query"] = round(statistics.median(ms for _, _, ms, _ in measured), 2) if measured else 0.0
    if answers:
        answered = [a for _, _, _, a in measured if a is not None]
        report["answer@1"] = round(statistics.fmean(answered), 4) if answered else None
        report["answer_queries"] = len(answered)
    return report


def varied(
    searcher: Searcher, keep: int | None, typos: bool, fold_queries: bool = False, fold_half: bool = False
) -> Callable[[str], str] | None:
    """How each query is typed: cut to its `keep` rarest words, given a typo, then its marks stripped
    (all, or every second word's); None when it is searched as written."""
    frequency = word_frequency(searcher.lexical.document_frequency, searcher.lexical.n_docs)
    return compose(
        (lambda query: keywords(query, keep, frequency)) if keep else None,
        (lambda query: with_typo(query, frequency)) if typos else None,
        fold if fold_queries else fold_every_other_marked_word if fold_half else None,
    )


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.keywords is not None and args.keywords < 1:
        print(f"tracuu: error: eval: --keywords must be at least 1, got {args.keywords}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:  # the files first: a bad one is reported before the model loads
        queries, qrels = load_queries(Path(args.queries)), load_qrels(Path(args.qrels))
        answers = load_answers(Path(args.answers)) if args.answers else None
        languages = load_languages(Path(args.queries)) if args.by_lang else None
    except (ValueError, KeyError, TypeError) as exc:  # not JSON, no "_id"/"text", a bad header or score
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        print(f"tracuu: error: eval: {detail}", file=sys.stderr)
        return EXIT_BAD_INPUT
    searcher = Searcher(Path(args.index), model=args.model, settings=settings)
    ranker = searcher_ranker(searcher, args.mode, group=args.group)
    typed = varied(searcher, args.keywords, args.typos, args.fold_queries, args.fold_half)
    report = evaluate(ranker, queries, qrels, args.k, typed, answers, languages)
    if args.json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print(f"{name:>14}  {value}")
    return 0
