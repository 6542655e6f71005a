"""Tone-mark restoration for queries typed without marks ("xay dung dang" -> "xây dựng Đảng").

At indexing time the corpus teaches two tables: how often each marked syllable is written
for its folded form ("dang" -> đang, Đảng, đăng, ...), and how often each marked syllable
follows another. A query with no marks is decoded with Viterbi over the candidate marked
forms of each syllable, scored by an interpolated bigram model. Syllables the corpus never
saw stay as typed.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tracuu.textnorm import fold, has_marks, normalise

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


def is_vietnamese_syllable(word: str) -> bool:
    """Could `word` (folded, lower-case) be a Vietnamese syllable? ('party' cannot.)"""
    return bool(_VI_SYLLABLE.match(fold(word).lower()))


@dataclass
class ToneModel:
    """Counts learnt from a corpus: marked unigrams per folded syllable, and marked bigrams."""

    unigrams: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    bigrams: Counter[tuple[str, str]] = field(default_factory=Counter)
    left_counts: Counter[str] = field(default_factory=Counter)

    def learn(self, texts: Iterable[str]) -> None:
        for text in texts:
            syllables = [w.lower() for w in _SYLLABLE.findall(normalise(text))]
            for i, syl in enumerate(syllables):
                if syl.isdigit():
                    continue
                self.unigrams[fold(syl)][syl] += 1
                if i + 1 < len(syllables):
                    self.bigrams[(syl, syllables[i + 1])] += 1
                    self.left_counts[syl] += 1

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

    def _unigram_logp(self, folded: str, marked: str) -> float:
        counts = self.unigrams.get(folded)
        if not counts:
            return 0.0
        return math.log((counts[marked] + 0.1) / (sum(counts.values()) + 0.1 * len(counts)))

    def _transition(self, prev: str, folded: str, marked: str) -> float:
        counts = self.unigrams.get(folded)
        unigram = (counts[marked] + 0.1) / (sum(counts.values()) + 0.1 * len(counts)) if counts else 1.0
        left = self.left_counts.get(prev, 0)
        bigram = self.bigrams.get((prev, marked), 0) / left if left else 0.0
        return math.log(_LAMBDA * bigram + (1 - _LAMBDA) * unigram)

    def candidates(self, folded: str) -> list[str]:
        counts = self.unigrams.get(folded)
        return [m for m, _ in counts.most_common(8)] if counts else [folded]

    def restore(self, query: str) -> str | None:
        """The query with tone marks restored, or None when it already has marks or nothing changes."""
        if has_marks(query):
            return None
        tokens = _SYLLABLE.findall(query)
        if not tokens:
            return None
        lowered = [t.lower() for t in tokens]
        known = sum(1 for t in lowered if t in self.unigrams and is_vietnamese_syllable(t))
        if known / len(lowered) < 0.6:
            return None
        best = self._viterbi(lowered)
        if best == lowered:
            return None
        return _apply(query, tokens, best)

    def _viterbi(self, folded: list[str]) -> list[str]:
        lattice: list[dict[str, tuple[float, str | None]]] = []
        for i, f in enumerate(folded):
            column: dict[str, tuple[float, str | None]] = {}
            for cand in self.candidates(f):
                if i == 0:
                    column[cand] = (self._unigram_logp(f, cand), None)
                else:
                    column[cand] = max(
                        (score + self._transition(prev, f, cand), prev) for prev, (score, _) in lattice[-1].items()
                    )
            lattice.append(column)
        word = max(lattice[-1], key=lambda c: lattice[-1][c][0])
        path = [word]
        for i in range(len(lattice) - 1, 0, -1):
            word = lattice[i][word][1]
            path.append(word)
        return path[::-1]


def _apply(query: str, tokens: list[str], restored: list[str]) -> str:
    """Put restored syllables back in place, keeping the user's capitalisation and punctuation."""
    out, pos = [], 0
    for token, new in zip(tokens, restored, strict=True):
        start = query.index(token, pos)
        out.append(query[pos:start])
        out.append(new.capitalize() if token[:1].isupper() else new)
        pos = start + len(token)
    out.append(query[pos:])
    return "".join(out)
