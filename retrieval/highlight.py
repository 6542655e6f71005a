"""Snippets: the passage, HTML-escaped, with the query's phrases and rare words wrapped in <mark>.

What is marked (a text word "matches" a query word when their normalised lower-case forms are equal
and the query word was typed with marks, or their folded forms are equal and it was typed without:
"dang" matches "Đảng" and "đang", because users who drop the marks cannot say which one they meant):

1. Phrases: two or more consecutive text words matching consecutive query words ("kết nạp đảng
   viên"), joined by spaces or one hyphen ("COVID-19"). Stop words at either end of a phrase are left
   out of it ("của các doanh nghiệp" marks "doanh nghiệp"); what remains must still be two words.
2. Numbers: a number is one token, its separators included ("1.312", "9,295", "1.312.000"), and
   matches only a whole query number with the same digit groups: "9.295" matches "9,295" (the
   Vietnamese and the English way to write one number), never "9295", and "1" never marks the
   "1" of "1.312". A hyphen or slash separates numbers: "2021-2025" is the two numbers 2021 and 2025.
   A whole matching number is always marked.
3. Single words, outside a phrase, only when the query word is a content word that stands for itself:
   never a stop word (tracuu.text.stopwords, with marks or folded as typed), and then one of
   - a one-syllable query word: its neighbours in the query are stop words or punctuation ("bão"
     in "thiệt hại do bão"), so the word matched is the whole query word;
   - a name: capitalised in the query and in the text ("Yagi" for "bão Yagi"); a query's first word,
     which phones capitalise anyway, only where the text capitalises it inside a sentence ("Messi" for
     "Messi thuận chân nào", not the "Kết" opening a sentence for "Kết nạp");
   - rare in the index, when the caller passes `rare` (`rarity` makes it from the BM25 vocabulary: at
     most RARE_SHARE of the passages hold the syllable): a syllable of a longer query word ("kết" of
     "kết nạp", any query syllable next to another content syllable) is marked alone only then. Without
     `rare` it never is: "kết" of "kết quả" or "đoàn kết" does not light up for "kết nạp".
The words of one phrase are one <mark> span ("<mark>kết nạp đảng viên</mark>"), not four; two phrases side
by side stay two. Everything else is HTML-escaped; <mark> is the only markup added.

The searcher passes the query as typed, then a space and the tone-restored form when restoration changed
it ("ket nap kết nạp"); the two halves are read as two forms of the query, so that no phrase is
taken across the join.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from tracuu.text.normalise import fold, fold_word, has_marks, normalise
from tracuu.text.stopwords import FOLDED_STOPWORDS, STOPWORDS

# A token: a number with its thousands/decimal separators, or a run of word characters.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)+(?!\w)|\w+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SEPARATOR = re.compile(r"[.,]")
# What may stand between two words of one phrase (and of one <mark> span): spaces, or a single hyphen.
_JOIN = re.compile(r"[ \t\u00a0]+|-")

# `rarity`: a syllable is rare when at most this share of the passages hold it ...
RARE_SHARE = 0.01
# ... and document frequencies are only trusted from this many passages on (below, the stop-word rule alone).
RARE_MIN_PASSAGES = 500


@lru_cache(maxsize=1 << 17)
def _keys(word: str) -> tuple[str, ...]:
    """The keys a text token is looked up by: its number key, or its exact and its folded form."""
    if _NUMBER.fullmatch(word):
        return ("n:" + "/".join(_SEPARATOR.split(word)),)
    normalised = normalise(word).lower()
    return ("w:" + normalised, "f:" + fold_word(normalised))


# Compared after `normalise`, which writes "của" as "cuả".
_STOPWORDS = STOPWORDS | frozenset(normalise(w) for w in STOPWORDS)


@lru_cache(maxsize=1 << 17)
def _is_stopword(word: str) -> bool:
    """A text token that is a function word as written."""
    return normalise(word).lower() in _STOPWORDS


@dataclass(frozen=True)
class QueryTerms:
    """A query read for highlighting (memoised: once per query, not per hit).

    positions: key -> the query positions of the words it matches; positions of one form run on
    consecutively, and a gap of one separates forms and punctuation-separated parts, so that
    "p + 1 is a position of the next text word's keys" means "the two words continue a query phrase".
    alone: keys whose match is marked even outside a phrase; named: keys marked outside a phrase
    when the text word is capitalised too; named_first: the same for a query's capitalised first word,
    whose capital may be the keyboard's, when the text word is capitalised inside a sentence.
    """

    positions: dict[str, frozenset[int]]
    alone: frozenset[str]
    named: frozenset[str]
    named_first: frozenset[str]


def _query_key(word: str) -> str:
    if _NUMBER.fullmatch(word):
        return "n:" + "/".join(_SEPARATOR.split(word))
    lower = word.lower()
    return "w:" + lower if has_marks(lower) else "f:" + fold(lower)


def _query_stopword(word: str) -> bool:
    lower = word.lower()
    return lower in _STOPWORDS if has_marks(lower) else fold(lower) in FOLDED_STOPWORDS


def _split_forms(query: str) -> list[list[tuple[str, str]]]:
    """The query's forms, each a list of (token, the text before it): the typed query and, when the second
    half of its tokens folds to the first (the searcher appended the restored form), that half apart."""
    tokens, pos = [], 0
    for match in _TOKEN.finditer(query):
        tokens.append((match.group(), query[pos : match.start()]))
        pos = match.end()
    half = len(tokens) // 2
    if (
        half
        and len(tokens) % 2 == 0
        and [fold(t.lower()) for t, _ in tokens[:half]] == [fold(t.lower()) for t, _ in tokens[half:]]
    ):
        return [tokens[:half], tokens[half:]]
    return [tokens]


@lru_cache(maxsize=1024)
def query_terms(query: str, rare: Callable[[str], bool] | None = None) -> QueryTerms:
    """Read `query` (see the module docstring) for `highlight`."""
    positions: dict[str, set[int]] = {}
    alone: set[str] = set()
    named: set[str] = set()
    named_first: set[str] = set()
    position = 0
    for form in _split_forms(normalise(query)):
        position += 1  # forms never continue each other
        words = [token for token, _ in form]
        stop = [_query_stopword(w) for w in words]
        for i, (word, before) in enumerate(form):
            if i and not _JOIN.fullmatch(before):
                position += 1  # punctuation ends a phrase
            key = _query_key(word)
            positions.setdefault(key, set()).add(position)
            position += 1
            if stop[i]:
                continue
            joined_before = i > 0 and not stop[i - 1] and _JOIN.fullmatch(before)
            joined_after = i + 1 < len(form) and not stop[i + 1] and _JOIN.fullmatch(form[i + 1][1])
            whole_word = not (joined_before or joined_after)  # a one-syllable query word
            if key.startswith("n:") or whole_word or (rare is not None and rare(word.lower())):
                alone.add(key)
            elif word[:1].isupper():
                (named if i else named_first).add(key)
    return QueryTerms(
        {k: frozenset(v) for k, v in positions.items()}, frozenset(alone), frozenset(named), frozenset(named_first)
    )


def mark_ranges(text: str, query: str, rare: Callable[[str], bool] | None = None) -> list[tuple[int, int]]:
    """(start, end) in `text` of each <mark> span, in order: a phrase (one span) or a single word."""
    terms = query_terms(query, rare)
    positions = terms.positions
    # The text words matching a query word: (start, end, query positions, keys).
    tokens: list[tuple[int, int, frozenset[int], tuple[str, ...]]] = []
    query_keys = positions.keys()
    for match in _TOKEN.finditer(text):
        keys = _keys(match.group())
        if query_keys.isdisjoint(keys):  # most words: one C call
            continue
        found = _NONE
        for key in keys:
            if key in positions:
                found = found | positions[key] if found else positions[key]
        tokens.append((match.start(), match.end(), found, keys))
    ranges: list[tuple[int, int]] = []
    i, n = 0, len(tokens)
    while i < n:
        # The words i..end continue a query phrase: next to each other (only spaces or a hyphen between, so no
        # other word), each the query word after the one before.
        end = i
        while (
            end + 1 < n
            and _JOIN.fullmatch(text, tokens[end][1], tokens[end + 1][0])
            and any(p + 1 in tokens[end + 1][2] for p in tokens[end][2])
        ):
            end += 1
        first, last = i, end
        while first < last and _is_stopword(text[tokens[first][0] : tokens[first][1]]):
            first += 1
        while last > first and _is_stopword(text[tokens[last][0] : tokens[last][1]]):
            last -= 1
        for j in range(i, end + 1):
            if first < last and j == first:  # a phrase of two or more words, stop words trimmed from its ends
                ranges.append((tokens[first][0], tokens[last][1]))
            elif (first == last or not first <= j <= last) and _alone(text, tokens[j], terms):
                ranges.append((tokens[j][0], tokens[j][1]))
        i = end + 1
    return ranges


_NONE: frozenset[int] = frozenset()


def _alone(text: str, token: tuple[int, int, frozenset[int], tuple[str, ...]], terms: QueryTerms) -> bool:
    """Is a matching text word outside a phrase marked on its own?"""
    start, end, _, keys = token
    if _is_stopword(text[start:end]):
        return False
    if any(k in terms.alone for k in keys):
        return True
    if not text[start : start + 1].isupper():
        return False
    if any(k in terms.named for k in keys):
        return True
    return any(k in terms.named_first for k in keys) and not _starts_sentence(text, start)


_OPENING = frozenset("\"'“‘([{«-–—•*")
_SENTENCE_END = frozenset(".!?…:;")


def _starts_sentence(text: str, start: int) -> bool:
    """Does the word at `start` begin the text, a line or a sentence (so that its capital says nothing)?"""
    i = start - 1
    while i >= 0 and (text[i] in " \t\u00a0" or text[i] in _OPENING):
        i -= 1
    return i < 0 or text[i] == "\n" or text[i] in _SENTENCE_END


def highlight(text: str, query: str, *, rare: Callable[[str], bool] | None = None) -> str:
    """Escape `text` and mark the query's phrases and rare words in it (see the module docstring).

    `rare(syllable)` (lower-case, as typed in the query) says whether few passages hold the syllable, so that
    it is worth marking on its own; `rarity` makes one from the index. It must be hashable (a function is):
    it is part of the memoised query reading.
    """
    out: list[str] = []
    pos = 0
    for start, end in mark_ranges(text, query, rare):
        out.append(html.escape(text[pos:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


class _Vocabulary(Protocol):
    """What `rarity` reads of an index's BM25 part (indexer.format.lexical.LexicalIndex)."""

    vocab: Collection[str]
    n_docs: int

    def document_frequency(self, token: str) -> int: ...


def rarity(
    lexical: _Vocabulary, max_share: float = RARE_SHARE, min_passages: int = RARE_MIN_PASSAGES
) -> Callable[[str], bool] | None:
    """`rare` for `highlight` from an index's BM25 vocabulary: a syllable is rare when at most `max_share`
    of the passages hold it (its folded form when typed without marks, as written when typed with them),
    or none does. None (the stop-word rule alone) for an index under `min_passages` passages.

    Make it once per opened index and pass the same function every time, as memoisation keys on it.
    """
    if lexical.n_docs < min_passages or not lexical.vocab:
        return None
    frequency, limit = lexical.document_frequency, max_share * lexical.n_docs

    @lru_cache(maxsize=1 << 14)
    def rare(syllable: str) -> bool:
        return frequency(("w:" + syllable) if has_marks(syllable) else ("f:" + fold(syllable))) <= limit

    return rare


def marked_spans(snippet: str) -> list[str]:
    """The texts inside <mark>...</mark> of a highlighted snippet, unescaped (for tests and measurements)."""
    return [html.unescape(s) for s in re.findall(r"<mark>(.*?)</mark>", snippet, re.DOTALL)]


__all__ = ["highlight", "mark_ranges", "marked_spans", "query_terms", "rarity", "QueryTerms"]
