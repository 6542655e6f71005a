"""Combining ranked lists from the dense and lexical legs (pure functions, easy to test)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

Ranked = Sequence[tuple[int, float]]  # (passage id, leg score), best first


def reciprocal_rank_fusion(
    legs: Sequence[Ranked], weights: Sequence[float], k0: float = 60.0
) -> list[tuple[int, float]]:
    """RRF (Cormack et al. 2009): sum of weight / (k0 + rank) over the legs that found an id.

    Rank-based, so it needs no calibration between cosine and BM25 scales.
    """
    fused: dict[int, float] = {}
    for leg, weight in zip(legs, weights, strict=True):
        if weight <= 0:
            continue
        for rank, (pid, _) in enumerate(leg, start=1):
            fused[pid] = fused.get(pid, 0.0) + weight / (k0 + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def min_max(leg: Ranked, stats_depth: int | None = None) -> dict[int, float]:
    """Scores mapped onto [0, 1] by the lowest and highest of the leg's first `stats_depth` candidates
    (all by default); deeper candidates, below that lowest score, get 0."""
    if not leg:
        return {}
    scores = [score for _, score in leg[:stats_depth]]
    low, high = min(scores), max(scores)
    span = high - low
    return {pid: max(0.0, (score - low) / span) if span > 0 else 1.0 for pid, score in leg}


def spread(leg: Ranked, stats_depth: int | None = None) -> dict[int, float]:
    """Scores above the lowest of the leg's first `stats_depth` candidates (all by default), in units of
    their standard deviation; deeper candidates get 0.

    Like a z-score, it measures a gap against the whole candidate list's spread, not against its single
    best score, so one outlier at the top does not squash every other score of its leg towards 0.
    """
    if not leg:
        return {}
    scores = [score for _, score in leg[:stats_depth]]
    low, deviation = min(scores), _pstdev(scores)
    return {pid: max(0.0, (score - low) / deviation) if deviation > 0 else 1.0 for pid, score in leg}


def _pstdev(values: list[float]) -> float:
    """Population standard deviation in floats (`statistics.pstdev` is exact, with fractions: 0.4 ms for the
    100 scores of a leg, twice per leg in a hybrid search; this agrees with it to about 1e-15)."""
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


NORMALISERS: dict[str, Callable[[Ranked, int | None], dict[int, float]]] = {"spread": spread, "minmax": min_max}


def convex_fusion(
    legs: Sequence[Ranked], weights: Sequence[float], normalise: str = "spread", stats_depth: int | None = None
) -> list[tuple[int, float]]:
    """Weighted sum of each leg's normalised scores (a passage missing from a leg gets 0 there).

    Unlike RRF it keeps how far apart the scores are: a passage far ahead in one leg stays ahead.
    Spread normalisation beat min-max and RRF on two Vietnamese sets (docs/quality.md).
    Normalising by a fixed number of candidates (`stats_depth`) keeps the first results the same
    whatever the number of results asked for.
    """
    scale = NORMALISERS[normalise]
    fused: dict[int, float] = {}
    for leg, weight in zip(legs, weights, strict=True):
        for pid, score in scale(leg, stats_depth).items():
            fused[pid] = fused.get(pid, 0.0) + weight * score
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
