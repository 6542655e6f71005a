"""The lexical leg on tantivy against tracuu's own BM25, side by side, on one index version (issue 17).

Usage: python scripts/tantivy_vs_bm25.py INDEX QUERIES.jsonl QRELS.tsv   (needs `pip install tantivy`)

Feeds tantivy exactly tracuu's tokens (both views, syllable bigrams, the title counted TITLE_WEIGHT times,
through its whitespace tokenizer) and asks it tracuu's query tokens as a disjunction; ranks the same
passages with `LexicalIndex`. Prints, per engine, nDCG@10 and success@1 over articles (a passage counts
for its article, first occurrence), the share of top-10 passages the two share, and query latency p50.
Nothing here is used by tracuu yet: it measures whether the switch keeps quality (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import tantivy

from indexer.format.lexical import LexicalIndex, passage_tokens
from indexer.format.segments import Snapshot
from tracuu.text.tokens import query_tokens

DEPTH = 100


def ndcg_at_10(ranked_docs: list[str], relevant: dict[str, int]) -> float:
    gains = [relevant.get(d, 0) for d in ranked_docs[:10]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def articles(passages: list[int], doc_of: dict[int, str]) -> list[str]:
    seen: dict[str, None] = {}
    for pid in passages:
        seen.setdefault(doc_of[pid], None)
    return list(seen)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("queries", type=Path)
    ap.add_argument("qrels", type=Path)
    args = ap.parse_args(argv)
    snapshot = Snapshot.current(args.index)
    store = snapshot.store()
    ids = sorted(pid for pid, _ in store.live_passages())
    found = store.passages(ids)
    rows = [(pid, found[pid].doc_id, found[pid].title, found[pid].text) for pid in ids]
    doc_of = {pid: doc for pid, doc, _, _ in rows}

    schema = tantivy.SchemaBuilder()
    schema.add_integer_field("pid", stored=True, indexed=True)
    schema.add_text_field("tokens", tokenizer_name="whitespace", index_option="freq")
    built = schema.build()
    work = tempfile.mkdtemp(prefix="tantivy-")
    started = time.perf_counter()
    engine = tantivy.Index(built, path=work)
    writer = engine.writer()
    for pid, _, title, text in rows:
        writer.add_document(tantivy.Document(pid=pid, tokens=" ".join(passage_tokens(title, text))))
    writer.commit()
    writer.wait_merging_threads()
    engine.reload()
    build_s = time.perf_counter() - started
    searcher = engine.searcher()

    def tantivy_top(query: str) -> list[int]:
        terms = [
            (tantivy.Occur.Should, tantivy.Query.term_query(built, "tokens", token)) for token in query_tokens(query)
        ]
        if not terms:
            return []
        hits = searcher.search(tantivy.Query.boolean_query(terms), DEPTH).hits
        return [searcher.doc(address)["pid"][0] for _, address in hits]

    lexical = LexicalIndex(snapshot.segments, store.deleted_ids())

    def own_top(query: str) -> list[int]:
        return [pid for pid, _ in lexical.top(lexical.score_query(query), DEPTH)]

    queries = [json.loads(line) for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    qrels: dict[str, dict[str, int]] = {}
    for line in args.qrels.read_text(encoding="utf-8").splitlines()[1:]:
        qid, doc, score = line.split("\t")
        qrels.setdefault(qid, {})[doc] = int(score)
    judged = [q for q in queries if q["_id"] in qrels]

    report: dict[str, object] = {"passages": len(rows), "queries": len(judged), "tantivy_build_s": round(build_s, 2)}
    tops: dict[str, list[list[int]]] = {}
    engines: dict[str, Callable[[str], list[int]]] = {"bm25": own_top, "tantivy": tantivy_top}
    for name, top in engines.items():
        times, ndcg, first = [], [], []
        tops[name] = []
        for q in judged:
            t = time.perf_counter()
            ranked = top(q["text"])
            times.append(time.perf_counter() - t)
            tops[name].append(ranked)
            docs = articles(ranked, doc_of)
            ndcg.append(ndcg_at_10(docs, qrels[q["_id"]]))
            first.append(1.0 if docs and qrels[q["_id"]].get(docs[0], 0) > 0 else 0.0)
        report[name] = {
            "ndcg@10": round(statistics.mean(ndcg), 4),
            "success@1": round(statistics.mean(first), 4),
            "p50_ms": round(1000 * statistics.median(times), 3),
        }
    shared = [len(set(a[:10]) & set(b[:10])) / max(1, min(10, len(a))) for a, b in zip(*tops.values(), strict=True)]
    report["top10_shared"] = round(statistics.mean(shared), 4)
    store.close()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
