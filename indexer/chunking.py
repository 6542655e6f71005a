"""Split an article body into passages of whole sentences, sized in model tokens.

Passages overlap by one sentence so that an answer straddling a boundary is still found
whole in one passage. Each passage keeps its character offsets in the article text so that
callers can point back into the original.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from indexer.format.records import Passage

# A sentence ends at . ! ? … (with any closing quotes/brackets) before whitespace and an
# upper-case letter, digit or opening quote; or at a line break.
_SENTENCE_END = re.compile(r"([.!?…][\"”’)\]]*)\s+(?=[\"“‘(\[]?(\w))|\n+")
# "TP. Hải Phòng", "ThS. Nguyễn": a short capitalised abbreviation before the dot ends no sentence.
_ABBREVIATION = re.compile(r"(?:^|\s)(?:[A-ZĐ]{1,3}|Tp|ThS|Ths|PGS|Mr|Mrs|Dr|St|Nxb)\.$")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class ChunkingParams:
    max_tokens: int = 200
    overlap_sentences: int = 1

    def as_dict(self) -> dict[str, int]:
        return {"max_tokens": self.max_tokens, "overlap_sentences": self.overlap_sentences}


def sentence_spans(text: str) -> list[Span]:
    """Character spans of the sentences in `text`, whitespace trimmed."""
    spans: list[Span] = []
    pos = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group(1):
            next_char = match.group(2)
            if not (next_char.isupper() or next_char.isdigit()):
                continue
            if _ABBREVIATION.search(text[max(pos, match.start() - 6) : match.start() + 1]):
                continue
            end = match.end(1)
        else:
            end = match.start()
        spans.extend(_trimmed(text, pos, end))
        pos = match.end()
    spans.extend(_trimmed(text, pos, len(text)))
    return spans


def _trimmed(text: str, start: int, end: int) -> Iterator[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield Span(start, end)


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
