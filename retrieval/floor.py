"""No answer when nothing matches: nonsense, and questions about what the index does not hold.

Nonsense: a query of letter strings that are no word gets no hits.

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

Off topic: real words about something the index does not hold ("giá vàng hôm nay" over party-building
reports). A query's best cosine alone cannot say so: it moves with the query's wording. What the index itself
says is how far its best passage stands above the query's *mean* score over the whole index,
`best - q . centroid` (the centroid is the mean of the index's vectors, so `q . centroid` is the mean of the
dense leg's score distribution for this query, exact and computed in one dot product). A question the index
answers has one passage far above its average; an off-topic one is about as near to its best passage as to
any (docs/quality.md, "No answer off topic"). A Vietnamese query under OFF_TOPIC_GAP is off topic unless the
lexical leg's best passage holds at least VOUCH_SHARE of its words' information (short queries of names and
keywords, "Vĩnh Bảo", stand out less in embedding space than questions). Queries in other languages are never
floored this way: over Vietnamese text an English question's gap is small whether it is on topic or not
(0.017-0.067 against 0.015-0.034 on the samples), so a floor there would take real questions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Container

from tracuu.text.normalise import fold
from tracuu.text.restore import is_vietnamese_syllable
from tracuu.text.tokens import query_tokens

MIN_LETTERS = 3
PIECE_CHARS = 2.5  # a known word needs fewer pieces than one per 2.5 letters
_WORD = re.compile(r"[^\W\d_]+")
# The least best-minus-mean cosine of a Vietnamese query the index answers (docs/quality.md, "No answer off
# topic": real questions 0.051 and more on three indexes, off-topic ones on the samples 0.043 and less).
OFF_TOPIC_GAP = 0.047
# The share of a query's word information (idf) the lexical leg's best passage must hold to vouch for it: short
# queries on topic 0.55-1.00 on the samples ("thi đua khen thưởng" 0.64), off-topic ones 0-0.49 but one.
VOUCH_SHARE = 0.5
# Pseudo-relevance feedback for an English query whose names and numbers keep at least NAMES_KEEP of the lexical
# leg's weight (they are in the index, and rare there: retrieval/crosslingual.py) anchors on a passage holding
# at least NAMES_HELD of their information (idf): "Vinh Bao" in a question about Vĩnh Bảo's party members.
NAMES_KEEP = 0.4
NAMES_HELD = 0.5


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
    return f"f:{folded}" in vocabulary or is_vietnamese_syllable(folded)  # the index's folded view of the word


def is_off_topic(best: float, mean: float) -> bool:
    """True when the dense leg's `best` score stands less than OFF_TOPIC_GAP above `mean` (the query's mean score
    over the index)."""
    return best - mean < OFF_TOPIC_GAP


def lexically_vouched(
    query: str, best_passage: Collection[str], idf: Callable[[str], float | None], rarest: float
) -> bool:
    """True when the lexical leg vouches for a Vietnamese query the dense leg finds off topic: its best passage
    (the passage's tokens: `best_passage`) holds at least VOUCH_SHARE of the information (`idf`; a word the index
    lacks counts as the `rarest`) of the query's words as typed (with their marks when the query has some, folded
    when it has none), numbers aside."""
    words = [t for t in query_tokens(query) if "_" not in t and not t[2:].isdigit()]
    words = [t for t in words if t.startswith("w:")] or words
    information = {t: idf(t) or rarest for t in words}
    held = sum(weight for t, weight in information.items() if t in best_passage)
    return held >= VOUCH_SHARE * sum(information.values())
