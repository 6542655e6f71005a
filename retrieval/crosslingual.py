"""How much the lexical leg may say for an English query over a Vietnamese index.

The dense leg is multilingual and carries an English question's meaning. BM25 over Vietnamese text can match
only what the query shares with it: Vietnamese names typed without marks ("Dong Cuong"), numbers ("500kg",
"2017") and foreign names the articles keep as written ("Comey", "WannaCry"). An English word ("public",
"covid") matches only the odd passage that happens to use it, and "Vietnam" as one word only boilerplate that
writes it so (a charity's bank-transfer notice); once each leg's scores are spread to the same scale, such a
match outranks the dense leg's answer. So an English query's lexical leg searches its names and numbers only
("Vietnam" as the pair "viet nam" that Vietnamese text writes), at a weight scaled by the share of the query's
lexical evidence (idf) they carry and by how rare they are. Any other query keeps its lexical leg and weight
(docs/quality.md).
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Container
from dataclasses import dataclass

from indexer.format.lexical import LexicalIndex
from tracuu.text.lang import detect_query_language
from tracuu.text.normalise import fold, normalise
from tracuu.text.restore import is_vietnamese_syllable
from tracuu.text.tokens import query_tokens

# English function and question words: never evidence, whatever the index holds.
_STOPWORD_TEXT = """
    a an the of in on at to for with by from into onto over under after before about as than and or but nor
    not no is are was were be been being am do does did done has have had having will would can could should
    shall may might must how what who whom whose why when where which that this these those there here it its
    their theirs his her hers him she he they them we our you your i me my us vs via per"""
ENGLISH_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# The share of an English query's information carried by its names and numbers at and above which the lexical
# leg keeps its full weight; below it the weight falls in proportion (docs/quality.md, "English questions").
FULL_EVIDENCE_SHARE = 0.2
# A name as common as "Hanoi" or "Vietnam" in a Vietnamese index picks passages almost at random: the weight is
# full only when the rarest name token's idf reaches this fraction of the rarest possible idf (one passage), and
# falls in proportion below it (0.3 and 0.5 measured, 0.7 lost success@1 on eval/sample: docs/quality.md).
RARE_NAME = 0.5

# An English-looking query whose lower-case words are Vietnamese syllables this often or more is Vietnamese.
VIETNAMESE_SHARE = 0.5

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class LexicalPlan:
    """What the lexical leg searches for a query, and its weight in the fusion."""

    tokens: list[str] | None  # the lexical tokens to score; None: the query's own, as for any Vietnamese query
    weight: float


def plan_lexical(query: str, lexical: LexicalIndex, weight: float) -> LexicalPlan:
    """The lexical leg for `query`: unchanged (`weight`) unless the query is English; then its names and
    numbers, at `weight` scaled by the share of the query's lexical evidence they carry and by how rare its
    rarest name is."""
    if not is_english(query):
        return LexicalPlan(None, weight)
    idf = IdfTable.of(lexical)
    names: list[str] = []
    evidence = information = 0.0
    for word in _WORD.findall(normalise(query)):
        lower = word.lower()
        if lower in ENGLISH_STOPWORDS:
            continue
        is_name = word[0].isupper() or any(ch.isdigit() for ch in word)
        text = _split_glued(lower, lexical.vocab) if is_name else lower
        known = idf.information(text)
        information += known
        if is_name:
            names.append(text)
            evidence += known
    tokens = [t for t in query_tokens(" ".join(names)) if t in lexical.vocab]
    share = evidence / information if information else 0.0
    scale = min(1.0, share / FULL_EVIDENCE_SHARE) if FULL_EVIDENCE_SHARE else 1.0
    if tokens:
        scale *= min(1.0, max(idf.idf(t) or 0.0 for t in tokens) / (RARE_NAME * idf.rarest))
    return LexicalPlan(tokens, weight * scale)


def is_english(query: str) -> bool:
    """English by `detect_query_language`, and its lower-case words mostly not Vietnamese syllables: a Vietnamese
    question typed without marks around a foreign name ("Lionel Messi la ai") stays Vietnamese."""
    if detect_query_language(query) != "en":
        return False
    common = [w for w in _WORD.findall(normalise(query)) if w.islower() and w not in ENGLISH_STOPWORDS]
    return sum(is_vietnamese_syllable(w) for w in common) < VIETNAMESE_SHARE * len(common) or not common


def _split_glued(word: str, vocab: Container[str]) -> str:
    """A name glued from two Vietnamese syllables that the index knows as a pair, split: 'hanoi' -> 'ha noi'."""
    folded = fold(word)
    if is_vietnamese_syllable(folded):
        return word
    for cut in range(1, len(folded)):
        left, right = folded[:cut], folded[cut:]
        if is_vietnamese_syllable(left) and is_vietnamese_syllable(right) and f"f:{left}_{right}" in vocab:
            return f"{left} {right}"
    return word


class IdfTable:
    """BM25 idf of the folded syllables of a version's lexical index, computed on demand and kept."""

    _tables: weakref.WeakKeyDictionary[LexicalIndex, IdfTable] = weakref.WeakKeyDictionary()  # one per version

    def __init__(self, lexical: LexicalIndex) -> None:
        self.lexical = weakref.proxy(lexical)  # the table must not keep a replaced version's index alive
        self.n = max(lexical.n_docs, 1)
        self.cache: dict[str, float | None] = {}
        self.rarest = math.log(1 + (self.n - 0.5) / 1.5)  # the idf of a token in one passage

    @classmethod
    def of(cls, lexical: LexicalIndex) -> IdfTable:
        """The table of this index, kept while the index is open."""
        table = cls._tables.get(lexical)
        if table is None:
            table = cls._tables[lexical] = cls(lexical)
        return table

    def idf(self, token: str) -> float | None:
        """BM25 idf of a token, or None when the index does not hold it."""
        if token not in self.cache:
            df = self.lexical.document_frequency(token)
            self.cache[token] = math.log(1 + (self.n - df + 0.5) / (df + 0.5)) if df else None
        return self.cache[token]

    def information(self, text: str) -> float:
        """Idf summed over those folded syllables of `text` that the index holds (BM25 ignores the others)."""
        return sum(self.idf(t) or 0.0 for t in query_tokens(text) if "_" not in t)


__all__ = ["ENGLISH_STOPWORDS", "FULL_EVIDENCE_SHARE", "IdfTable", "LexicalPlan", "is_english", "plan_lexical"]
