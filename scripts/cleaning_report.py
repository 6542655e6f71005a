"""Measure JSON Lines body cleaning (indexer.cleaning) on a corpus such as vi-news.

    python scripts/cleaning_report.py ../shared/corpora/vi-news/articles.jsonl [--sample 50] [--seed 0]

Prints removals per rule; the boilerplate sentences found across articles (indexer.boilerplate); the
share of articles and of passages still containing clutter markers before and after; authors/credits
found; timings of reading with and without cleaning; and a seeded random sample of removed fragments
to check by hand.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.boilerplate import Boilerplate  # noqa: E402
from indexer.chunking import ChunkingParams, chunk_text  # noqa: E402
from indexer.cleaning import clean_body  # noqa: E402
from indexer.dedup import duplicate_groups  # noqa: E402
from indexer.readers import read_jsonl  # noqa: E402

MARKERS = {
    "Ảnh:": re.compile(r"\b[Ảả]nh\s*:"),
    "ảnh minh họa": re.compile(r"[Ảả]nh minh h[ọo]a"),
    "(Ảnh …)": re.compile(r"\(\s*[Ảả]nh"),
    "(Tổng hợp)/(t/h)": re.compile(r"\((?:[Tt]ổng hợp|t/h)\)"),
    "Video:": re.compile(r"Video\s*:"),
    "Xem thêm": re.compile(r"Xem thêm"),
    "Tin liên quan": re.compile(r"Tin liên quan"),
    "URL": re.compile(r"https?://|www\."),
    "(Theo …) at end": re.compile(r"\(\s*[Tt]heo [^()]{2,60}\)\s*\.?\s*$"),
}


def _passages(text: str) -> list:
    """Passages as the index would cut them, with words standing in for model tokens (200 max)."""
    return chunk_text(text, lambda s: len(s.split()), ChunkingParams())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    raw = list(read_jsonl(args.path, raw=True))
    t_raw = time.perf_counter() - start
    start = time.perf_counter()
    clean = list(read_jsonl(args.path))
    t_clean = time.perf_counter() - start

    rules: Counter[str] = Counter()
    parts: list[tuple[str, str, str]] = []
    for article in raw:
        result = clean_body(article.text, article.title)
        rules.update(result.removed)
        parts.extend((article.id, rule, part) for rule, part in result.removed_parts)

    print(
        f"{len(raw)} articles; read {t_raw:.2f}s raw, {t_clean:.2f}s with cleaning "
        f"(+{(t_clean - t_raw) * 1000 / max(len(raw), 1):.2f} ms/article)"
    )
    chars_raw, chars_clean = sum(len(a.text) for a in raw), sum(len(a.text) for a in clean)
    print(f"text: {chars_raw} -> {chars_clean} characters ({100 * (chars_raw - chars_clean) / chars_raw:.2f}% removed)")
    print("\nremovals per rule:")
    for rule, count in rules.most_common():
        print(f"  {rule:15} {count}")

    # What indexing does next: sentences a source repeats at the edges of many articles (indexer.boilerplate).
    boilerplate = Boilerplate.detect(clean, duplicate_groups(clean))
    left_out = boilerplate.strip(clean)
    print(f"\nboilerplate: {left_out} sentences left out ({sum(map(len, boilerplate.sentences.values()))} distinct)")
    for source, keys in sorted(boilerplate.sentences.items()):
        for key in sorted(keys):
            print(f"  [{source}] {key[:150]}")

    passages_raw = [p.text for a in raw for p in _passages(a.text)]
    passages_clean = [p.text for a in clean for p in _passages(a.text)]
    print(
        f"\nshare containing marker      articles before -> after   passages before -> after "
        f"({len(passages_raw)} -> {len(passages_clean)} passages)"
    )
    for name, pattern in MARKERS.items():
        ab = sum(bool(pattern.search(a.text)) for a in raw) / len(raw)
        aa = sum(bool(pattern.search(a.text)) for a in clean) / len(clean)
        pb = sum(bool(pattern.search(t)) for t in passages_raw) / max(len(passages_raw), 1)
        pa = sum(bool(pattern.search(t)) for t in passages_clean) / max(len(passages_clean), 1)
        print(f"  {name:26} {100 * ab:6.2f}% -> {100 * aa:6.2f}%      {100 * pb:6.2f}% -> {100 * pa:6.2f}%")

    authors = sum(a.author is not None for a in clean)
    credits = sum("source_credit" in a.extra for a in clean)
    print(f"\nauthor found: {authors}/{len(clean)} articles; source credit found: {credits}/{len(clean)}")
    # Articles that end with a byline-shaped tail: a short capitalised run after the last sentence.
    byline_tail = re.compile(r"[.!?”\"]\s+(?:[A-ZĐ][\w.]*(?:[ /-][A-ZĐ][\w.]*){0,4})\s*(?:\([^()]*\))?\s*$")
    ending = [c for r, c in zip(raw, clean, strict=True) if byline_tail.search(r.text)]
    found = sum(c.author is not None or "source_credit" in c.extra for c in ending)
    print(f"of {len(ending)} articles ending with a byline-shaped tail, {found} got an author or credit")
    # A byline is a person: the tails that are not an outlet ("Theo VnExpress", "TTXVN") or an agency credit.
    personal = [c for c in ending if "source_credit" not in c.extra or c.author is not None]
    authors_found = sum(c.author is not None for c in personal)
    print(f"of {len(personal)} of them not ending with an outlet credit, {authors_found} got an author")
    missed = [
        r.text[-60:]
        for r, c in zip(raw, clean, strict=True)
        if byline_tail.search(r.text) and c.author is None and "source_credit" not in c.extra
    ][:15]
    for tail in missed:
        print(f"    missed: …{tail!r}")

    print(f"\n{args.sample} random removed fragments (seed {args.seed}):")
    for doc_id, rule, part in random.Random(args.seed).sample(parts, min(args.sample, len(parts))):
        print(f"  [{rule}] {doc_id}: {part[:160]!r}")


if __name__ == "__main__":
    main()
