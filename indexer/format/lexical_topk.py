"""The lexical leg's top k in compiled loops (numba): document at a time, each candidate dropped as soon as the
bounds of the tokens it has not been scored on cannot lift it to the k-th best score so far (MaxScore).

`LexicalIndex.query` (lexical.py) used numpy for this, a term at a time: each common token looked up for every
candidate still alive by a binary search over its whole column. Here a candidate's tokens are looked up one
after the other, highest bound first, by galloping from where the previous candidate's lookup ended (candidates
come in row order), and the first token that cannot lift it ends its scoring: at a million passages the leg went
from 12-18 to 4-6 ms p50 (docs/performance.md). What is ranked is unchanged: a candidate list and the scores
of the rows it keeps are approximate sums (float64 of float32 terms, in another order than `scores`), so every
row within SLACK of the k-th best is kept, and `LexicalIndex` scores them exactly and takes the k best.

The functions work on one segment's postings (`indices`: ascending local rows per column, `freqs`) and on the
index's rows (`offset` + local row) for everything else; `TopK` carries the k best so far from segment to
segment. numba compiles them on first use and caches the machine code next to this file (`cache=True`);
`LexicalIndex.warm_up` compiles them before a server says it is ready.

The lookup and merge steps are written out in each loop on purpose: moved into helper functions (compiled
functions called from the loops), the leg took twice the time.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SLACK = 1e-5  # as lexical.SLACK: partial sums add in another order than the final score


class TopK:
    """The k best (score, row) so far as a min-heap, and every row that scored within SLACK of the k-th best
    when it was scored (`kept`), since approximate scores may order near-ties differently than exact ones."""

    def __init__(self, k: int, floor: float = 0.0) -> None:
        self.k = k
        self.scores = np.zeros(k, dtype=np.float64)
        self.rows = np.zeros(k, dtype=np.int64)
        self.size = 0
        self.floor = floor  # a score k passages are known to reach
        self.kept_rows = np.zeros(64, dtype=np.int64)
        self.kept_scores = np.zeros(64, dtype=np.float64)
        self.kept = 0

    def threshold(self) -> float:
        """The k-th best score so far (or the floor, if higher or fewer than k rows were scored)."""
        return max(self.floor, float(self.scores[0])) if self.size == self.k else self.floor

    def candidates(self) -> np.ndarray:
        """The rows that may be among the k best (ascending): those kept within SLACK of the final k-th best."""
        scores = self.kept_scores[: self.kept]
        rows = self.kept_rows[: self.kept]
        return np.sort(rows[scores >= self.threshold() * (1.0 - SLACK)])

    def update(self, size: int, kept_rows: np.ndarray, kept_scores: np.ndarray, kept: int) -> None:
        self.size, self.kept_rows, self.kept_scores, self.kept = size, kept_rows, kept_scores, kept


def score_candidates(
    top: TopK,
    indices: np.ndarray,
    freqs: np.ndarray,
    offset: int,
    rows: np.ndarray,
    partial: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    weights: np.ndarray,
    bounds: np.ndarray,
    norm: np.ndarray,
) -> None:
    """Add the token columns [starts, ends) (highest bound first) to each candidate's `partial` score, the rows
    (ascending, this segment's) in order, and offer each fully scored one to `top`."""
    suffix = np.zeros(len(bounds) + 1, dtype=np.float64)
    suffix[:-1] = np.cumsum(bounds[::-1])[::-1]
    top.update(
        *_score_candidates(
            indices, freqs, offset, rows, partial, starts, ends, weights, suffix, norm,
            top.scores, top.rows, top.size, top.floor, top.kept_rows, top.kept_scores, top.kept,
        )
    )  # fmt: skip


def score_outside(
    top: TopK,
    indices: np.ndarray,
    freqs: np.ndarray,
    offset: int,
    matched: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    weights: np.ndarray,
    bounds: np.ndarray,
    norm: np.ndarray,
    live: np.ndarray,
    allowed: np.ndarray | None,
) -> None:
    """Offer `top` this segment's rows outside `matched` (ascending) that hold the columns' tokens (most postings
    per unit of bound first) and are live and allowed: MaxScore, the postings of the tokens whose bounds must
    add up to the k-th best read whole, the others looked up while they can still lift a row there."""
    mask = np.ones(1, dtype=np.bool_) if allowed is None else allowed
    top.update(
        *_score_outside(
            indices, freqs, offset, matched, starts, ends, weights, bounds, norm, live, mask, allowed is not None,
            top.scores, top.rows, top.size, top.floor, top.kept_rows, top.kept_scores, top.kept,
        )
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _lower_bound(column: np.ndarray, lo: int, hi: int, row: int) -> int:
    """The first position in [lo, hi) whose row is at least `row` (hi if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if column[mid] < row:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _gallop(column: np.ndarray, at: int, end: int, row: int) -> int:
    """`_lower_bound` from `at` on, in steps doubling from 1: cheap when the row is near, as the next
    candidate's usually is."""
    if at >= end or column[at] >= row:
        return at
    step = 1
    while at + step < end and column[at + step] < row:
        at += step
        step <<= 1
    return _lower_bound(column, at + 1, min(at + step, end), row)


@njit(cache=True, nogil=True)
def _offer(scores, rows, size, floor, kept_rows, kept_scores, kept, score, row):  # type: ignore[no-untyped-def]
    """Keep (score, row) if it is within SLACK of the k-th best so far, and in the heap if among the k best."""
    k = len(scores)
    threshold = floor if size < k else max(floor, scores[0])
    if score < threshold * (1.0 - SLACK):
        return size, kept_rows, kept_scores, kept
    if kept == len(kept_rows):
        grown_rows = np.empty(2 * kept, np.int64)
        grown_scores = np.empty(2 * kept, np.float64)
        grown_rows[:kept] = kept_rows
        grown_scores[:kept] = kept_scores
        kept_rows, kept_scores = grown_rows, grown_scores
    kept_rows[kept] = row
    kept_scores[kept] = score
    kept += 1
    if size < k:  # sift up from the end
        i = size
        size += 1
        while i > 0:
            parent = (i - 1) >> 1
            if scores[parent] <= score:
                break
            scores[i], rows[i] = scores[parent], rows[parent]
            i = parent
        scores[i], rows[i] = score, row
    elif score > scores[0]:  # replace the worst, sift down
        i = 0
        while True:
            child = 2 * i + 1
            if child >= k:
                break
            if child + 1 < k and scores[child + 1] < scores[child]:
                child += 1
            if scores[child] >= score:
                break
            scores[i], rows[i] = scores[child], rows[child]
            i = child
        scores[i], rows[i] = score, row
    return size, kept_rows, kept_scores, kept


@njit(cache=True, nogil=True)
def _score_candidates(  # type: ignore[no-untyped-def]
    indices, freqs, offset, rows, partial, starts, ends, weights, suffix, norm,
    scores, heap_rows, size, floor, kept_rows, kept_scores, kept,
):  # fmt: skip
    k = len(scores)
    n_terms = len(starts)
    cursor = starts.copy()
    for i in range(len(rows)):
        row = rows[i]
        local = row - offset
        score = partial[i]
        threshold = (floor if size < k else max(floor, scores[0])) * (1.0 - SLACK)
        alive = True
        for t in range(n_terms):
            if score + suffix[t] < threshold:
                alive = False
                break
            at = _gallop(indices, cursor[t], ends[t], local)
            cursor[t] = at
            if at < ends[t] and indices[at] == local:
                tf = freqs[at]
                score += weights[t] * (tf / (tf + norm[row]))
        if alive:
            size, kept_rows, kept_scores, kept = _offer(
                scores, heap_rows, size, floor, kept_rows, kept_scores, kept, score, row
            )
    return size, kept_rows, kept_scores, kept


@njit(cache=True, nogil=True)
def _score_outside(  # type: ignore[no-untyped-def]
    indices, freqs, offset, matched, starts, ends, weights, bounds, norm, live, allowed, filtered,
    scores, heap_rows, size, floor, kept_rows, kept_scores, kept,
):  # fmt: skip
    k = len(scores)
    threshold = (floor if size < k else max(floor, scores[0])) * (1.0 - SLACK)
    # Tokens whose bounds add up to less than the threshold cannot lift a row holding only them there: they are
    # only looked up (highest bound first), the others' postings read whole. As many postings as can be are
    # left so, the tokens in the order given (most postings per unit of bound first).
    looked_up = np.zeros(len(starts), np.bool_)
    below = 0.0
    for t in range(len(starts)):
        if below + bounds[t] < threshold:
            looked_up[t] = True
            below += bounds[t]
    read = np.flatnonzero(~looked_up)
    lookups = np.flatnonzero(looked_up)
    lookups = lookups[np.argsort(-bounds[lookups], kind="mergesort")]
    cursor = starts.copy()
    next_match = 0
    while True:
        local = -1
        for t in read:
            if cursor[t] < ends[t] and (local < 0 or indices[cursor[t]] < local):
                local = indices[cursor[t]]
        if local < 0:
            break
        row = local + offset
        score = 0.0
        for t in read:
            at = cursor[t]
            if at < ends[t] and indices[at] == local:
                tf = freqs[at]
                score += weights[t] * (tf / (tf + norm[row]))
                cursor[t] = at + 1
        while next_match < len(matched) and matched[next_match] < row:
            next_match += 1
        if next_match < len(matched) and matched[next_match] == row:
            continue  # a candidate, scored already
        if not live[row] or (filtered and not allowed[row]):
            continue
        threshold = (floor if size < k else max(floor, scores[0])) * (1.0 - SLACK)
        rest = below
        alive = score + rest >= threshold
        for t in lookups:
            if not alive:
                break
            at = _gallop(indices, cursor[t], ends[t], local)
            cursor[t] = at
            if at < ends[t] and indices[at] == local:
                tf = freqs[at]
                score += weights[t] * (tf / (tf + norm[row]))
            rest -= bounds[t]
            alive = score + rest >= threshold
        if alive:
            size, kept_rows, kept_scores, kept = _offer(
                scores, heap_rows, size, floor, kept_rows, kept_scores, kept, score, row
            )
    return size, kept_rows, kept_scores, kept


def gather(
    indices: np.ndarray,
    freqs: np.ndarray,
    offset: int,
    starts: np.ndarray,
    ends: np.ndarray,
    weights: np.ndarray,
    norm: np.ndarray,
    live: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The live rows (ascending) holding one of the columns' tokens in this segment, and each row's sum of
    their scores (in no particular order of the tokens: a bound to prune with, not a score to rank by)."""
    return _gather(indices, freqs, offset, starts, ends, weights, norm, live)  # type: ignore[no-any-return]


def exact_scores(
    indices: np.ndarray,
    freqs: np.ndarray,
    offset: int,
    rows: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    weights: np.ndarray,
    norm: np.ndarray,
) -> np.ndarray:
    """The rows' (ascending, this segment's) BM25 scores as `LexicalIndex.scores` computes them: each token's
    float32 score added in float64, the tokens in query order (the columns' order)."""
    return _exact_scores(indices, freqs, offset, rows, starts, ends, weights, norm)  # type: ignore[no-any-return]


@njit(cache=True, nogil=True)
def _gather(indices, freqs, offset, starts, ends, weights, norm, live):  # type: ignore[no-untyped-def]
    size = 0
    for t in range(len(starts)):
        size += ends[t] - starts[t]
    rows = np.empty(size, np.int64)
    partial = np.empty(size, np.float64)
    cursor = starts.copy()
    n = 0
    while True:
        local = -1
        for t in range(len(starts)):
            if cursor[t] < ends[t] and (local < 0 or indices[cursor[t]] < local):
                local = indices[cursor[t]]
        if local < 0:
            break
        row = local + offset
        score = 0.0
        for t in range(len(starts)):
            at = cursor[t]
            if at < ends[t] and indices[at] == local:
                tf = freqs[at]
                score += weights[t] * (tf / (tf + norm[row]))
                cursor[t] = at + 1
        if live[row]:
            rows[n] = row
            partial[n] = score
            n += 1
    return rows[:n], partial[:n]


@njit(cache=True, nogil=True)
def _exact_scores(indices, freqs, offset, rows, starts, ends, weights, norm):  # type: ignore[no-untyped-def]
    total = np.zeros(len(rows), np.float64)
    cursor = starts.copy()
    for i in range(len(rows)):
        row = rows[i]
        local = row - offset
        score = 0.0
        for t in range(len(starts)):
            at = _gallop(indices, cursor[t], ends[t], local)
            cursor[t] = at
            if at < ends[t] and indices[at] == local:
                tf = freqs[at]
                score += weights[t] * (tf / (tf + norm[row]))
        total[i] = score
    return total


def count_live(indptr: np.ndarray, first: int, postings: np.ndarray, live: np.ndarray, counts: np.ndarray) -> None:
    """Add to `counts` (per column of a segment) the postings on live rows (`live`: the segment's own rows) among
    `postings`, the segment's postings from position `first` on: a whole segment's, or a block of them."""
    _count_live(indptr, first, postings, live, counts)


@njit(cache=True, nogil=True)
def _count_live(indptr, first, postings, live, counts):  # type: ignore[no-untyped-def]
    column, hi = 0, len(indptr) - 2
    while column < hi:  # the column holding posting `first`: the last one starting at or before it
        mid = (column + hi + 1) >> 1
        if indptr[mid] <= first:
            column = mid
        else:
            hi = mid - 1
    for j in range(len(postings)):
        while indptr[column + 1] <= first + j:
            column += 1
        if live[postings[j]]:
            counts[column] += 1


def warm_up(indices: np.ndarray, freqs: np.ndarray, norm: np.ndarray, live: np.ndarray) -> None:
    """Compile every loop for these arrays' types, or load it from numba's cache (a segment's memory-mapped,
    read-only arrays and a joined segment's are two types), so that no query waits for it."""
    rows, floats = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    weights = np.zeros(0, dtype=np.float32)
    top = TopK(1)
    score_candidates(top, indices, freqs, 0, rows, floats, rows, rows, weights, floats, norm)
    score_outside(top, indices, freqs, 0, rows, rows, rows, weights, floats, norm, live, None)
    score_outside(top, indices, freqs, 0, rows, rows, rows, weights, floats, norm, live, np.ones(1, dtype=bool))
    gather(indices, freqs, 0, rows, rows, weights, norm, live)
    exact_scores(indices, freqs, 0, rows, rows, rows, weights, norm)
