"""Sentence boundaries of Vietnamese text, as character spans into the original string.

Shared by the indexer (passages are packed from whole sentences) and by searching (the
sentence of a passage that answers the query), so that both cut text at the same places.
Pure: no I/O, no models.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# A sentence ends at . ! ? … (with any closing quotes/brackets) before whitespace and an
# upper-case letter, digit or opening quote; or at a line break.
_SENTENCE_END = re.compile(r"([.!?…][\"”’)\]]*)\s+(?=[\"“‘(\[]?(\w))|\n+")
# "TP. Hải Phòng", "ThS. Nguyễn": a short capitalised abbreviation before the dot ends no sentence.
_ABBREVIATION = re.compile(r"(?:^|\s)(?:[A-ZĐ]{1,3}|Tp|ThS|Ths|PGS|Mr|Mrs|Dr|St|Nxb)\.$")


@dataclass(frozen=True)
class Span:
    """Half-open character range ``text[start:end]``."""

    start: int
    end: int


def sentence_spans(text: str) -> list[Span]:
    """Character spans of the sentences in `text`, whitespace trimmed.

    "9.295" and "95,29%" do not end a sentence (no space after the dot), nor does "TP. Hải Phòng"
    (a short capitalised abbreviation); a line break always does.
    """
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
