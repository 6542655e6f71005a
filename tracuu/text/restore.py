"""Tone-mark restoration for queries typed without marks ("xay dung dang" -> "xây dựng Đảng").

At indexing time the corpus teaches two tables: how often each marked syllable is written
for its folded form ("dang" -> đang, Đảng, đăng, ...), and how often each marked syllable
follows another. A query with no marks, or with marks on only some of its syllables, is decoded
with Viterbi over the candidate marked forms of each syllable, scored by an interpolated bigram
model; a syllable typed with marks is kept as typed and is context for its neighbours.

A small corpus does not know the language: five reports on party building write "sở" (of "cơ sở")
more often than "số" and "bí" (of "Bí thư") but never "bị", so "so dang vien bi ky luat" came back as
"sở ... bí ...". A general-language prior (`LanguagePrior`, PRIOR_FILE, built by
scripts/build_tone_prior.py) fills in: how often each marked syllable is written in general (wordfreq's
Vietnamese frequencies; else the piece scores of the embedding model's sentencepiece vocabulary, a unigram
language model of CommonCrawl text in 100 languages, which also tells a foreign word from Vietnamese), which
pairs of syllables make words and names (pyvi's dictionary, MIT, CLDR's Vietnamese names of countries and
languages, Unicode License v3, and GeoNames' places, CC BY 4.0), and FUNCTION_WORDS. It enters as
pseudo-observations (PRIOR_MASS per folded syllable, PRIOR_CORPUS for how often each folded syllable is written)
and as a bigram model interpolated with the corpus's (PAIR_WEIGHT), so the corpus decides wherever it has seen a
syllable many times.
A corpus syllable nearly always written after one neighbour ("sở" of "cơ sở") counts, after another, only as
often as it stands without it (`_bound`). Syllables neither knows stay as typed.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from tracuu.text.normalise import as_written, fold, has_marks, normalise

RESTORE_FILE = "restore.json"
PRIOR_FILE = "tone_prior.tsv.gz"  # beside this module
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
# The general-language prior (see the module docstring). Chosen on zalo-wikiqa-2019 questions with their marks
# stripped, restored over the five samples and over zalo itself, and checked on viqa-web's questions
# (scripts/restore_accuracy.py; docs/quality.md).
PRIOR_MASS = 20  # pseudo-observations of each folded syllable, shared out by the prior's preferences
PRIOR_CORPUS = 2000  # pseudo-syllables of P(folded syllable) from the prior
# The dictionary (and CLDR's names) as a bigram model: after a syllable, P(next) is this share of the dictionary's
# estimate (the words holding the pair / the pairs starting with the syllable: "bóng" -> "đá" 2 of 34), less so the
# more the corpus saw the syllable. Makes "bóng đá" beat the commoner "đã" without general bigram counts.
PAIR_WEIGHT = 0.2
# A capitalised syllable inside a query that makes a name with the one before it (of a place, a country, a language:
# "Da Nang" is "Đà Nẵng", though "đã nâng" is what party reports write): at least this share of the estimate.
NAME_PAIR = 0.3
# Nats off a capitalised unmarked piece's score: the piece scores are of 100 languages, and "Ha", "Long", "Son" name
# much besides Vietnam. (Lower-case syllables need none since their frequencies are wordfreq's Vietnamese ones.)
CAPITAL_UNMARKED_PENALTY = 3.0
# `known`'s line between a Vietnamese syllable typed without marks and an English word ("ten", "to"): the unmarked
# spelling's share of the piece scores with this penalty
FOREIGN_PENALTY = 1.5
MISSING_PIECE = -16.0  # log-probability of a dictionary syllable that is no piece of the vocabulary
# Function words and the commonest syllables, as written: a small corpus on one subject says little about them
# (five party reports write "sở" of "cơ sở" more often than "số" and "bí" of "Bí thư" but never "bị"). Each
# counts as FUNCTION_MASS more pseudo-observations of its folded form.
_FUNCTION_WORDS = (
    "số bị được của có là các những trong với cho đã để không một khi đến từ về ở theo như ra nhiều tại vào "
    "sẽ cũng thì đó nhưng còn lại hơn trên sau mà nên chỉ đang rất nhất phải mới cùng đều hay hoặc nếu bởi "
    "do qua trước giữa dưới ngoài gì ai đâu nào sao bao nhiêu mấy thế tới lên xuống đây ấy vẫn chưa cả mỗi "
    "mọi tất này năm người việc nước"
)
FUNCTION_WORDS = frozenset(normalise(w) for w in _FUNCTION_WORDS.split(" "))
FUNCTION_MASS = 40
_FUNCTION_FOLDS = frozenset(fold(w) for w in FUNCTION_WORDS)
BOUND_MIN = 5  # corpus occurrences from which a syllable's usual left neighbour is trusted (see `_bound`)
_UNIGRAM_CACHE = 200_000  # memoised unigram estimates (Viterbi asks for each candidate once per neighbour)
_FORMS = 3  # marked forms per folded syllable, roughly: the add-0.1 smoothing's denominator
# A query whose Vietnamese-looking syllables carry marks this often or more was typed with marks and is
# left alone; below it, the unmarked ones are restored around the marked ones ("kết nap dang vien").
# Chosen so that questions typed with marks are never changed while half-marked ones are restored
# (`tracuu eval --fold-half`; docs/quality.md).
PARTIALLY_MARKED_BELOW = 0.6


def is_vietnamese_syllable(word: str) -> bool:
    """Could `word` (folded, lower-case) be a Vietnamese syllable? ('party' cannot.)"""
    return bool(_VI_SYLLABLE.match(fold(word).lower()))


@dataclass(frozen=True)
class LanguagePrior:
    """What written Vietnamese prefers, whatever the corpus: how often each folded syllable is written (a
    share of all), the share of each of its marked forms, lower-case and capitalised (a capital inside a
    query starts a name: "Nam", not "năm"), the pairs of syllables in dictionary words and names (how many words
    hold each, and per syllable how many pairs start with it), which pairs make names of places, countries and
    languages (NAME_PAIR), and per folded syllable the share of its unmarked spelling (FOREIGN_PENALTY: how
    `known` tells "ten" the English word)."""

    folds: dict[str, float]
    shares: dict[str, dict[str, float]]
    capital_shares: dict[str, dict[str, float]]
    pairs: dict[tuple[str, str], int]
    names: dict[str, frozenset[str]]  # per syllable, those that follow it in a name
    after: dict[str, int]
    unmarked: dict[str, float]

    @classmethod
    def read(cls, path: Path) -> LanguagePrior:
        """The prior from PRIOR_FILE lines (scripts/build_tone_prior.py writes them). Every `tracuu search` reads
        it: each syllable is folded once, and the file split at once rather than line by line."""
        lower: dict[str, float] = {}
        as_words: dict[str, float] = {}
        capital: dict[str, float] = {}
        pairs: dict[tuple[str, str], int] = {}
        names: dict[str, set[str]] = defaultdict(set)
        folded: dict[str, str] = {}
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        syllables = [line.split("\t")[1:] for line in lines if line.startswith("u\t")]
        # wordfreq's frequencies and the piece scores differ by a scale: where a syllable has only a piece score, its
        # frequency is the score moved by their median difference, at most wordfreq's least frequent syllable's
        shift = statistics.median(float(w) - float(s) for _, _, s, _, w in syllables if s and w)
        floor = min(float(w) for *_, w in syllables if w)  # a syllable wordfreq does not list is rarer than its last
        for syllable, _, score, capital_score, written in syllables:
            folded[syllable] = fold(syllable)
            marked = folded[syllable] != syllable  # has_marks, without a second pass over the letters
            piece_score = float(score) if score else MISSING_PIECE
            upper_score = float(capital_score) if capital_score else MISSING_PIECE
            lower_score = float(written) if written else min(floor, piece_score + (shift if score else 0.0))
            lower[syllable] = math.exp(lower_score)
            capital[syllable] = math.exp(upper_score - (0.0 if marked else CAPITAL_UNMARKED_PENALTY))
            # the piece scores, of 100 languages, tell a foreign word ("ten", "to") from Vietnamese without marks
            as_words[syllable] = math.exp(piece_score - (0.0 if marked else FOREIGN_PENALTY))
        for line in lines:
            if line.startswith("b\t"):
                _, first, second, count = line.split("\t")[:4]
                pairs[(first, second)] = int(count)
            elif line.startswith("n\t"):
                _, first, second = line.split("\t")[:3]
                names[first].add(second)
        total = sum(lower.values()) + sum(capital.values())
        folds: dict[str, float] = defaultdict(float)
        for syllable in lower:
            folds[folded[syllable]] += (lower[syllable] + capital[syllable]) / total
        after: dict[str, int] = defaultdict(int)
        for (a, _), n in pairs.items():
            after[a] += n
        unmarked = {f: forms.get(f, 0.0) for f, forms in _shares(as_words, folded).items()}
        shares, capital_shares = _shares(lower, folded), _shares(capital, folded)
        named = {first: frozenset(seconds) for first, seconds in names.items()}
        return cls(dict(folds), shares, capital_shares, pairs, named, dict(after), unmarked)


def _shares(weights: dict[str, float], folded: dict[str, str]) -> dict[str, dict[str, float]]:
    """Per folded syllable (`folded`: each syllable's fold), each marked form's share of their weights."""
    by_fold: dict[str, dict[str, float]] = defaultdict(dict)
    for syllable, weight in weights.items():
        by_fold[folded[syllable]][syllable] = weight
    shares = {}
    for fold_, forms in by_fold.items():
        total = sum(forms.values())
        shares[fold_] = {m: w / total for m, w in forms.items()}
    return shares


@cache
def language_prior() -> LanguagePrior:
    """The shipped prior, read once per process."""
    return LanguagePrior.read(Path(__file__).with_name(PRIOR_FILE))


@dataclass
class ToneModel:
    """Counts learnt from a corpus: marked unigrams per folded syllable, and marked bigrams; with a
    `prior` (`load` adds it), those of the language fill in where the corpus has little to say."""

    unigrams: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    bigrams: Counter[tuple[str, str]] = field(default_factory=Counter)
    left_counts: Counter[str] = field(default_factory=Counter)
    prior: LanguagePrior | None = None

    def learn(self, texts: Iterable[str], weight: int = 1) -> None:
        for text in texts:
            syllables = _syllables(text)
            for i, syl in enumerate(syllables):
                if syl != _NUMBER:
                    self.unigrams[fold(syl)][syl] += weight
                if i + 1 < len(syllables):
                    self.bigrams[(syl, syllables[i + 1])] += weight
                    self.left_counts[syl] += weight

    def forget(self, texts: Iterable[str]) -> None:
        """Take back what `learn(texts)` counted (articles deleted from the index): counts add and subtract, so
        an index updated article by article has the tables of one learnt from its articles at once."""
        self.learn(texts, weight=-1)
        for folded in [f for f, c in self.unigrams.items() if not +c]:
            del self.unigrams[folded]
        for counts in self.unigrams.values():
            for marked in [m for m, n in counts.items() if n <= 0]:
                del counts[marked]
        for table in (self.bigrams, self.left_counts):
            for key in [k for k, n in table.items() if n <= 0]:
                del table[key]

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
    def load(cls, path: Path, prior: bool = True) -> ToneModel:
        """The saved corpus tables, with the general-language prior unless `prior` is False."""
        data = json.loads(path.read_text(encoding="utf-8"))
        model = cls(prior=language_prior() if prior else None)
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

    @cached_property
    def _fold_totals(self) -> dict[str, int]:
        return {f: sum(c.values()) for f, c in self.unigrams.items()}

    @cached_property
    def _bound(self) -> dict[str, tuple[str, float]]:
        """Per marked syllable seen BOUND_MIN times or more, its commonest left neighbour (folded) and the share of its
        corpus occurrences after it: "sở" is "cơ sở" 97% of the time and "thư" always "Bí thư" in the samples. In a
        query, without that neighbour before it, it most likely means another syllable."""
        before: dict[str, Counter[str]] = defaultdict(Counter)
        for (a, b), n in self.bigrams.items():
            before[b][fold(a)] += n
        bound = {}
        for syllable, lefts in before.items():
            seen = self.unigrams.get(fold(syllable), {}).get(syllable, 0)
            if seen >= BOUND_MIN:
                left, n = lefts.most_common(1)[0]
                bound[syllable] = (left, min(1.0, n / seen))
        return bound

    def _unigram(self, marked: str, capital: bool = False, left: str | None = None) -> float:
        bound = self._bound.get(marked)
        unbound = bound is not None and left != bound[0]  # all the estimate needs to know of `left`
        key = (marked, capital, unbound)
        cache = self._unigram_cache
        if (known := cache.get(key)) is None:
            if len(cache) >= _UNIGRAM_CACHE:  # typed unknown words are endless: start again rather than grow
                cache.clear()
            known = cache[key] = self._unigram_estimate(marked, capital, unbound)
        return known

    @cached_property
    def _unigram_cache(self) -> dict[tuple[str, bool, bool], float]:
        return {}  # the tables never change once loaded

    def _unigram_estimate(self, marked: str, capital: bool, unbound: bool) -> float:
        """P(marked): the corpus's estimate, or with a prior P(folded) * P(marked | folded), each the corpus's
        counts plus the prior's pseudo-observations (PRIOR_CORPUS and PRIOR_MASS); `capital`: the syllable
        was typed with a capital inside the query; `unbound`: the query's syllable before it (none for the first)
        is not its usual left neighbour (`_bound`), so that the corpus counts only its occurrences without it."""
        total, vocabulary = self._total
        folded = fold(marked)
        count = self.unigrams.get(folded, {}).get(marked, 0)
        if self.prior is None:
            return (count + 0.1) / (total + 0.1 * vocabulary + 1)
        seen = self._fold_totals.get(folded, 0)
        if unbound:
            count *= 1.0 - self._bound[marked][1]
        shares = (self.prior.capital_shares if capital else self.prior.shares).get(folded, {})
        count += PRIOR_MASS * shares.get(marked, 0.0) + (FUNCTION_MASS if marked in FUNCTION_WORDS else 0)
        mass = PRIOR_MASS + (FUNCTION_MASS if folded in _FUNCTION_FOLDS else 0)
        given_fold = (count + 0.1) / (seen + 0.1 * _FORMS + mass)
        of_fold = (seen + 0.1 + PRIOR_CORPUS * self.prior.folds.get(folded, 0.0)) / (total + PRIOR_CORPUS + 1)
        return of_fold * given_fold

    def _transition(
        self, prev: str, marked: str, capital: bool = False, prev_first: bool = False, prev_folded: str | None = None
    ) -> float:
        """log P(marked | prev): the bigram estimate interpolated with the unigram one, and with the dictionary's
        pairs (PAIR_WEIGHT). After a query's first syllable the corpus's pairs count only as often as that
        syllable stands without its usual left neighbour ("sở đảng" is "cơ sở đảng")."""
        left = self.left_counts.get(prev, 0)
        bigram = self.bigrams.get((prev, marked), 0) / left if left else 0.0
        if prev_first and self.prior is not None:
            bigram *= 1.0 - self._bound.get(prev, ("", 0.0))[1]
        unigram = self._unigram(marked, capital, fold(prev) if prev_folded is None else prev_folded)
        estimate = _LAMBDA * bigram + (1 - _LAMBDA) * unigram
        if self.prior is not None and (after := self.prior.after.get(prev)):
            weight = PAIR_WEIGHT * PRIOR_MASS / (PRIOR_MASS + left)  # less so the more the corpus saw `prev`
            estimate = (1 - weight) * estimate + weight * self.prior.pairs.get((prev, marked), 0) / after
        if capital and self.prior is not None and marked in self.prior.names.get(prev, ()):
            estimate = max(estimate, NAME_PAIR)
        return math.log(estimate)

    def known(self, folded: str) -> bool:
        """Has the corpus seen this folded syllable, or does the prior know it as Vietnamese written without
        marks? ("to", "not" are English words far more often than "tổ", "nốt": not known through the prior.)"""
        if folded in self.unigrams:
            return True
        return self.prior is not None and self.prior.unmarked.get(folded, 1.0) < 0.5

    def forms(self, folded: str) -> list[str]:
        """How the corpus writes a folded syllable, most often first (empty when it never does)."""
        return [marked for marked, _ in self.unigrams.get(folded, Counter()).most_common()]

    def candidates(self, folded: str) -> list[str]:
        if folded == _NUMBER:
            return [folded]
        counts = self.unigrams.get(folded)
        if self.prior is not None and folded in self.prior.shares:
            weighted = Counter(counts or {})
            for shares in (self.prior.shares[folded], self.prior.capital_shares[folded]):
                for marked, share in shares.items():
                    weighted[marked] += PRIOR_MASS * share
            counts = weighted
        return [m for m, _ in counts.most_common(8)] if counts else [folded]

    def restore(self, query: str) -> str | None:
        """The query with tone marks restored, or None when it was typed with marks or nothing changes."""
        query = normalise(query)  # composed, so that a syllable with marks is one token
        tokens = _SYLLABLE.findall(query)
        lowered = _syllables(query)
        if _typed_with_marks(lowered):
            return None
        unmarked = [t for t in lowered if t != _NUMBER and not has_marks(t)]
        known = sum(1 for t in unmarked if self.known(t) and is_vietnamese_syllable(t))
        if not unmarked or known / len(unmarked) < 0.6:
            return None
        capitals = [i > 0 and t[:1].isupper() and not t.isupper() for i, t in enumerate(tokens)]  # names inside
        best = self._viterbi(lowered, capitals)  # a marked syllable is its own only candidate
        if best == lowered:
            return None
        return as_written(_apply(query, tokens, [t if b == _NUMBER else b for t, b in zip(tokens, best, strict=True)]))

    def _viterbi(self, folded: list[str], capitals: list[bool]) -> list[str]:
        lattice: list[dict[str, tuple[float, str | None]]] = []
        for i, (f, capital) in enumerate(zip(folded, capitals, strict=True)):
            column: dict[str, tuple[float, str | None]] = {}
            prev_folded = fold(folded[i - 1]) if i else None
            for cand in self.candidates(f):
                if i == 0:
                    column[cand] = (math.log(self._unigram(cand)), None)
                else:
                    column[cand] = max(
                        (score + self._transition(prev, cand, capital, i == 1, prev_folded), prev)
                        for prev, (score, _) in lattice[-1].items()
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
