"""Syndicated copies: detected at indexing time, shown once with 'also published' at search time."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from searching import search

from indexer.build import build_index
from indexer.dedup import duplicate_groups
from indexer.readers import read_articles, read_scraped_file
from retrieval.searcher import Searcher

ORIGINAL = Path("corpus/002_ec4d3e1a54c06ea6.txt")


def syndicated_copy(raw: str) -> str:
    """The same report republished on a ward portal two days later, lightly edited."""
    return (
        raw.replace("Chi tiết tin - Phường 5 - Đông Hà", "Chi tiết tin - Phường Đông Lương")
        .replace("17:15, Thứ Năm, 23-11-2023", "08:00, Thứ Bảy, 25-11-2023")
        .replace("Nguồn: Báo Quảng Trị; Tác giả: Vũ Hoàng", "Nguồn: Báo Quảng Trị")
        .replace("mang lại kết quả tích cực.", "mang lại kết quả rất tích cực.")
    )


def test_groups_copies_and_keeps_distinct_articles_apart() -> None:
    articles = list(read_articles([Path("corpus")]))
    copy = dataclasses.replace(
        read_scraped_file(ORIGINAL), id="copy-of-002", published="2023-11-25", source="Phường Đông Lương"
    )
    copy.text = copy.text.replace("mang lại kết quả tích cực.", "mang lại kết quả rất tích cực.")
    groups = duplicate_groups([copy, *articles])
    assert groups["copy-of-002"] == "002_ec4d3e1a54c06ea6", "the earliest-published member is canonical"
    assert len(set(groups.values())) == 5, "the five different articles stay apart"


def test_search_shows_one_result_per_group_with_also_published(tmp_path: Path, embedder) -> None:
    src = tmp_path / "src"
    shutil.copytree("corpus", src)
    (src / "ward_copy.txt").write_text(syndicated_copy(ORIGINAL.read_text(encoding="utf-8")), encoding="utf-8")
    build_index([src], tmp_path / "index", embedder)
    searcher = Searcher(tmp_path / "index", embedder=embedder)

    result = search(searcher, "Chi bộ Khu phố 3 xây dựng tuyến phố văn minh", k=10)
    docs = [h["doc_id"] for h in result["hits"]]
    assert "002_ec4d3e1a54c06ea6" in docs and "ward_copy" not in docs
    hit = next(h for h in result["hits"] if h["doc_id"] == "002_ec4d3e1a54c06ea6")
    assert hit["also_published"] == [{"doc_id": "ward_copy", "source": "Báo Quảng Trị", "published": "2023-11-25"}]
    texts = [h["text"] for h in result["hits"]]
    assert len(texts) == len(set(texts)), "no passage text twice in one result"
