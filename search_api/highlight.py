"""Snippets: the passage, HTML-escaped, with the query's words wrapped in <mark>.

A query word typed with tone marks matches only the same marked word; a word typed without
marks matches any marked form of it ("dang" marks "Đảng" and "đang"), because users who
drop the marks cannot say which one they meant.
"""

from __future__ import annotations

import html
import re

from tracuu.stopwords import FOLDED_STOPWORDS, STOPWORDS
from tracuu.textnorm import fold, has_marks, normalise, words

_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(query: str) -> tuple[set[str], set[str]]:
    """(exact marked words, folded unmarked words) worth highlighting."""
    exact, folded = set(), set()
    query_words = words(query)
    for word in query_words:
        stop = word in STOPWORDS if has_marks(word) else fold(word) in FOLDED_STOPWORDS
        if stop and len(query_words) > 1:
            continue
        (exact if has_marks(word) else folded).add(word if has_marks(word) else fold(word))
    return exact, folded


def highlight(text: str, query: str) -> str:
    """Escape `text` and mark the query's words in it."""
    exact, folded = query_terms(query)
    out: list[str] = []
    pos = 0
    for match in _WORD.finditer(text):
        word = normalise(match.group()).lower()
        if word in exact or fold(word) in folded:
            out.append(html.escape(text[pos : match.start()]))
            out.append(f"<mark>{html.escape(match.group())}</mark>")
            pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)
