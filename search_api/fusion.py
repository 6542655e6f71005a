"""Combining ranked lists from the dense and lexical legs (pure functions, easy to test)."""

from __future__ import annotations

from collections.abc import Sequence

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


def _min_max(leg: Ranked) -> dict[int, float]:
    if not leg:
        return {}
    scores = [score for _, score in leg]
    low, high = min(scores), max(scores)
    span = high - low
    return {pid: (score - low) / span if span > 0 else 1.0 for pid, score in leg}


def convex_fusion(legs: Sequence[Ranked], weights: Sequence[float]) -> list[tuple[int, float]]:
    """Weighted sum of each leg's min-max normalised scores (a passage missing from a leg gets 0 there).

    Unlike RRF it keeps how far apart the scores are: a passage far ahead in one leg stays ahead.
    On zalo-wikiqa-2019 it beat the best RRF setting (see README, "Quality").
    """
    fused: dict[int, float] = {}
    for leg, weight in zip(legs, weights, strict=True):
        for pid, score in _min_max(leg).items():
            fused[pid] = fused.get(pid, 0.0) + weight * score
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
