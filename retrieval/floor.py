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
reports). A query's best cosine alone cannot say so: it moves with the query's language and wording (an
English question's best cosine over Vietnamese text is where an off-topic Vietnamese one lands). What the
index itself says is how far its best passage stands above the query's *mean* score over the whole index,
`best - q . centroid` (the centroid is the mean of the index's vectors, so `q . centroid` is the mean of
the dense leg's score distribution for this query, exact and computed in one dot product). A question the
index answers has one passage far above its average; an off-topic one is about as near to the best passage
as to any (docs/quality.md, "No answer off topic"). Below OFF_TOPIC_GAP (its language's), a query is off topic
unless the words vouch for it: a Vietnamese query whose every word the lexical leg's best passage holds
(short queries of names and keywords, "Vĩnh Bảo", stand out less in embedding space), an English one whose
rare names one of the dense leg's best passages mostly holds ("Vinh Bao" in a question about Vĩnh Bảo).
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
# The least best-minus-mean cosine of a query the index answers, by query language: an English question over
# Vietnamese text stands out less (docs/quality.md, "No answer off topic").
OFF_TOPIC_GAP = {"vi": 0.047, "en": 0.030}
# An English query below its gap is still answered when its names and numbers keep at least this share of the
# lexical leg's weight (they are in the index, and rare there: retrieval/crosslingual.py) and one of the dense
# leg's NAMES_DEPTH best passages holds at least NAMES_HELD of their information (idf): "Vinh Bao" in a question
# about Vĩnh Bảo's party members, not "Phu Quoc" in one about beaches over party reports that name Phú Quốc once
# (on the samples: 0.35-1.00 for real questions, 0.00-0.17 for off-topic ones).
NAMES_KEEP = 0.4
NAMES_DEPTH = 3
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


def is_off_topic(best: float, mean: float, query_lang: str | None) -> bool:
    """True when the dense leg's `best` score stands less than its language's OFF_TOPIC_GAP above `mean` (the
    query's mean score over the index); English's applies to any query not in Vietnamese."""
    return best - mean < OFF_TOPIC_GAP["vi" if query_lang == "vi" else "en"]


def lexically_vouched(query: str, best_passage: Collection[str]) -> bool:
    """True when the lexical leg vouches for a Vietnamese query the dense leg finds off topic: its best passage
    (the passage's tokens: `best_passage`) holds every word of the query, as typed (with their marks when the
    query has some, folded when it has none)."""
    words = [t for t in query_tokens(query) if "_" not in t]
    return all(t in best_passage for t in [t for t in words if t.startswith("w:")] or words)
