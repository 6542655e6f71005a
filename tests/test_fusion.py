"""Reciprocal rank fusion as a pure function."""

from __future__ import annotations

from search_api.fusion import convex_fusion, reciprocal_rank_fusion


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
    fused = convex_fusion([dense, lexical], [0.65, 0.35])
    assert [p for p, _ in fused] == [2, 1, 3]
    assert abs(dict(fused)[2] - (0.65 * 0.975 + 0.35 * 1.0)) < 1e-9
    assert [p for p, _ in convex_fusion([dense, []], [0.65, 0.35])] == [1, 2, 3]
    assert convex_fusion([[(7, 3.0)], [(7, 3.0)]], [0.5, 0.5]) == [(7, 1.0)], "a single score normalises to 1"
