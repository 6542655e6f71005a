"""Lexical tokens for Vietnamese: syllable unigrams and bigrams, in two views.

Each syllable is emitted as written ("w:đường") and accent-folded ("f:duong"), and so is
each pair of neighbouring syllables (Vietnamese words are mostly two syllables:
"w:xây_dựng", "f:xay_dung"). A query typed with tone marks matches both views, so passages
with the same marks score higher; a query typed without marks matches the folded view only.
Function words written as such are left out of unigrams and of bigrams that contain them; a
syllable typed without marks is always kept, since "dang" may be the function word "đang" or
the content word "Đảng" (BM25's idf already discounts the common ones).
"""

from __future__ import annotations

from tracuu.text.normalise import fold_word, has_marks, words
from tracuu.text.stopwords import STOPWORDS


def _views(syllables: list[str], folded_only: bool) -> list[str]:
    tokens: list[str] = []
    folded = [fold_word(s) for s in syllables]
    keep = [s not in STOPWORDS for s in syllables]
    for i, (syl, fsyl) in enumerate(zip(syllables, folded, strict=True)):
        if keep[i]:
            if not folded_only:
                tokens.append("w:" + syl)
            tokens.append("f:" + fsyl)
        if i + 1 < len(syllables) and keep[i] and keep[i + 1]:
            if not folded_only:
                tokens.append(f"w:{syl}_{syllables[i + 1]}")
            tokens.append(f"f:{fsyl}_{folded[i + 1]}")
    return tokens


def document_tokens(text: str) -> list[str]:
    """Both views of every syllable and syllable pair of an indexed passage."""
    return _views(words(text), folded_only=False)


def query_tokens(query: str) -> list[str]:
    """Marked words search both views; unmarked words (maybe typed without marks) only the folded one."""
    tokens: list[str] = []
    syllables = words(query)
    if any(has_marks(s) for s in syllables):
        return document_tokens(query)
    tokens.extend(_views(syllables, folded_only=True))
    return tokens
