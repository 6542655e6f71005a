"""Deterministic language detection (langdetect is random unless seeded)."""

from __future__ import annotations

from functools import lru_cache

from langdetect import DetectorFactory, LangDetectException, detect_langs

from tracuu.text.normalise import has_marks, words
from tracuu.text.restore import is_vietnamese_syllable

DetectorFactory.seed = 0


@lru_cache(maxsize=4096)
def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when there is nothing to go on."""
    sample = text[:2000].strip()
    if not sample:
        return None
    try:
        langs = detect_langs(sample)
    except LangDetectException:
        return None
    return langs[0].lang if langs else None


def detect_query_language(query: str, restored: bool = False) -> str | None:
    """Language of a short query, where langdetect alone guesses wildly ('xay dung dang' -> 'tl').

    Vietnamese letters or tone marks settle it; so does a successful tone-mark restoration.
    Otherwise a query made of possible Vietnamese syllables is Vietnamese typed without marks,
    and an ASCII query with words no Vietnamese syllable can spell ('party', 'building') is
    English unless langdetect is sure of something else.
    """
    if restored or has_marks(query):
        return "vi"
    tokens = [w for w in words(query) if not w.isdigit()]
    if not tokens:
        return None
    guess = detect_language(query)
    if guess == "en":
        return "en"
    vietnamese_share = sum(is_vietnamese_syllable(w) for w in tokens) / len(tokens)
    if vietnamese_share >= 0.8:
        return "vi"
    if query.isascii():
        return "en"
    return guess
