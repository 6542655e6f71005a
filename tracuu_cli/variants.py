"""How `tracuu eval` varies its queries: cut to their rarest words, and given one seeded typo.

People type short queries of names ("Vinh Bao dang vien") and mistype them; whole questions hide
both weaknesses because the dense leg carries them. `--keywords N` keeps each query's N rarest
words (by the index's document frequency, in their order) and `--typos` makes one edit (deletion,
insertion, substitution or swap of neighbours) inside the query's rarest word of 4+ letters. The
edit is seeded by the query text, so every run and every system sees the same typo.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from tracuu.text.normalise import fold, normalise
from tracuu.text.stopwords import STOPWORDS

DocumentFrequency = Callable[[str], int]  # a word (as typed) -> passages holding it
EDITS = ("deletion", "insertion", "substitution", "swap")
TYPO_MIN_LETTERS = 4
_WORD = re.compile(r"\w+", re.UNICODE)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _words(query: str) -> list[str]:
    return _WORD.findall(normalise(query))


def word_frequency(document_frequency: Callable[[str], int], n_docs: int) -> DocumentFrequency:
    """A word's document frequency in a lexical index: its folded unigram's (`f:...`); function words,
    which the index leaves out, count as in every passage (they are never a query's rarest)."""

    def frequency(word: str) -> int:
        lowered = word.lower()
        return n_docs if lowered in STOPWORDS else document_frequency("f:" + fold(lowered))

    return frequency


def _by_rarity(words: list[str], frequency: DocumentFrequency) -> list[int]:
    """Positions of the words, rarest first (ties: the earlier word first)."""
    return sorted(range(len(words)), key=lambda i: (frequency(words[i]), i))


def keywords(query: str, n: int, frequency: DocumentFrequency) -> str:
    """The query's `n` rarest words, in the order they were typed, joined by spaces."""
    words = _words(query)
    kept = sorted(_by_rarity(words, frequency)[:n])
    return " ".join(words[i] for i in kept)


def misspell(word: str, rng: random.Random) -> str:
    """`word` with one edit chosen by `rng`: a letter deleted, inserted, replaced, or two neighbours swapped.

    The edit always changes the word (a swap of two equal letters becomes a substitution).
    """
    edit = rng.choice(EDITS)
    position = rng.randrange(len(word))
    if edit == "swap" and position + 1 < len(word) and word[position] != word[position + 1]:
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if edit == "deletion":
        return word[:position] + word[position + 1 :]
    if edit == "insertion":
        return word[:position] + rng.choice(_LETTERS) + word[position:]
    letter = rng.choice([c for c in _LETTERS if c != fold(word[position]).lower()])
    return word[:position] + letter + word[position + 1 :]


def with_typo(query: str, frequency: DocumentFrequency, seed: int = 0) -> str:
    """The query (words joined by spaces) with one seeded edit inside its rarest word of 4+ letters;
    unchanged words when it has none."""
    words = _words(query)
    rng = random.Random(f"{seed}:{query}")  # a str seed is hashed with SHA-512: the same in every run
    for i in _by_rarity(words, frequency):
        if len(words[i]) >= TYPO_MIN_LETTERS and words[i].isalpha():
            words[i] = misspell(words[i], rng)
            break
    return " ".join(words)


def compose(*steps: Callable[[str], str] | None) -> Callable[[str], str] | None:
    """The given steps applied in order (None ones skipped); None when there is none, one step as itself."""
    chosen = [step for step in steps if step is not None]
    if not chosen:
        return None
    if len(chosen) == 1:
        return chosen[0]

    def typed(query: str) -> str:
        for step in chosen:
            query = step(query)
        return query

    return typed
