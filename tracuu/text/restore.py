"""Tone-mark restoration for queries typed without marks ("xay dung dang" -> "xây dựng Đảng").

At indexing time the corpus teaches two tables: how often each marked syllable is written
for its folded form ("dang" -> đang, Đảng, đăng, ...), and how often each marked syllable
follows another. A query with no marks, or with marks on only some of its syllables, is decoded
with Viterbi over the candidate marked forms of each syllable, scored by an interpolated bigram
model; a syllable typed with marks is kept as typed and is context for its neighbours. Syllables
the corpus never saw stay as typed.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tracuu.text.normalise import fold, has_marks, normalise

RESTORE_FILE = "restore.json"
_SYLLABLE = re.compile(r"\w+", re.UNICODE)
# A Vietnamese syllable without marks: optional onset, vowel nucleus, optional coda.
_VI_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|tr|th|ph|kh|gh|gi|qu|[bcdghklmnprstvx])?"
    r"(uye|uya|oai|oay|oeo|uay|uoi|uou|ieu|yeu|uoi|ươi|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo|uu|uy|ye|[aeiouy])"
    r"(ch|nh|ng|[cmnpt])?$"
)
_LAMBDA = 0.7  # weight of the bigram evidence against the unigram choice
_MIN_BIGRAM = 1
_NUMBER = "<num>"  # all numbers are one word for the bigram model: "năm 2018" teaches "năm <num>"
# How people ask: question words are rare in report or encyclopedia text, yet every other query
# has one ("bao nhiêu", not "bao nhiều"). Learnt as if seen this many times in the corpus.
QUERY_PHRASES = (
    "bao nhiêu",
    "bao giờ",
    "bao lâu",
    "ở đâu",
    "nằm ở đâu",
    "là gì",
    "là ai",
    "khi nào",
    "năm nào",
    "thế nào",
    "như thế nào",
    "tại sao",
    "vì sao",
    "mấy",
    "có mấy",
    "bao nhiêu năm",
    "ai là",
    "của ai",
    "đâu là",
    "là bao nhiêu",
    "năm <num>",
    "nào",
)
QUERY_PHRASE_WEIGHT = 20
# A query whose Vietnamese-looking syllables carry marks this often or more was typed with marks and is
# left alone; below it, the unmarked ones are restored around the marked ones ("kết nap dang vien").
# Chosen so that questions typed with marks are never changed while half-marked ones are restored
# (`tracuu eval --fold-half`; docs/quality.md).
PARTIALLY_MARKED_BELOW = 0.6


def is_vietnamese_syllable(word: str) -> bool:
    """Could `word` (folded, lower-case) be a Vietnamese syllable? ('party' cannot.)"""
    return bool(_VI_SYLLABLE.match(fold(word).lower()))


@dataclass
class ToneModel:
    """Counts learnt from a corpus: marked unigrams per folded syllable, and marked bigrams."""

    unigrams: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    bigrams: Counter[tuple[str, str]] = field(default_factory=Counter)
    left_counts: Counter[str] = field(default_factory=Counter)

    def learn(self, texts: Iterable[str], weight: int = 1) -> None:
        for text in texts:
            syllables = _syllables(text)
            for i, syl in enumerate(syllables):
                if syl != _NUMBER:
                    self.unigrams[fold(syl)][syl] += weight
                if i + 1 < len(syllables):
                    self.bigrams[(syl, syllables[i + 1])] += weight
                    self.left_counts[syl] += weight

    def learn_corpus(self, texts: Iterable[str]) -> None:
        """The corpus itself, plus the question phrases that queries add to it."""
        self.learn(texts)
        self.learn(QUERY_PHRASES, weight=QUERY_PHRASE_WEIGHT)

    def save(self, path: Path) -> None:
        data = {
            "unigrams": {f: dict(c) for f, c in self.unigrams.items()},
            "bigrams": [[a, b, n] for (a, b), n in self.bigrams.items() if n >= _MIN_BIGRAM],
        }
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ToneModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        model = cls()
        for folded, counts in data["unigrams"].items():
            model.unigrams[folded] = Counter(counts)
        for a, b, n in data["bigrams"]:
            model.bigrams[(a, b)] = n
            model.left_counts[a] += n
        return model

    @cached_property
    def _total(self) -> tuple[int, int]:
        """(syllables seen, distinct marked syllables): the unigram model's normaliser."""
        return sum(sum(c.values()) for c in self.unigrams.values()), sum(len(c) for c in self.unigrams.values())

    def _unigram(self, marked: str) -> float:
        total, vocabulary = self._total
        count = self.unigrams.get(fold(marked), {}).get(marked, 0)
        return (count + 0.1) / (total + 0.1 * vocabulary + 1)

    def _transition(self, prev: str, marked: str) -> float:
        """log P(marked | prev): the bigram estimate interpolated with the unigram one."""
        left = self.left_counts.get(prev, 0)
        bigram = self.bigrams.get((prev, marked), 0) / left if left else 0.0
        return math.log(_LAMBDA * bigram + (1 - _LAMBDA) * self._unigram(marked))

    def candidates(self, folded: str) -> list[str]:
        if folded == _NUMBER:
            return [folded]
        counts = self.unigrams.get(folded)
        return [m for m, _ in counts.most_common(8)] if counts else [folded]

    def restore(self, query: str) -> str | None:
        """The query with tone marks restored, or None when it was typed with marks or nothing changes."""
        query = normalise(query)  # composed, so that a syllable with marks is one token
        tokens = _SYLLABLE.findall(query)
        lowered = _syllables(query)
        if _typed_with_marks(lowered):
            return None
        unmarked = [t for t in lowered if t != _NUMBER and not has_marks(t)]
        known = sum(1 for t in unmarked if t in self.unigrams and is_vietnamese_syllable(t))
        if not unmarked or known / len(unmarked) < 0.6:
            return None
        best = self._viterbi(lowered)  # a marked syllable is its own only candidate
        if best == lowered:
            return None
        return _apply(query, tokens, [t if b == _NUMBER else b for t, b in zip(tokens, best, strict=True)])

    def _viterbi(self, folded: list[str]) -> list[str]:
        lattice: list[dict[str, tuple[float, str | None]]] = []
        for i, f in enumerate(folded):
            column: dict[str, tuple[float, str | None]] = {}
            for cand in self.candidates(f):
                if i == 0:
                    column[cand] = (math.log(self._unigram(cand)), None)
                else:
                    column[cand] = max(
                        (score + self._transition(prev, cand), prev) for prev, (score, _) in lattice[-1].items()
                    )
            lattice.append(column)
        word = max(lattice[-1], key=lambda c: lattice[-1][c][0])
        path = [word]
        for i in range(len(lattice) - 1, 0, -1):
            word = lattice[i][word][1]
            path.append(word)
        return path[::-1]


def _typed_with_marks(syllables: list[str]) -> bool:
    """Do enough of the Vietnamese-looking syllables carry marks (PARTIALLY_MARKED_BELOW)?"""
    vietnamese = [s for s in syllables if s != _NUMBER and is_vietnamese_syllable(s)]
    marked = sum(1 for s in vietnamese if has_marks(s))
    return bool(vietnamese) and marked / len(vietnamese) >= PARTIALLY_MARKED_BELOW


def _syllables(text: str) -> list[str]:
    return [_NUMBER if w.isdigit() else w.lower() for w in _SYLLABLE.findall(normalise(text))]


def _apply(query: str, tokens: list[str], restored: list[str]) -> str:
    """Put restored syllables back in place, keeping the user's capitalisation and punctuation."""
    out, pos = [], 0
    for token, new in zip(tokens, restored, strict=True):
        start = query.index(token, pos)
        out.append(query[pos:start])
        if new == token.lower():
            out.append(token)  # unchanged: as typed ("HĐND" stays upper-case)
        else:
            out.append(new.capitalize() if token[:1].isupper() else new)
        pos = start + len(token)
    out.append(query[pos:])
    return "".join(out)
