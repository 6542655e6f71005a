"""Re-indexing changed sources: only what changed is embedded again, and results follow."""

from __future__ import annotations

import shutil
from pathlib import Path

from searching import search

from indexer.build import build_index
from indexer.format import layout
from retrieval.searcher import Searcher

CORPUS = Path("corpus")

NEW_ARTICLE = """Chi tiết tin - Xã Thử Nghiệm
Xã Thử Nghiệm khánh thành cầu treo bắc qua sông Bến Hải
10:00, Thứ Hai, 06-05-2024
Sáng nay, xã Thử Nghiệm tổ chức lễ khánh thành cầu treo dài 120 mét bắc qua sông Bến Hải.
Cây cầu giúp hơn 300 hộ dân đi lại thuận tiện.
Cây cầu được xây dựng trong 8 tháng với tổng kinh phí 5 tỷ đồng từ ngân sách tỉnh và nguồn xã hội hóa.
Bài, ảnh: Minh Châu
"""


def test_change_remove_add(tmp_path: Path, embedder) -> None:
    src = tmp_path / "src"
    shutil.copytree(CORPUS, src)
    index_dir = tmp_path / "index"
    first = build_index([src], index_dir, embedder)
    assert first.embedded_articles == 5

    changed = src / "003_c32edca671531721.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8").replace(
            "Các đơn vị ký kết Giao ước thi đua năm 2022.",
            "Các đơn vị ký kết Giao ước thi đua năm 2022. Huyện Vĩnh Bảo trồng mới 2.000 cây xanh ven đê.",
        ),
        encoding="utf-8",
    )
    (src / "004_900d24731e0b2397.txt").unlink()
    (src / "005_new.txt").write_text(NEW_ARTICLE, encoding="utf-8")

    second = build_index([src], index_dir, embedder)
    assert sorted(second.embedded_ids) == ["003_c32edca671531721", "005_new"]
    assert second.reused_articles == 3
    assert second.removed_articles == 1
    assert second.articles == 5

    searcher = Searcher(index_dir, embedder=embedder)
    docs = {h["doc_id"] for h in search(searcher, "xây dựng Đảng", k=100)["hits"]}
    assert "004_900d24731e0b2397" not in docs
    bridge = "cầu treo bắc qua sông Bến Hải"
    top_bridge = search(searcher, bridge, k=1)["hits"][0]
    assert top_bridge["doc_id"] == "005_new" and top_bridge["published"] == "2024-05-06"
    top = search(searcher, "Vĩnh Bảo trồng mới cây xanh ven đê", k=1)["hits"][0]
    assert top["doc_id"] == "003_c32edca671531721" and "2.000 cây xanh" in top["text"]

    # Unchanged passages keep their ids and vectors: the same query scores them the same.
    third = build_index([src], index_dir, embedder)
    assert third.embedded_articles == 0 and third.reused_articles == 5
    again = search(Searcher(index_dir, embedder=embedder), bridge, k=1)["hits"][0]
    assert (again["chunk_id"], again["score"]) == (top_bridge["chunk_id"], top_bridge["score"])
    assert len(list(index_dir.glob(layout.VERSION_PREFIX + "*"))) <= 1 + layout.KEEP_OLD_VERSIONS
