"""Boilerplate of a source: sentences it repeats verbatim at the edges of many unrelated articles.

A footer, a donation notice with a bank account, a "read more in today's paper" line: no single
article shows that they are not the article's own, but the whole corpus does. A sentence is
boilerplate of its source when it
* is at least MIN_CHARS long (short sentences such as "Xin cảm ơn." repeat by chance),
* appears word for word in at least MIN_ARTICLES articles of that source (or SHARE of them, if
  more), counted once per group of near-duplicate copies (indexer.dedup), so a story republished
  five times does not make its own sentences boilerplate,
* and sits at an edge: in the first EDGE_HEAD or the last EDGE_TAIL of the article's text, where
  page furniture is; a real sentence quoted in several reports sits in their middles.

The sentences found are kept in the version (`boilerplate.json`), so that articles added later
(over HTTP, one at a time) lose them too.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.format import layout
from indexer.format.records import Article
from tracuu.text.sentences import Span, sentence_spans

BOILERPLATE_FILE = "boilerplate.json"
MIN_CHARS = 30
MIN_ARTICLES = 3
SHARE = 0.001
EDGE_HEAD = 0.15
EDGE_TAIL = 0.5


def _key(sentence: str) -> str:
    return " ".join(sentence.split())


def _edge_sentences(text: str) -> list[tuple[Span, str]]:
    """The long-enough sentences at the edges of `text`, with their keys."""
    spans = sentence_spans(text)
    length = max(len(text), 1)
    return [
        (span, _key(text[span.start : span.end]))
        for span in spans
        if span.end - span.start >= MIN_CHARS
        and (span.end <= EDGE_HEAD * length or span.start >= (1 - EDGE_TAIL) * length)
    ]


@dataclass
class Boilerplate:
    """Per source (`""` for articles without one), the sentences left out of its articles."""

    sentences: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def detect(cls, articles: Sequence[Article], groups: Mapping[str, str]) -> Boilerplate:
        seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # source -> key -> groups
        per_source: dict[str, int] = defaultdict(int)
        for article in articles:
            source = article.source or ""
            per_source[source] += 1
            for _, key in _edge_sentences(article.text):
                seen[source][key].add(groups.get(article.id, article.id))
        found = cls()
        for source, keys in seen.items():
            needed = max(MIN_ARTICLES, math.ceil(SHARE * per_source[source]))
            repeated = {key for key, where in keys.items() if len(where) >= needed}
            if repeated:
                found.sentences[source] = repeated
        return found

    def merged(self, other: Boilerplate) -> Boilerplate:
        sources = set(self.sentences) | set(other.sentences)
        return Boilerplate({s: self.sentences.get(s, set()) | other.sentences.get(s, set()) for s in sources})

    def strip(self, articles: Sequence[Article]) -> int:
        """Leave the boilerplate sentences out of each article's text (never all of it); returns how many went."""
        removed = 0
        for article in articles:
            known = self.sentences.get(article.source or "")
            if not known:
                continue
            spans = [span for span, key in _edge_sentences(article.text) if key in known]
            if not spans or len(spans) == len(sentence_spans(article.text)):
                continue
            text = article.text
            for span in reversed(spans):  # from the end, so earlier offsets stay valid
                text = (text[: span.start].rstrip(" ") + text[span.end :]).strip()
            article.text = "\n".join(line.strip() for line in text.split("\n")).strip()
            removed += len(spans)
        return removed

    def save(self, version_dir: Path) -> None:
        data = {"sentences": {source: sorted(keys) for source, keys in sorted(self.sentences.items())}}
        layout.write_json_atomic(version_dir / BOILERPLATE_FILE, data)

    @classmethod
    def load(cls, version_dir: Path) -> Boilerplate:
        """What a version found; empty for versions written before it was kept."""
        try:
            data = json.loads((version_dir / BOILERPLATE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        return cls({source: set(keys) for source, keys in data["sentences"].items()})
