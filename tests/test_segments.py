"""Segments: an update writes what it changes, and searching many segments answers as one index does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_index

from indexer.build import build_index, optimize_index
from indexer.chunking import ChunkingParams
from indexer.format import layout
from indexer.format.segments import Snapshot, plan_merge
from retrieval.contract import SearchParams
from retrieval.searcher import Searcher
from tracuu.text.restore import RESTORE_FILE

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
FILTERS = {"source": "Báo Quảng Trị", "from": "2020-01-01"}  # a filter applied inside each segment's search
QUERIES = ("ket nap dang vien moi", "xây dựng nông thôn mới", "Vĩnh Bảo", "thi đua khen thưởng", "Đông Hà")
EXTRA = """Chi tiết tin - Xã Thử Nghiệm
Xã Thử Nghiệm khánh thành cầu treo bắc qua sông Bến Hải
10:00, Thứ Hai, 06-05-2024
Sáng nay, xã Thử Nghiệm tổ chức lễ khánh thành cầu treo dài 120 mét bắc qua sông Bến Hải.
Cây cầu giúp hơn 300 hộ dân đi lại thuận tiện, nhất là học sinh và người dân vùng đồi.
Cây cầu được xây dựng trong 8 tháng với tổng kinh phí 5 tỷ đồng từ ngân sách tỉnh và nguồn xã hội hóa.
"""


def answers(index_dir: Path, embedder) -> dict[tuple[str, str], list[tuple[str, int, float]]]:
    """What the index answers for each query and mode: (article, passage number, score) best first."""
    searcher = Searcher(index_dir, embedder=embedder)
    try:
        found = {}
        for query in QUERIES:
            for mode, filters in (("hybrid", {}), ("dense", {}), ("lexical", {}), ("filtered", FILTERS)):
                search_mode = "hybrid" if mode == "filtered" else mode
                result = searcher.search(SearchParams.model_validate({"q": query, "mode": search_mode, **filters}))
                found[(query, mode)] = [(h.doc_id, int(h.chunk_id.rsplit("#", 1)[1]), h.score) for h in result.hits]
                found[(query, mode, "facets")] = [result.total, result.facets.model_dump()]  # type: ignore[index]
        return found
    finally:
        searcher.close()


def same_answers(got: dict[Any, Any], expected: dict[Any, Any]) -> None:
    """The same hits with the same scores; passages with equal scores may come in either order."""
    assert got.keys() == expected.keys()
    for key, hits in expected.items():
        if len(key) == 3:
            assert got[key] == hits, key
            continue
        assert [h[2] for h in got[key]] == pytest.approx([h[2] for h in hits], abs=2e-4), key
        assert tie_groups(got[key]) == tie_groups(hits), key


def tie_groups(hits: list[tuple[str, int, float]]) -> list[set[tuple[str, int]]]:
    """The hits grouped by score (4 decimals), the last group left out: a tie may be cut at the k-th hit."""
    groups: dict[float, set[tuple[str, int]]] = {}
    for doc_id, chunk, score in hits:
        groups.setdefault(round(score, 4), set()).add((doc_id, chunk))
    return list(groups.values())[:-1]


def lexical_only(found: dict[Any, Any]) -> dict[Any, Any]:
    return {key: hits for key, hits in found.items() if key[1] == "lexical"}


def sources(tmp_path: Path, names: list[str], extra: bool = False) -> Path:
    src = tmp_path / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for name in names:
        shutil.copy(CORPUS / name, src / name)
    if extra:
        (src / "zz_extra.txt").write_text(EXTRA, encoding="utf-8")
    return src


def inodes(segment: Path) -> dict[str, int]:
    return {str(p.relative_to(segment)): p.stat().st_ino for p in segment.rglob("*") if p.is_file()}


def segment_names(index_dir: Path) -> list[str]:
    return [s.name for s in Snapshot.current(index_dir).segments]


@pytest.fixture(scope="module")
def corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS.glob("*.txt"))


def test_an_update_adds_one_segment_and_answers_as_a_fresh_index(tmp_path: Path, embedder, corpus_files) -> None:
    index_dir = tmp_path / "index"
    build_index([sources(tmp_path, corpus_files[:3])], index_dir, embedder)
    first = segment_names(index_dir)
    first_files = inodes(layout.current_version(index_dir) / first[0])

    summary = build_index([sources(tmp_path, corpus_files, extra=True)], index_dir, embedder)
    assert summary.embedded_articles == 3 and summary.reused_articles == 3
    assert segment_names(index_dir)[0] == first[0] and len(segment_names(index_dir)) == 2
    kept = layout.current_version(index_dir) / first[0]
    assert inodes(kept) == first_files  # hard links: nothing copied

    segmented = answers(index_dir, embedder)
    assert all(segmented[(q, "filtered")] for q in QUERIES)  # the filter leaves hits to compare
    merged = optimize_index(copy_index(index_dir, tmp_path / "merged"))
    assert merged.merged_segments == 2 and len(segment_names(tmp_path / "merged")) == 1
    same_answers(segmented, answers(tmp_path / "merged", embedder))  # the same vectors, one segment

    # Lexical statistics and tone counts are global: as if the index had been built at once. (Vectors are not
    # compared with a fresh build: int8 activations are quantised per batch, so they depend on batch-mates.)
    fresh = tmp_path / "fresh"
    build_index([sources(tmp_path, corpus_files, extra=True)], fresh, embedder)
    assert len(segment_names(fresh)) == 1
    whole = answers(fresh, embedder)
    same_answers(lexical_only(segmented), lexical_only(whole))
    updated = json.loads((layout.current_version(index_dir) / RESTORE_FILE).read_text(encoding="utf-8"))
    learnt = json.loads((layout.current_version(fresh) / RESTORE_FILE).read_text(encoding="utf-8"))
    assert updated["unigrams"] == learnt["unigrams"]
    assert sorted(map(tuple, updated["bigrams"])) == sorted(map(tuple, learnt["bigrams"]))


def test_changes_and_removals_are_deletions_and_a_merge_drops_them(tmp_path: Path, embedder, corpus_files) -> None:
    index_dir = tmp_path / "index"
    build_index([sources(tmp_path, corpus_files, extra=True)], index_dir, embedder)
    src = sources(tmp_path, corpus_files[1:], extra=True)  # the first article is removed
    extra = src / "zz_extra.txt"
    extra.write_text(EXTRA.replace("120 mét", "150 mét"), encoding="utf-8")  # and one is changed
    summary = build_index([src], index_dir, embedder)
    assert summary.removed_articles == 1 and summary.embedded_articles == 1
    deleted = json.loads((layout.current_version(index_dir) / "deleted.json").read_text(encoding="utf-8"))
    removed_id = Path(corpus_files[0]).stem
    assert sorted(deleted[segment_names(index_dir)[0]]) == sorted([removed_id, "zz_extra"])

    fresh = tmp_path / "fresh"
    build_index([src], fresh, embedder)
    expected = answers(index_dir, embedder)
    same_answers(lexical_only(expected), lexical_only(answers(fresh, embedder)))
    searcher = Searcher(index_dir, embedder=embedder)
    try:
        assert searcher.store.article(removed_id) is None
        assert "150 mét" in searcher.store.article("zz_extra")["text"]
        assert searcher.manifest["counts"]["articles"] == 5
        before = searcher.search(SearchParams(q="cầu treo sông Bến Hải", k=3))

        optimized = optimize_index(index_dir)  # the open searcher keeps its snapshot
        assert optimized.merged_segments == 2 and len(segment_names(index_dir)) == 1
        assert json.loads((layout.current_version(index_dir) / "deleted.json").read_text(encoding="utf-8")) == {}
        again = searcher.search(SearchParams(q="cầu treo sông Bến Hải", k=3))
        assert [h.model_dump() for h in again.hits] == [h.model_dump() for h in before.hits]
    finally:
        searcher.close()
    same_answers(answers(index_dir, embedder), expected)


def test_posted_articles_publish_a_segment_without_rewriting_the_others(tmp_path: Path, embedder, corpus_files) -> None:
    from indexer.build import publish_posted
    from indexer.posted import PostedArticles

    index_dir = tmp_path / "index"
    build_index([sources(tmp_path, corpus_files)], index_dir, embedder)
    first = segment_names(index_dir)
    posted = PostedArticles(index_dir)
    posted.put([("cau-treo", {"id": "cau-treo", "title": "Khánh thành cầu treo", "text": EXTRA})])
    summary = publish_posted(index_dir, embedder)
    assert summary is not None and summary.embedded_articles == 1 and summary.articles == 6
    assert segment_names(index_dir)[:1] == first and len(segment_names(index_dir)) == 2
    posted.delete(Path(corpus_files[0]).stem)
    summary = publish_posted(index_dir, embedder)
    assert summary is not None and summary.embedded_articles == 0 and summary.articles == 5
    assert len(segment_names(index_dir)) == 2  # a deletion writes no segment


def test_the_merge_policy_keeps_few_segments_and_merges_the_small_ones() -> None:
    assert plan_merge([100, 5, 4], max_segments=10) == []
    assert plan_merge([1000, *range(10, 0, -1)], max_segments=10) == [6, 7, 8, 9, 10]  # the five smallest
    assert plan_merge([7, 7], max_segments=1) == [0, 1]
    live = [1000, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    rounds = 0
    while positions := plan_merge(live, max_segments=10):
        live = [n for p, n in enumerate(live) if p not in positions] + [sum(live[p] for p in positions)]
        rounds += 1
    assert len(live) <= 10 and live[0] == 1000 and rounds <= 2  # the large segment is never rewritten


def test_unchanged_source_files_are_not_read_again(tmp_path: Path, embedder, corpus_files, monkeypatch) -> None:
    """Only files whose size or modification time changed are read (indexer/sources.py); the articles of the
    others stay, and a file that is gone takes its articles with it."""
    import indexer.readers as readers

    src = sources(tmp_path, corpus_files, extra=True)
    index_dir = tmp_path / "index"
    build_index([src], index_dir, embedder)
    read: list[str] = []
    real = readers.read_scraped_file
    monkeypatch.setattr(readers, "read_scraped_file", lambda path, *a: read.append(path.name) or real(path, *a))

    tones = (layout.current_version(index_dir) / RESTORE_FILE).stat().st_ino
    again = build_index([src], index_dir, embedder)
    assert read == [] and again.reused_articles == 6 and again.articles == 6
    assert (layout.current_version(index_dir) / RESTORE_FILE).stat().st_ino == tones  # nothing changed: linked

    extra = src / "zz_extra.txt"
    extra.write_text(EXTRA.replace("120 mét", "150 mét"), encoding="utf-8")
    (src / corpus_files[0]).unlink()
    changed = build_index([src], index_dir, embedder)
    assert read == ["zz_extra.txt"]
    assert changed.embedded_articles == 1 and changed.removed_articles == 1 and changed.articles == 5
    searcher = Searcher(index_dir, embedder=embedder)
    try:
        assert "150 mét" in searcher.store.article("zz_extra")["text"]
        assert searcher.store.article(Path(corpus_files[0]).stem) is None
    finally:
        searcher.close()

    read.clear()
    build_index([src], index_dir, embedder, raw=True)  # other reading options: every file is read again
    assert sorted(read) == sorted([*corpus_files[1:], "zz_extra.txt"])


def test_another_chunking_or_model_reads_every_file_and_keeps_every_article(
    tmp_path: Path, embedder, corpus_files, monkeypatch
) -> None:
    """A run with another chunking (or model, or backend recipe) builds every article anew, so it reads the files
    that did not change too: before, it left them unread and published an index without their articles."""
    import indexer.readers as readers

    src = sources(tmp_path, corpus_files)
    index_dir = tmp_path / "index"
    first = build_index([src], index_dir, embedder)
    read: list[str] = []
    real = readers.read_scraped_file
    monkeypatch.setattr(readers, "read_scraped_file", lambda path, *a: read.append(path.name) or real(path, *a))

    rechunked = build_index([src], index_dir, embedder, ChunkingParams(max_tokens=120))
    assert sorted(read) == sorted(corpus_files)
    assert rechunked.articles == first.articles == 5 and rechunked.passages > first.passages
    manifest = layout.read_manifest(layout.current_version(index_dir))
    assert manifest["counts"]["articles"] == 5 and manifest["chunking"]["max_tokens"] == 120
    read.clear()
    again = build_index([src], index_dir, embedder, ChunkingParams(max_tokens=120))  # the same again: none read
    assert read == [] and again.articles == 5 and again.embedded_articles == 0
