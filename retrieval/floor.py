"""No answer to nonsense: a query of letter strings that are no word gets no hits.

Every query is near some passage in embedding space, so the dense leg alone always "finds" something:
"xyzzqw blorft" got ten confident hits. Scores cannot tell nonsense from a real question here (an English
question's best cosine over Vietnamese text, 0.76-0.82 on the samples, is where random letters land too),
but the words can. A query is nonsense when it has no digit (numbers are searched as they are) and,
among its words of at least MIN_LETTERS letters,
* none is known: to the index (its folded form is a lexical token of the index) or as a possible
  Vietnamese syllable, and
* at least half are unknown to the model's vocabulary too: its sentencepiece tokenizer, trained on a
  hundred languages, needs a piece for every PIECE_CHARS letters or fewer ("xyzzqw": 5 pieces for 6
  letters; "examination": 2 for 11; "cryptocurrency": 1).
Measured (docs/quality.md): 299 of 310 random letter strings, and none of 1,034 real questions
(Vietnamese with and without marks, English), on the sample index and on zalo's. `floor=off` shows
what the legs found anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container

from tracuu.text.normalise import fold
from tracuu.text.restore import is_vietnamese_syllable

MIN_LETTERS = 3
PIECE_CHARS = 2.5  # a known word needs fewer pieces than one per 2.5 letters
_WORD = re.compile(r"[^\W\d_]+")


def is_nonsense(query: str, vocabulary: Container[str], pieces: Callable[[str], int]) -> bool:
    """True when `query` is nonsense by the rule of the module docstring."""
    if any(ch.isdigit() for ch in query):
        return False
    words = [w for w in _WORD.findall(query) if len(w) >= MIN_LETTERS]
    if not words or any(_known(w, vocabulary) for w in words):
        return False
    return sum(pieces(w) * PIECE_CHARS > len(w) for w in words) * 2 >= len(words)


def _known(word: str, vocabulary: Container[str]) -> bool:
    folded = fold(word).lower()
    return folded in vocabulary or is_vietnamese_syllable(folded)
