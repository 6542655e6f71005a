"""Fusion of the dense and lexical legs, as pure functions."""

from __future__ import annotations

from retrieval.fusion import convex_fusion, reciprocal_rank_fusion


def test_rrf_rewards_agreement_and_ignores_score_scales() -> None:
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    lexical = [(3, 25.0), (1, 12.0), (4, 3.0)]
    fused = reciprocal_rank_fusion([dense, lexical], [1.0, 1.0], k0=60)
    assert [pid for pid, _ in fused] == [1, 3, 2, 4]
    assert abs(fused[0][1] - (1 / 61 + 1 / 62)) < 1e-12


def test_rrf_weights_and_empty_legs() -> None:
    dense = [(1, 0.9), (2, 0.8)]
    lexical = [(2, 5.0), (3, 4.0)]
    assert [p for p, _ in reciprocal_rank_fusion([dense, lexical], [1.0, 0.0])] == [1, 2]
    assert [p for p, _ in reciprocal_rank_fusion([dense, []], [1.0, 1.0])] == [1, 2]
    assert reciprocal_rank_fusion([[], []], [1.0, 1.0]) == []


def test_rrf_ties_break_by_id_for_stable_output() -> None:
    fused = reciprocal_rank_fusion([[(5, 1.0)], [(4, 1.0)]], [1.0, 1.0])
    assert [p for p, _ in fused] == [4, 5]


def test_convex_fusion_keeps_score_gaps() -> None:
    dense = [(1, 0.90), (2, 0.89), (3, 0.50)]
    lexical = [(2, 10.0), (3, 9.0), (1, 1.0)]
    fused = convex_fusion([dense, lexical], [0.65, 0.35], "minmax")
    assert [p for p, _ in fused] == [2, 1, 3]
    assert abs(dict(fused)[2] - (0.65 * 0.975 + 0.35 * 1.0)) < 1e-9
    for normalise in ("minmax", "spread"):
        assert [p for p, _ in convex_fusion([dense, []], [0.65, 0.35], normalise)] == [1, 2, 3]
        assert convex_fusion([[(7, 3.0)], [(7, 3.0)]], [0.5, 0.5], normalise) == [(7, 1.0)], "one score gives 1"


def test_spread_normalisation_measures_gaps_in_standard_deviations() -> None:
    from retrieval.fusion import spread

    lexical = [(1, 100.0), (2, 12.0), (3, 11.0), (4, 10.0), (5, 10.0)]
    values = [v for _, v in lexical]
    mean = sum(values) / len(values)
    deviation = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    scaled = spread(lexical)
    assert scaled[4] == scaled[5] == 0.0 and abs(scaled[1] - 90.0 / deviation) < 1e-9
    # Unchanged by the leg's own units (BM25 scores vs cosines): rescaling and shifting a leg changes nothing.
    assert all(abs(spread([(p, 3 * v + 7) for p, v in lexical])[p] - scaled[p]) < 1e-9 for p in scaled)
    # Unlike min-max, the lead of the top passage depends on how spread out the rest of the leg is.
    tight = spread([(1, 1.0), (2, 0.5), (3, 0.5), (4, 0.5), (5, 0.0)])
    loose = spread([(1, 1.0), (2, 0.9), (3, 0.6), (4, 0.3), (5, 0.0)])
    assert tight[1] > loose[1]
    assert spread([]) == {}


def test_fixed_stats_depth_keeps_the_first_results_whatever_the_depth_fetched() -> None:
    import random

    rng = random.Random(7)
    dense = sorted(((i, rng.uniform(0.6, 0.9)) for i in range(300)), key=lambda t: -t[1])
    lexical = sorted(((i, rng.expovariate(0.2)) for i in rng.sample(range(600), 300)), key=lambda t: -t[1])
    for normalise in ("spread", "minmax"):
        shallow = convex_fusion([dense[:100], lexical[:100]], [0.6, 0.4], normalise, stats_depth=100)
        deep = convex_fusion([dense, lexical], [0.6, 0.4], normalise, stats_depth=100)
        assert [p for p, s in deep if s > 0] == [p for p, s in shallow if s > 0]
        # normalised by everything fetched instead, the order of the first results changes with the depth
        unpinned = convex_fusion([dense, lexical], [0.6, 0.4], normalise)
        assert [p for p, _ in unpinned[:20]] != [p for p, _ in shallow[:20]]
