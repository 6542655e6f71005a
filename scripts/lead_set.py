"""A lead-sentence question set, in BEIR layout, from a JSON Lines corpus: the first sentence of each
sampled article's lead is a query whose one relevant document is that article, indexed without it.

Usage: python scripts/lead_set.py ARTICLES.jsonl OUT_DIR [--queries N]

The kind of query where the first words ask for the rest of the story, and share many words with it
(issue 15, item 6). Articles whose first sentence is too short to ask anything (under MIN_WORDS words)
are not sampled. OUT_DIR must be outside the repository (the articles are not ours to publish).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from tracuu.text.sentences import sentence_spans

SEED = 20261202
MIN_WORDS = 8


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("articles", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--queries", type=int, default=1000, help="lead sentences used as queries (a seeded sample)")
    args = ap.parse_args(argv)
    articles = [json.loads(line) for line in args.articles.read_text(encoding="utf-8").splitlines() if line.strip()]
    leads: dict[str, tuple[str, str]] = {}  # id -> (first sentence, the rest)
    for a in articles:
        spans = sentence_spans(a["text"])
        if len(spans) > 1 and len(a["text"][spans[0].start : spans[0].end].split()) >= MIN_WORDS:
            leads[a["id"]] = (a["text"][spans[0].start : spans[0].end], a["text"][spans[1].start :])
    sample = set(random.Random(SEED).sample(sorted(leads), min(args.queries, len(leads))))
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "corpus.jsonl").open("w", encoding="utf-8") as corpus:
        for a in articles:
            text = leads[a["id"]][1] if a["id"] in sample else a["text"]
            corpus.write(json.dumps({"_id": a["id"], "title": a["title"], "text": text}, ensure_ascii=False) + "\n")
    with (args.out / "queries.jsonl").open("w", encoding="utf-8") as queries:
        for doc_id in sorted(sample):
            queries.write(json.dumps({"_id": "lead-" + doc_id, "text": leads[doc_id][0]}, ensure_ascii=False) + "\n")
    qrels = ["query-id\tcorpus-id\tscore"] + [f"lead-{d}\t{d}\t1" for d in sorted(sample)]
    (args.out / "qrels.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
    print(f"{len(articles)} articles, {len(sample)} lead-sentence queries -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
