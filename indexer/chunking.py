"""Split an article body into passages of whole sentences, sized in model tokens.

Passages overlap by one sentence so that an answer straddling a boundary is still found
whole in one passage. Each passage keeps its character offsets in the article text so that
callers can point back into the original. Sentence boundaries come from
``tracuu.text.sentences`` (shared with searching, which picks the answer sentence of a passage).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from indexer.format.records import Passage
from tracuu.text.sentences import Span, sentence_spans

__all__ = ["ChunkingParams", "Span", "chunk_text", "sentence_spans"]


@dataclass(frozen=True)
class ChunkingParams:
    max_tokens: int = 200
    overlap_sentences: int = 1

    def as_dict(self) -> dict[str, int]:
        return {"max_tokens": self.max_tokens, "overlap_sentences": self.overlap_sentences}


def _split_long(text: str, span: Span, count: Callable[[str], int], limit: int) -> list[Span]:
    """Cut a sentence longer than `limit` tokens at word boundaries."""
    pieces: list[Span] = []
    start = span.start
    last_good = None
    for match in re.finditer(r"\S+", text[span.start : span.end]):
        end = span.start + match.end()
        if count(text[start:end]) <= limit or last_good is None:
            last_good = end
            continue
        pieces.append(Span(start, last_good))
        start = span.start + match.start()
        last_good = end
    if last_good is not None and last_good > start:
        pieces.append(Span(start, last_good))
    return pieces


def chunk_text(text: str, count_tokens: Callable[[str], int], params: ChunkingParams) -> list[Passage]:
    """Greedy packing of whole sentences up to `params.max_tokens`, with sentence overlap."""
    sentences: list[Span] = []
    for span in sentence_spans(text):
        if count_tokens(text[span.start : span.end]) > params.max_tokens:
            sentences.extend(_split_long(text, span, count_tokens, params.max_tokens))
        else:
            sentences.append(span)
    sizes = [count_tokens(text[s.start : s.end]) for s in sentences]

    passages: list[Passage] = []
    first = 0
    while first < len(sentences):
        last = first
        total = sizes[first]
        while last + 1 < len(sentences) and total + sizes[last + 1] <= params.max_tokens:
            last += 1
            total += sizes[last]
        start, end = sentences[first].start, sentences[last].end
        passages.append(Passage(len(passages), text[start:end], start, end))
        if last + 1 >= len(sentences):
            break
        # Step forward, keeping up to `overlap_sentences` sentences, but always advance.
        first = max(first + 1, last + 1 - params.overlap_sentences)
    return passages
