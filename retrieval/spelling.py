"""Typo tolerance: query words the index has never seen, corrected from its own vocabulary.

A mistyped name ("Vinh Baoo", "Hồ Hoàn Kiếg") or two words typed as one ("Vinhbao") match nothing in
the lexical leg and blur the dense one; short queries of names lose the most (docs/quality.md). A word
is corrected only when its accent-folded form is unknown to the index: then the known folded syllables
one edit away (Damerau: a letter deleted, inserted, replaced, or two neighbours swapped) and the splits
into two known syllables that the index has seen side by side are candidates, scored by how many
passages hold them and how often they stand next to the query's neighbouring words. Words the index
knows, function words, numbers and words under MIN_LETTERS letters are never changed, so a query whose
words are all known comes back unchanged. English words are not Vietnamese typos ("how" is one edit
from "hoa"): the commonest are never changed, and in a query detected as English only capitalised
words (the Vietnamese names it types without marks: "Vinh Baoo") are corrected, and glued words split;
a query of mostly known words is judged by those (a typo makes "vinh bao ket nqp" look foreign).

The edits are generated at query time (about 55 per letter, each one dictionary lookup in the lexical
index's vocabulary, tens of microseconds a word) rather than precomputed: nothing more to load or keep
in memory, whatever the index size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Container, Iterable

from tracuu.text.lang import detect_query_language
from tracuu.text.normalise import as_written, fold, has_marks, normalise
from tracuu.text.stopwords import STOPWORDS

MIN_LETTERS = 3  # shorter words are too close to too many others to correct
# A candidate's score: log(passages holding it) + CONTEXT_WEIGHT * log(1 + passages holding it beside a neighbour)
CONTEXT_WEIGHT = 2.0
# Passages that must hold a candidate: the syllable one edit away, or a split's two syllables side by side
MIN_DF = 1
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
_WORD = re.compile(r"\w+", re.UNICODE)
_FOLDED_STOPWORDS = frozenset(fold(w) for w in STOPWORDS)
# The commonest English words: one edit from a Vietnamese syllable more often than not ("many" - "manh")
_ENGLISH_WORDS = (
    "a about after all also an and any are as at be been before between big but by can could did do does "
    "during first for from had has have he her here his how if in into is it its last long many may more "
    "most much my new next no not of old on one or other our out over per said she should since small so "
    "some such than that the their them then there these they this those to two under until up us via "
    "was we were what when where which while who whom whose why will with would year years you your "
)
ENGLISH_WORDS = frozenset(_ENGLISH_WORDS.split(" ")) - {""}

MarkedForms = Callable[[str], Iterable[str]]  # folded syllable -> its written forms, most frequent first


def edits(word: str) -> set[str]:
    """Every string one deletion, insertion, substitution or swap of neighbours away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deleted = {a + b[1:] for a, b in splits if b}
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1 and b[0] != b[1]}
    replaced = {a + c + b[1:] for a, b in splits if b for c in _LETTERS if c != b[0]}
    inserted = {a + c + b for a, b in splits for c in _LETTERS}
    return deleted | swapped | replaced | inserted


class SpellingCorrector:
    """Corrects a query's unknown words from a lexical index's vocabulary of folded syllables (`f:` tokens)."""

    def __init__(
        self,
        vocab: Container[str],
        document_frequency: Callable[[str], int],
        marked_forms: MarkedForms = lambda folded: (),
    ) -> None:
        self.vocab = vocab
        self.df = document_frequency
        self.marked_forms = marked_forms

    def known(self, folded: str) -> bool:
        return "f:" + folded in self.vocab

    def correct(self, query: str) -> str | None:
        """The query with its unknown words corrected, or None when none was (or none could be)."""
        query = normalise(query)
        tokens = list(_WORD.finditer(query))
        folded = [fold(t.group()).lower() for t in tokens]
        unknown = [not self.known(f) for f in folded]
        if not any(unknown):  # the common case, at the cost of a lookup a word
            return None
        known = [t.group() for t, u in zip(tokens, unknown, strict=True) if not u]
        english = self._english(query, known)
        marked = sum(has_marks(w) for w in known) * 2 > len(known)  # typed with marks: corrections get them too
        out, pos, changed = [], 0, False
        for i, token in enumerate(tokens):
            word = token.group()
            before, after = folded[i - 1] if i else None, _at(folded, i + 1)
            fixed = self._correct_word(word, folded[i], before, after, english, marked)
            out.append(query[pos : token.start()])
            out.append(fixed or word)
            changed |= fixed is not None
            pos = token.end()
        out.append(query[pos:])
        return as_written("".join(out)) if changed else None

    @staticmethod
    def _english(query: str, known: list[str]) -> bool:
        """Is the query English? A mistyped word makes Vietnamese typed without marks look foreign ("Vinh Bao ket
        nqp"), so a query whose words are mostly known is judged by those alone."""
        if detect_query_language(query) != "en":
            return False
        words = _WORD.findall(query)
        return len(known) * 3 < len(words) * 2 or detect_query_language(" ".join(known)) == "en"

    def _correct_word(
        self, word: str, folded: str, before: str | None, after: str | None, names_only: bool, marked: bool
    ) -> str | None:
        """The correction of one word (in the case and marks it was typed with, or with marks in a query typed
        with them), or None to keep it. `names_only`: edits only for a capitalised word (splits for any)."""
        if (
            len(folded) < MIN_LETTERS
            or not folded.isascii()
            or not folded.isalpha()
            or folded in _FOLDED_STOPWORDS
            or folded in ENGLISH_WORDS
            or word.lower() in STOPWORDS
            or self.known(folded)
        ):
            return None
        best: tuple[float, list[str]] | None = None
        for candidate in edits(folded) if word[:1].isupper() or not names_only else ():
            df = self.df("f:" + candidate) if self.known(candidate) else 0
            if df >= MIN_DF:
                score = math.log(df) + CONTEXT_WEIGHT * math.log1p(self._beside(candidate, before, after))
                if best is None or score > best[0]:
                    best = (score, [candidate])
        for i in range(1, len(folded)):  # two words typed as one
            left, right = folded[:i], folded[i:]
            together = self.df(f"f:{left}_{right}") if self.known(left) and self.known(right) else 0
            if together >= MIN_DF:
                score = math.log(together) + CONTEXT_WEIGHT * math.log1p(together)
                if best is None or score > best[0]:
                    best = (score, [left, right])
        if best is None:
            return None
        return " ".join(self._written(word, part, marked) for part in best[1])

    def _beside(self, candidate: str, before: str | None, after: str | None) -> int:
        """Passages holding the candidate next to the query's neighbouring words."""
        pairs = ([f"f:{before}_{candidate}"] if before else []) + ([f"f:{candidate}_{after}"] if after else [])
        return sum(self.df(pair) for pair in pairs if pair in self.vocab)

    def _written(self, typed: str, folded: str, marked: bool) -> str:
        """The corrected syllable as the user would have written it: unmarked in a query typed without marks,
        else the index's marked form sharing most letters with what was typed; capitalised like the typed word."""
        written = folded
        if marked or has_marks(typed):
            forms = list(self.marked_forms(folded)) or [folded]
            letters = typed.lower()
            written = max(forms, key=lambda form: sum(1 for ch in form if ch in letters))  # ties: most frequent
        return written.capitalize() if typed[:1].isupper() else written


def _at(items: list[str], i: int) -> str | None:
    return items[i] if i < len(items) else None
