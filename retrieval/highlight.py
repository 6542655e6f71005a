"""Snippets: the passage, HTML-escaped, with the query's words wrapped in <mark>.

A query word typed with tone marks matches only the same marked word; a word typed without
marks matches any marked form of it ("dang" marks "Đảng" and "đang"), because users who
drop the marks cannot say which one they meant.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from tracuu.text.normalise import fold, fold_word, has_marks, normalise, words
from tracuu.text.stopwords import FOLDED_STOPWORDS, STOPWORDS

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1024)
def query_terms(query: str) -> tuple[frozenset[str], frozenset[str]]:
    """(exact marked words, folded unmarked words) worth highlighting (memoised: once per query, not per hit)."""
    exact: set[str] = set()
    folded: set[str] = set()
    query_words = words(query)
    for word in query_words:
        stop = word in STOPWORDS if has_marks(word) else fold(word) in FOLDED_STOPWORDS
        if stop and len(query_words) > 1:
            continue
        (exact if has_marks(word) else folded).add(word if has_marks(word) else fold(word))
    return frozenset(exact), frozenset(folded)


@lru_cache(maxsize=1 << 17)
def _forms(word: str) -> tuple[str, str]:
    """A text word as compared with query words: (normalised lower-case, folded)."""
    normalised = normalise(word).lower()
    return normalised, fold_word(normalised)


def highlight(text: str, query: str) -> str:
    """Escape `text` and mark the query's words in it."""
    exact, folded = query_terms(query)
    out: list[str] = []
    pos = 0
    for match in _WORD.finditer(text):
        word, folded_word = _forms(match.group())
        if word in exact or folded_word in folded:
            out.append(html.escape(text[pos : match.start()]))
            out.append(f"<mark>{html.escape(match.group())}</mark>")
            pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)
