"""A second evaluation set, in BEIR layout, from a JSON Lines corpus: each article's title is a query whose
one relevant document is the article itself, indexed without its title (known-item search).

Usage: python scripts/title_set.py ARTICLES.jsonl OUT_DIR [--queries N]

Used to check on text that tracuu was never tuned on (../shared/corpora/vi-news) that the fusion and
restoration choices made on zalo-wikiqa-2019 carry over. Writes OUT_DIR/{corpus.jsonl,queries.jsonl,qrels.tsv};
OUT_DIR must be outside the repository (the articles are not ours to publish).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SEED = 20261124


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("articles", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--queries", type=int, default=1000, help="titles used as queries (a seeded sample)")
    args = ap.parse_args(argv)
    articles = [json.loads(line) for line in args.articles.read_text(encoding="utf-8").splitlines() if line.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "corpus.jsonl").open("w", encoding="utf-8") as corpus:
        for a in articles:
            corpus.write(json.dumps({"_id": a["id"], "title": "", "text": a["text"]}, ensure_ascii=False) + "\n")
    sample = random.Random(SEED).sample(articles, min(args.queries, len(articles)))
    with (args.out / "queries.jsonl").open("w", encoding="utf-8") as queries:
        for a in sample:
            queries.write(json.dumps({"_id": "q-" + a["id"], "text": a["title"]}, ensure_ascii=False) + "\n")
    qrels = ["query-id\tcorpus-id\tscore"] + [f"q-{a['id']}\t{a['id']}\t1" for a in sample]
    (args.out / "qrels.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
    print(f"{len(articles)} articles, {len(sample)} title queries -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
