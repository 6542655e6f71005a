"""The streaming BM25 build scores exactly as bm25s's own index() does, across spooled blocks."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from indexer.format import lexical
from indexer.format.lexical import LexicalIndex, build_lexical, passage_tokens
from tracuu.text.tokens import query_tokens

PASSAGES = [
    ("Đảng bộ thị xã", "Kết nạp 120 đảng viên mới, vượt chỉ tiêu đề ra."),
    ("Xây dựng Đảng", "Công tác xây dựng Đảng được chú trọng; kết nạp đảng viên trẻ."),
    ("Nông thôn mới", "Xã đạt chuẩn nông thôn mới nâng cao năm 2024."),
    ("Giáo dục", "Trường học đạt chuẩn quốc gia, học sinh giỏi tăng."),
    ("Đường giao thông", "Làm mới 12 km đường giao thông nông thôn; đường ra biển."),
    ("Biển đảo", "Tuyên truyền chủ quyền biển đảo; Thái Bình Dương, đại dương."),
    ("Kinh tế", "Tổng thu ngân sách đạt 1.200 tỷ đồng, tăng trưởng kinh tế 8%."),
]
QUERIES = ["kết nạp đảng viên mới", "ket nap dang vien", "đường", "duong", "nông thôn mới nông thôn", "ngân sách"]


def reference_scores(query: str) -> np.ndarray:
    retriever = bm25s.BM25(k1=lexical.K1, b=lexical.B)
    retriever.index([passage_tokens(t, x) for t, x in PASSAGES], show_progress=False)
    tokens = [t for t in query_tokens(query) if t in retriever.vocab_dict]
    return retriever.get_scores(tokens)


@pytest.mark.parametrize("block", [2, 3, 1000])
def test_scores_match_bm25s_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(lexical, "BLOCK_PASSAGES", block)
    ids = [10 * i + 5 for i in range(len(PASSAGES))]
    build_lexical(tmp_path, ids, iter(PASSAGES))  # a one-shot iterator is enough
    assert not (tmp_path / lexical.LEXICAL_DIR / ".spool").exists()
    index = LexicalIndex(tmp_path)
    for query in QUERIES:
        tokens = [t for t in query_tokens(query) if t in index.vocab]
        np.testing.assert_allclose(index.scores(tokens), reference_scores(query), rtol=1e-5, atol=1e-6)
        found = index.search(query, 3)
        assert found and found[0][0] == ids[int(np.argmax(reference_scores(query)))]
    # bm25s itself reads the files
    loaded = bm25s.BM25.load(str(tmp_path / lexical.LEXICAL_DIR), mmap=True)
    tokens = [t for t in query_tokens(QUERIES[0]) if t in loaded.vocab_dict]
    np.testing.assert_allclose(loaded.get_scores(tokens), reference_scores(QUERIES[0]), rtol=1e-5, atol=1e-6)


def test_filter_and_empty_index(tmp_path: Path) -> None:
    ids = [3, 1, 4, 0, 6, 2, 5]  # rows not in id order: the isin path
    build_lexical(tmp_path, ids, PASSAGES)
    index = LexicalIndex(tmp_path)
    best = index.search("đường giao thông", 3)[0][0]
    assert best == 6
    filtered = index.search("đường giao thông", 3, allowed=np.array([2, 99]))
    assert [pid for pid, _ in filtered] == [2]  # "Đại dương" only by its folded token
    assert index.search("đường", 3, allowed=np.array([], dtype=np.int64)) == []
    assert index.search("zzzz", 3) == []
    assert index.search("đường", 0) == []

    empty = tmp_path / "empty"
    empty.mkdir()
    build_lexical(empty, [], [])
    assert LexicalIndex(empty).search("đường", 5) == []


def test_sorted_ids_filter(tmp_path: Path) -> None:
    ids = list(range(100, 100 + len(PASSAGES)))
    build_lexical(tmp_path, ids, PASSAGES)
    index = LexicalIndex(tmp_path)
    assert index.sorted_ids
    assert index.rows_of(np.array([102, 5000, 100, 99])).tolist() == [2, 0]
    found = index.search("kết nạp đảng viên", 5, allowed=np.array([101]))
    assert [pid for pid, _ in found] == [101]
