"""Deterministic language detection (langdetect is random unless seeded)."""

from __future__ import annotations

from functools import lru_cache

from langdetect import DetectorFactory, LangDetectException, detect_langs

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
