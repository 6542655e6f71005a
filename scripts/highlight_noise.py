"""How much of what the snippets mark is noise: the old highlighting rule against the new one.

Usage: python scripts/highlight_noise.py INDEX_DIR QUERIES.jsonl [QUERIES.jsonl ...]

Each query is searched (hybrid, k=10) and every returned passage is highlighted with the query the searcher
marks (as typed, plus the tone-restored form when restoration changed it) by
- "old": every syllable matching a query word, stop words dropped from queries of two or more words
  (retrieval/highlight.py before phrases; copied below as the baseline);
- "new": retrieval.highlight.highlight, without document frequencies (the stop-word and phrase rule);
- "new+df": the same with `rare=rarity(searcher.lexical)` (identical to "new" on an index under
  RARE_MIN_PASSAGES passages, where `rarity` gives None).

Per rule, over all passages: marked syllables; the share of them that are query content words (a text word
that is no stop word and matches a query word that is no stop word, not a piece of a longer number); the
share inside a query phrase (the marked word and a text neighbour are two consecutive query words); the
stop words marked as a span of their own; digits marked inside a longer number ("1" of "1.312"); marked
syllables standing alone (one-syllable spans, numbers aside); passages with any mark; microseconds per hit
(the best of TIMING_ROUNDS rounds over all shown passages).
"""

from __future__ import annotations

import html
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from retrieval.contract import SearchParams
from retrieval.highlight import highlight, query_terms, rarity
from retrieval.searcher import Searcher
from tracuu.text.normalise import fold, fold_word, has_marks, normalise, words
from tracuu.text.stopwords import FOLDED_STOPWORDS, STOPWORDS
from tracuu_cli.evaluate import load_queries

TIMING_ROUNDS = 5

# --- the old rule, as it was -------------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1024)
def old_query_terms(query: str) -> tuple[frozenset[str], frozenset[str]]:
    exact: set[str] = set()
    folded: set[str] = set()
    query_words = words(query)
    for word in query_words:
        stop = word in STOPWORDS if has_marks(word) else fold(word) in FOLDED_STOPWORDS
        if stop and len(query_words) > 1:
            continue
        (exact if has_marks(word) else folded).add(word if has_marks(word) else fold(word))
    return frozenset(exact), frozenset(folded)


@lru_cache(maxsize=1 << 17)
def _old_forms(word: str) -> tuple[str, str]:
    normalised = normalise(word).lower()
    return normalised, fold_word(normalised)


def old_highlight(text: str, query: str) -> str:
    exact, folded = old_query_terms(query)
    out: list[str] = []
    pos = 0
    for match in _WORD.finditer(text):
        word, folded_word = _old_forms(match.group())
        if word in exact or folded_word in folded:
            out.append(html.escape(text[pos : match.start()]))
            out.append(f"<mark>{html.escape(match.group())}</mark>")
            pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


# --- measuring ------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+(?:[.,]\d+)+(?!\w)|\w+", re.UNICODE)  # a number keeps its separators: "1.312"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_JOIN = re.compile(r"[ \t\u00a0]+|-")
_SPLIT = re.compile(r"(<mark>|</mark>)")
_STOP = STOPWORDS | frozenset(normalise(w) for w in STOPWORDS)  # normalise writes "của" as "cuả"


def mark_offsets(snippet: str, text: str) -> list[tuple[int, int]]:
    """(start, end) in `text` of each <mark> span of its highlighted `snippet`."""
    spans, pos, start = [], 0, None
    for part in _SPLIT.split(snippet):
        if part == "<mark>":
            start = pos
        elif part == "</mark>":
            spans.append((start, pos))
        else:
            pos += len(html.unescape(part))
    assert pos == len(text), "the snippet is not the escaped text"
    return spans


def _keys(word: str) -> set[str]:
    if _NUMBER.fullmatch(word):
        return {"n:" + "/".join(re.split(r"[.,]", word))}
    lower = normalise(word).lower()
    return {"w:" + lower, "f:" + fold(lower)}


def query_words(query: str) -> tuple[set[str], set[tuple[str, str]]]:
    """Keys of the query's content words, and of its pairs of consecutive words (folded)."""
    tokens = [t.lower() for t in _TOKEN.findall(normalise(query))]
    content: set[str] = set()
    for token in tokens:
        stop = token in _STOP if has_marks(token) else fold(token) in FOLDED_STOPWORDS
        if stop:
            continue
        if _NUMBER.fullmatch(token):
            content |= _keys(token)
        else:
            content.add(("w:" + token) if has_marks(token) else "f:" + fold(token))
    pairs = {(fold(a), fold(b)) for a, b in zip(tokens, tokens[1:], strict=False)}
    return content, pairs


def _pair(text: str, tokens: list[tuple[int, int, str]], i: int, pairs: set[tuple[str, str]]) -> bool:
    """Are text words i and i + 1, joined by spaces or a hyphen, two consecutive query words?"""
    if i < 0 or i + 1 >= len(tokens) or not _JOIN.fullmatch(text, tokens[i][1], tokens[i + 1][0]):
        return False
    return (fold(tokens[i][2].lower()), fold(tokens[i + 1][2].lower())) in pairs


def measure(text: str, snippet: str, query: str, counts: Counter) -> None:
    spans = mark_offsets(snippet, text)
    content, pairs = query_words(query)
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    counts["passages"] += 1
    counts["passages marked"] += bool(spans)
    for start, end in spans:
        inside = [(i, t) for i, t in enumerate(tokens) if t[0] < end and t[1] > start]
        words_in_span = [t[2] for _, t in inside]
        whole = [t for _, t in inside if t[0] >= start and t[1] <= end]
        if not whole:  # a piece of one token: "1" of "1.312"
            counts["marked syllables"] += 1
            counts["digits inside numbers"] += 1
            continue
        if all(normalise(w).lower() in _STOP for w in words_in_span):
            counts["lone stop words"] += 1
        if len(whole) == 1 and not _NUMBER.fullmatch(whole[0][2]):
            counts["one-syllable spans"] += 1
        for i, (_, _, word) in inside:
            counts["marked syllables"] += 1
            is_stop = normalise(word).lower() in _STOP
            counts["query content words"] += not is_stop and bool(_keys(word) & content)
            counts["in a query phrase"] += _pair(text, tokens, i - 1, pairs) or _pair(text, tokens, i, pairs)


def _best_time(rule: Callable[[str, str], str], shown: list[tuple[str, str]]) -> float:
    """Seconds to highlight every shown passage, the best of TIMING_ROUNDS rounds; each round reads each query
    afresh (its first hit pays for it, as on a result page), the per-word caches stay warm as in a server."""
    best = float("inf")
    for _ in range(TIMING_ROUNDS):
        old_query_terms.cache_clear()
        query_terms.cache_clear()
        started = time.perf_counter()
        for text, query in shown:
            rule(text, query)
        best = min(best, time.perf_counter() - started)
    return best


def main(index_dir: str, *query_files: str) -> None:
    searcher = Searcher(Path(index_dir))
    rare = rarity(searcher.lexical)
    rules = {
        "old": old_highlight,
        "new": highlight,
        "new+df": lambda text, query: highlight(text, query, rare=rare),
    }
    counts = {name: Counter() for name in rules}
    shown: list[tuple[str, str]] = []  # (passage text, the query marked in it)
    for query_file in query_files:
        for _, text in load_queries(Path(query_file)):
            result = searcher.search(SearchParams(q=text, k=10))
            marked = f"{text} {result.interpreted_query}" if result.interpreted_query else text
            for hit in result.hits:
                shown.append((hit.text, marked))
                for name, rule in rules.items():
                    measure(hit.text, rule(hit.text, marked), marked, counts[name])
    seconds = {name: _best_time(rule, shown) for name, rule in rules.items()}
    hits_total = len(shown)
    print(f"index {index_dir} ({searcher.lexical.n_docs} passages; df rule {'on' if rare else 'off: too few'})")
    print(f"queries {', '.join(query_files)}: {hits_total} passages shown")
    print(
        f"{'rule':8} {'marked':>7} {'content':>8} {'phrase':>7} {'lone stop':>9} {'digit-in-num':>12}"
        f" {'1-syl spans':>11} {'marked hits':>11} {'µs/hit':>7}"
    )
    for name, c in counts.items():
        marked_syllables = c["marked syllables"] or 1
        print(
            f"{name:8} {c['marked syllables']:7d} {c['query content words'] / marked_syllables:8.1%}"
            f" {c['in a query phrase'] / marked_syllables:7.1%} {c['lone stop words']:9d}"
            f" {c['digits inside numbers']:12d} {c['one-syllable spans']:11d}"
            f" {c['passages marked'] / max(c['passages'], 1):11.1%} {seconds[name] / max(hits_total, 1) * 1e6:7.0f}"
        )


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], *sys.argv[2:])
