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
