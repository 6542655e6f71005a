"""BM25 from term-frequency postings scored at query time: the streaming build scores exactly as bm25s's own
index() does; segments with deleted passages, and their merge, score as one index of the live passages."""

from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np
import pytest

from indexer.format import lexical, lexical_topk
from indexer.format.lexical import LEXICAL_DIR, LexicalIndex, build_lexical, merge_lexical, passage_tokens
from tracuu.text.tokens import query_tokens


@pytest.fixture(params=["term at a time", "compiled"], autouse=True)
def top_k_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs twice: the top k taken by numpy a term at a time (indexes under COMPILED_MIN_ROWS
    rows) and by the compiled loops of lexical_topk (from there on)."""
    monkeypatch.setattr(lexical, "COMPILED_MIN_ROWS", 0 if request.param == "compiled" else 1 << 62)
    return str(request.param)


PASSAGES = [
    ("Đảng bộ thị xã", "Kết nạp 120 đảng viên mới, vượt chỉ tiêu đề ra."),
    ("Xây dựng Đảng", "Công tác xây dựng Đảng được chú trọng; kết nạp đảng viên trẻ."),
    ("Nông thôn mới", "Xã đạt chuẩn nông thôn mới nâng cao năm 2024."),
    ("Giáo dục", "Trường học đạt chuẩn quốc gia, học sinh giỏi tăng."),
    ("Đường giao thông", "Làm mới 12 km đường giao thông nông thôn; đường ra biển."),
    ("Biển đảo", "Tuyên truyền chủ quyền biển đảo; Thái Bình Dương, đại dương."),
    ("Kinh tế", "Tổng thu ngân sách đạt 1.200 tỷ đồng, tăng trưởng kinh tế 8%."),
]
MORE = [
    ("Y tế", "Trạm y tế xã đạt chuẩn quốc gia; tiêm chủng cho trẻ em đạt 98%."),
    ("Nông nghiệp", "Nông dân trồng lúa và nuôi tôm; giá lúa tăng, đường giao thông nội đồng mới."),
    ("Văn hóa", "Lễ hội truyền thống thu hút du khách; nhà văn hóa thôn được xây mới."),
    ("Đảng viên", "Đảng viên gương mẫu, kết nạp thêm 15 đảng viên ở nông thôn."),
    ("Du lịch biển", "Du lịch biển đảo phục hồi; khách đến bãi biển tăng mạnh."),
]
QUERIES = [
    "kết nạp đảng viên mới",
    "ket nap dang vien",
    "đường",
    "duong",
    "nông thôn mới nông thôn",
    "ngân sách",
    "biển đảo du lịch",
    "đạt chuẩn quốc gia",
]
UNIQUE = "w:ngân"  # only in PASSAGES[6]


def reference_scores(passages: list[tuple[str, str]], query: str) -> np.ndarray:
    retriever = bm25s.BM25(k1=lexical.K1, b=lexical.B)
    retriever.index([passage_tokens(t, x) for t, x in passages], show_progress=False)
    tokens = [t for t in query_tokens(query) if t in retriever.vocab_dict]
    return retriever.get_scores(tokens) if tokens else np.zeros(len(passages))


def segment(root: Path, name: str, ids: list[int], passages: list[tuple[str, str]]) -> Path:
    directory = root / name
    directory.mkdir()
    build_lexical(directory, ids, passages)
    return directory


def by_id(index: LexicalIndex, scores: np.ndarray | None) -> dict[int, float]:
    """Nonzero scores by passage id."""
    if scores is None:
        return {}
    return {int(index.row_ids[r]): float(scores[r]) for r in np.flatnonzero(scores)}


def assert_same_index(index: LexicalIndex, reference: LexicalIndex) -> None:
    """The same passages, statistics and scores (per passage id, whatever the rows)."""
    assert index.n_docs == reference.n_docs
    assert set(index.vocab) == set(reference.vocab)
    assert len(index.vocab) == len(reference.vocab)
    for token in reference.vocab:
        assert token in index.vocab
        assert index.document_frequency(token) == reference.document_frequency(token), token
    for query in QUERIES:
        got, want = index.score_query(query), reference.score_query(query)
        assert (got is None) == (want is None)
        got_ids, want_ids = by_id(index, got), by_id(reference, want)
        assert got_ids.keys() == want_ids.keys(), query
        for pid, score in want_ids.items():
            assert got_ids[pid] == pytest.approx(score, rel=1e-5, abs=1e-6), (query, pid)
        np.testing.assert_array_equal(index.matching_ids(got), reference.matching_ids(want))
        got_top, want_top = index.search(query, 5), reference.search(query, 5)
        assert [pid for pid, _ in got_top] == [pid for pid, _ in want_top], query
        np.testing.assert_allclose([s for _, s in got_top], [s for _, s in want_top], rtol=1e-5)


@pytest.mark.parametrize("block", [2, 3, 1000])
def test_scores_match_bm25s_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(lexical, "BLOCK_PASSAGES", block)
    ids = [10 * i + 5 for i in range(len(PASSAGES))]
    build_lexical(tmp_path, ids, iter(PASSAGES))  # a one-shot iterator is enough
    out = tmp_path / lexical.LEXICAL_DIR
    assert not (out / ".spool").exists()
    lengths = np.load(out / lexical.LENGTHS)
    np.testing.assert_array_equal(lengths, [len(passage_tokens(t, x)) for t, x in PASSAGES])
    index = LexicalIndex([tmp_path])
    assert index.n_docs == index.n_rows == len(PASSAGES)
    for query in QUERIES:
        tokens = [t for t in query_tokens(query) if t in index.vocab]
        expected = reference_scores(PASSAGES, query)
        np.testing.assert_allclose(index.scores(tokens), expected, rtol=1e-5, atol=1e-6)
        found = index.search(query, 3)
        assert found and found[0][0] == ids[int(np.argmax(expected))]
    tokens = query_tokens("nông thôn")
    np.testing.assert_allclose(index.scores(tokens * 2), 2 * index.scores(tokens), rtol=1e-6)  # repeats count


def test_filter_and_empty_index(tmp_path: Path) -> None:
    ids = [3, 1, 4, 0, 6, 2, 5]  # rows not in id order: the isin path
    build_lexical(tmp_path, ids, PASSAGES)
    index = LexicalIndex([tmp_path])
    best = index.search("đường giao thông", 3)[0][0]
    assert best == 6
    filtered = index.search("đường giao thông", 3, allowed=np.array([2, 99]))
    assert [pid for pid, _ in filtered] == [2]  # "Đại dương" only by its folded token
    assert index.search("đường", 3, allowed=np.array([], dtype=np.int64)) == []
    assert index.search("zzzz", 3) == []
    assert index.search("đường", 0) == []
    with pytest.raises(TypeError):
        LexicalIndex(tmp_path)  # type: ignore[arg-type]


def test_sorted_ids_filter(tmp_path: Path) -> None:
    ids = list(range(100, 100 + len(PASSAGES)))
    build_lexical(tmp_path, ids, PASSAGES)
    index = LexicalIndex([tmp_path])
    assert index.sorted_ids
    assert index.rows_of(np.array([102, 5000, 100, 99])).tolist() == [2, 0]
    found = index.search("kết nạp đảng viên", 5, allowed=np.array([101]))
    assert [pid for pid, _ in found] == [101]


def test_segments_with_deletions_score_as_one_index_of_the_live_passages(tmp_path: Path) -> None:
    ids_a, ids_b = [10, 11, 12, 13, 14, 15, 16], [20, 21, 22, 23, 24]
    a = segment(tmp_path, "a", ids_a, PASSAGES)
    b = segment(tmp_path, "b", ids_b, MORE)
    deleted = np.array([11, 16, 22])  # 16 holds UNIQUE
    index = LexicalIndex([a, b], deleted)
    live = [(pid, p) for pid, p in zip(ids_a + ids_b, PASSAGES + MORE, strict=True) if pid not in deleted]
    reference = LexicalIndex([segment(tmp_path, "one", [pid for pid, _ in live], [p for _, p in live])])
    assert (index.n_rows, index.n_docs) == (12, 9)
    assert_same_index(index, reference)
    assert UNIQUE in LexicalIndex([a, b]).vocab and UNIQUE not in index.vocab
    assert index.document_frequency(UNIQUE) == 0
    assert index.score_query("ngân sách") is None
    assert index.scores([UNIQUE, "w:đường"]).tolist() == index.scores(["w:đường"]).tolist()
    scores = index.scores(query_tokens("kết nạp đảng viên mới đường biển"))
    assert not scores[index.rows_of(deleted)].any()  # deleted passages never match
    assert not set(index.matching_ids(scores).tolist()) & set(deleted.tolist())
    # and as bm25s scores the live passages
    for query in QUERIES:
        expected = dict(zip([pid for pid, _ in live], reference_scores([p for _, p in live], query), strict=True))
        got = by_id(index, index.score_query(query))
        for pid, score in expected.items():
            assert got.get(pid, 0.0) == pytest.approx(score, rel=1e-5, abs=1e-6), (query, pid)
    # a filter over live and deleted ids
    found = index.search("kết nạp đảng viên", 5, allowed=np.array([11, 13, 23]))
    assert [pid for pid, _ in found] == [23]


@pytest.mark.parametrize("step", [3, 1 << 22])
def test_merge_equals_build_of_the_kept_passages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    monkeypatch.setattr(lexical, "MERGE_POSTINGS", step)
    ids_a, ids_b = [10, 11, 12, 13, 14, 15, 16], [20, 21, 22, 23, 24]
    a = segment(tmp_path, "a", ids_a, PASSAGES)
    b = segment(tmp_path, "b", ids_b, MORE)
    keep_a = np.array([1, 0, 1, 1, 0, 1, 0], dtype=bool)  # drops 16 and with it UNIQUE
    keep_b = np.array([1, 1, 0, 1, 1], dtype=bool)
    merged = tmp_path / "merged"
    merged.mkdir()
    merge_lexical(merged, [(a, keep_a), (b, keep_b)])
    kept = [(pid, p) for pid, p, k in zip(ids_a + ids_b, PASSAGES + MORE, [*keep_a, *keep_b], strict=True) if k]
    built = segment(tmp_path, "built", [pid for pid, _ in kept], [p for _, p in kept])
    out, want = merged / lexical.LEXICAL_DIR, built / lexical.LEXICAL_DIR
    for name in (lexical.ROW_IDS, lexical.LENGTHS):
        np.testing.assert_array_equal(np.load(out / name), np.load(want / name))
    vocab = json.loads((out / lexical.VOCAB).read_text(encoding="utf-8"))
    assert vocab.keys() == json.loads((want / lexical.VOCAB).read_text(encoding="utf-8")).keys()
    assert UNIQUE not in vocab and sorted(vocab.values()) == list(range(len(vocab)))
    indptr, indices = np.load(out / lexical.INDPTR), np.load(out / lexical.INDICES)
    assert all(np.all(np.diff(indices[s:e]) > 0) for s, e in zip(indptr[:-1], indptr[1:], strict=True))
    assert np.all(np.diff(indptr) > 0)  # no column without a posting
    index, reference = LexicalIndex([merged]), LexicalIndex([built])
    assert_same_index(index, reference)
    for query in QUERIES:  # the same rows too
        got, want = index.score_query(query), reference.score_query(query)
        if want is None:
            assert got is None and query == "ngân sách"
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # merging the merge with one more segment, some of it dropped
    again = tmp_path / "again"
    again.mkdir()
    merge_lexical(again, [(merged, np.ones(len(kept), dtype=bool)), (a, ~keep_a)])
    everything = LexicalIndex([again], deleted=np.array([11]))
    assert_same_index(everything, LexicalIndex([a, b], deleted=np.array([11, 22])))


def test_empty_segment(tmp_path: Path) -> None:
    empty = segment(tmp_path, "empty", [], [])
    index = LexicalIndex([empty])
    assert (index.n_rows, index.n_docs, len(index.vocab), bool(index.vocab)) == (0, 0, 0, False)
    assert index.search("đường", 5) == [] and index.score_query("đường") is None
    assert index.document_frequency("w:đường") == 0
    a = segment(tmp_path, "a", list(range(len(PASSAGES))), PASSAGES)
    assert_same_index(LexicalIndex([empty, a, empty]), LexicalIndex([a]))
    merged = tmp_path / "merged"
    merged.mkdir()
    merge_lexical(merged, [(empty, np.zeros(0, dtype=bool)), (a, np.ones(len(PASSAGES), dtype=bool))])
    assert_same_index(LexicalIndex([merged]), LexicalIndex([a]))
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    merge_lexical(nothing, [(a, np.zeros(len(PASSAGES), dtype=bool))])
    assert LexicalIndex([nothing]).n_rows == 0 and not LexicalIndex([nothing]).vocab


def test_segment_with_every_passage_deleted(tmp_path: Path) -> None:
    ids_a, ids_b = [10, 11, 12, 13, 14, 15, 16], [20, 21, 22, 23, 24]
    a = segment(tmp_path, "a", ids_a, PASSAGES)
    b = segment(tmp_path, "b", ids_b, MORE)
    index = LexicalIndex([b, a], deleted=np.array(ids_a))
    assert (index.n_rows, index.n_docs) == (12, 5)
    assert_same_index(index, LexicalIndex([b]))
    assert "w:đảng" in index.vocab and UNIQUE not in index.vocab
    assert index.search("ngân sách", 5) == []
    gone = LexicalIndex([a, b], deleted=np.array(ids_a + ids_b))
    assert (gone.n_docs, bool(gone.vocab), len(gone.vocab)) == (0, False, 0)
    assert gone.search("đảng viên", 5) == [] and gone.document_frequency("w:đảng") == 0
    assert not gone.scores(["w:đảng"]).any()


def test_old_format_is_refused(tmp_path: Path) -> None:
    out = tmp_path / lexical.LEXICAL_DIR
    out.mkdir()
    np.save(out / lexical.ROW_IDS, np.arange(3))
    (out / lexical.OLD_VOCAB).write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="rebuild"):
        LexicalIndex([tmp_path])


def test_a_segment_linked_into_a_new_version_shares_its_parsed_vocabulary(tmp_path: Path) -> None:
    """A live reload re-uses the vocabulary of every unchanged (hard-linked) segment; a new file is parsed."""
    import os

    first = tmp_path / "v1" / "seg-0"
    first.mkdir(parents=True)
    build_lexical(first, [0, 1], [("Tiêu đề", "Xã khánh thành cầu treo."), ("", "Huyện trồng cây xanh.")])
    linked = tmp_path / "v2" / "seg-0"
    (linked / LEXICAL_DIR).mkdir(parents=True)
    for name in os.listdir(first / LEXICAL_DIR):
        os.link(first / LEXICAL_DIR / name, linked / LEXICAL_DIR / name)
    old, new = LexicalIndex([first]), LexicalIndex([linked])
    assert new.segments[0].vocab is old.segments[0].vocab
    rebuilt = tmp_path / "v3" / "seg-0"
    rebuilt.mkdir(parents=True)
    build_lexical(rebuilt, [0, 1], [("Tiêu đề", "Xã khánh thành cầu treo."), ("", "Huyện trồng cây xanh.")])
    other = LexicalIndex([rebuilt])
    assert other.segments[0].vocab is not old.segments[0].vocab and other.segments[0].vocab == old.segments[0].vocab


CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def corpus_passages() -> list[tuple[str, str]]:
    """The sample articles as (title, sentence) passages: a few hundred of real news text."""
    import re

    passages = []
    for path in sorted(CORPUS.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for line in lines[1:]:
            passages += [(lines[0], s) for s in re.split(r"(?<=[.;:])\s+", line) if len(s.split()) >= 3]
    return passages


def expected_query(
    index: LexicalIndex, held: dict[int, set[str]], tokens: list[str], k: int, allowed: set[int] | None
) -> tuple[list[tuple[int, float]], list[int]]:
    """What `LexicalIndex.query` must return, from the live passages' own token sets and the exhaustive scores:
    the best k of every passage (ties by row), and the matches: a rare token held, or every token when all are
    common, and the best k."""
    distinct = [t for t in dict.fromkeys(tokens) if any(t in h for h in held.values())]
    if not distinct:
        return [], []
    cutoff = max(lexical.COMMON_MIN, lexical.COMMON_FRACTION * len(held))
    rare = {t for t in distinct if sum(t in h for h in held.values()) <= cutoff}
    if rare:
        matches = sorted(pid for pid, h in held.items() if rare & h)
    else:
        matches = sorted(pid for pid, h in held.items() if set(distinct) <= h)
    scores = index.scores(tokens)
    row_of = {int(pid): row for row, pid in enumerate(index.row_ids)}
    ranked = [pid for pid in held if scores[row_of[pid]] > 0 and (allowed is None or pid in allowed)]
    ranked.sort(key=lambda pid: (-scores[row_of[pid]], row_of[pid]))
    best = [(pid, float(scores[row_of[pid]])) for pid in ranked[:k]]
    return best, sorted(set(matches) | {pid for pid, _ in best})


@pytest.mark.parametrize("joined", ["none", "the first two", "all"])
def test_pruned_top_k_equals_the_exhaustive_scores_over_segments_with_deletions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, joined: str, top_k_path: str
) -> None:
    """MaxScore skips postings, never a result: over three segments (one merged, one written before bounds
    existed) with deleted passages, every query's top k and scores equal the exhaustive BM25's to the bit; so
    they do when small neighbouring segments are searched as one (`_join_small`)."""
    from tracuu.text.normalise import fold

    monkeypatch.setattr(lexical, "COMMON_MIN", 0)
    monkeypatch.setattr(lexical, "COMMON_FRACTION", 0.03)  # common tokens on a small index too
    passages = corpus_passages()
    assert len(passages) > 200
    ids = list(range(len(passages)))
    third = len(passages) // 3
    a1 = segment(tmp_path, "a1", ids[: third // 2], passages[: third // 2])
    a2 = segment(tmp_path, "a2", ids[third // 2 : third], passages[third // 2 : third])
    merged = tmp_path / "a"
    merged.mkdir()
    merge_lexical(merged, [(a1, np.ones(third // 2, dtype=bool)), (a2, np.ones(third - third // 2, dtype=bool))])
    b = segment(tmp_path, "b", ids[third : 2 * third], passages[third : 2 * third])
    c = segment(tmp_path, "c", ids[2 * third :], [(title.upper(), text) for title, text in passages[2 * third :]])
    (c / LEXICAL_DIR / lexical.BOUNDS).unlink()  # as written before bounds: bound 1
    rng = np.random.default_rng(7)
    deleted = np.sort(rng.choice(ids, len(ids) // 10, replace=False))
    postings = {d: int(np.load(d / LEXICAL_DIR / lexical.INDPTR)[-1]) for d in (merged, b, c)}
    join = {"none": 0, "the first two": postings[merged] + postings[b], "all": sum(postings.values())}[joined]
    monkeypatch.setattr(lexical, "JOIN_POSTINGS", join)
    index = LexicalIndex([merged, b, c], deleted)
    assert len(index.segments) == {"none": 3, "the first two": 2, "all": 1}[joined]
    assert index.segments[0].bounds is not None and (joined == "all" or index.segments[-1].bounds is None)
    texts = passages[: 2 * third] + [(title.upper(), text) for title, text in passages[2 * third :]]
    held = {pid: set(passage_tokens(*texts[pid])) for pid in ids if pid not in set(deleted.tolist())}
    pruned: list[tuple[int, int]] = []  # (candidates, kept) of each pruning step
    prune = index._prune

    def spy(rows: np.ndarray, partial: np.ndarray, common: list, k: int, known: float = 0.0) -> np.ndarray:
        kept = prune(rows, partial, common, k, known)
        pruned.append((len(rows), len(kept)))
        return kept

    score_candidates = lexical_topk.score_candidates

    def compiled_spy(top: lexical_topk.TopK, *args: object) -> None:
        before = top.kept
        score_candidates(top, *args)
        pruned.append((len(args[3]), top.kept - before))  # type: ignore[arg-type]

    monkeypatch.setattr(index, "_prune", spy)
    monkeypatch.setattr(lexical_topk, "score_candidates", compiled_spy)
    for q in range(200):
        title, text = passages[int(rng.integers(len(passages)))]
        words = text.split()
        start = int(rng.integers(len(words)))
        query = " ".join(words[start : start + int(rng.integers(1, 7))])
        query = fold(query) if q % 3 == 0 else f"{query} của năm {title.split()[0]}" if q % 3 == 1 else query
        tokens = query_tokens(query)
        for k in (1, 5, 40):
            allowed = None if q % 4 else set(rng.choice(ids, len(ids) // 3, replace=False).tolist())
            got, matches = index.query(tokens, k, None if allowed is None else np.asarray(sorted(allowed)))
            want, want_matches = expected_query(index, held, tokens, k, allowed)
            assert got == want, (query, k)
            assert matches.tolist() == want_matches, query
    assert any(kept < rows for rows, kept in pruned)  # the pruning path ran, not only "everything"


@pytest.mark.parametrize("where", ["on disk, in blocks", "joined in memory"])
def test_warm_up_counts_every_columns_live_postings_as_a_query_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, top_k_path: str, where: str
) -> None:
    """warm_up counts each column's live postings at once (compiled loops; a segment on disk read a block at a
    time, the blocks splitting columns here); every document frequency then equals the one counted column by
    column, as an index not warmed up counts it."""
    monkeypatch.setattr(lexical, "COUNT_POSTINGS", 37)
    monkeypatch.setattr(lexical, "JOIN_POSTINGS", 1 << 30 if where == "joined in memory" else 0)
    passages = corpus_passages()
    ids = list(range(len(passages)))
    half = len(passages) // 2
    a = segment(tmp_path, "a", ids[:half], passages[:half])
    b = segment(tmp_path, "b", ids[half:], passages[half:])
    deleted = np.asarray(ids[::7], dtype=np.int64)
    counted = LexicalIndex([a, b], deleted)
    warmed = LexicalIndex([a, b], deleted)
    assert len(warmed.segments) == (1 if where == "joined in memory" else 2)
    warmed.warm_up()
    assert len(warmed._live_columns) == len(warmed.segments) and counted.compiled == (top_k_path == "compiled")
    assert all(warmed.document_frequency(t) == counted.document_frequency(t) for t in counted.vocab)
    raw = {t: sum(int(np.diff(s.indptr)[s.vocab[t]]) for s in counted.segments if t in s.vocab) for t in counted.vocab}
    assert any(warmed.document_frequency(t) < raw[t] for t in raw)  # the deletions are counted out


def test_a_warmed_up_index_takes_the_compiled_loops_at_any_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, top_k_path: str
) -> None:
    """A server warms its index up: from then on its queries go through the compiled loops (which release the
    interpreter lock) however few passages it holds, with the same answers as numpy's pass."""
    passages = corpus_passages()
    built = segment(tmp_path, "a", list(range(len(passages))), passages)
    cold, warm = LexicalIndex([built]), LexicalIndex([built])
    warm.warm_up()
    assert warm.compiled and cold.compiled == (top_k_path == "compiled")
    compiled_calls: list[object] = []
    score_candidates = lexical_topk.score_candidates

    def counted(top: lexical_topk.TopK, *args: object) -> None:
        compiled_calls.append(top)
        score_candidates(top, *args)  # type: ignore[arg-type]

    for title, text in passages[::7]:
        tokens = query_tokens(f"{title} {text[:40]}")
        want, want_matches = cold.query(tokens, 10)
        with monkeypatch.context() as patch:
            patch.setattr(lexical_topk, "score_candidates", counted)
            got, matches = warm.query(tokens, 10)
        assert got == want and np.array_equal(matches, want_matches)
    assert len(compiled_calls) >= len(passages[::7]) // 2


def test_document_frequency_with_few_deletions_looks_them_up_and_counts_them_out(tmp_path: Path) -> None:
    """With few deleted passages a column's live postings are counted by looking the deletions up in it (not by
    visiting every posting); either way each token's document frequency is the live passages holding it."""
    passages = corpus_passages()
    ids = list(range(len(passages)))
    built = segment(tmp_path, "a", ids, passages)
    held = [set(passage_tokens(*p)) for p in passages]
    vocab = sorted(set().union(*held))
    common = max(vocab, key=lambda t: sum(t in h for h in held))
    deleted = [pid for pid in ids if common in held[pid]][:2]  # two deletions, both in the longest column
    index = LexicalIndex([built], np.asarray(deleted, dtype=np.int64))
    assert len(index._deleted_local[0]) * 32 < sum(common in h for h in held)  # the look-up branch
    for token in vocab:
        assert index.document_frequency(token) == sum(token in held[pid] for pid in ids if pid not in deleted), token
    assert index.document_frequency(common) == sum(common in h for h in held) - 2


def test_bounds_hold_under_any_version_mean(tmp_path: Path) -> None:
    """Each query token's bound is above every posting's score for it, whatever other segments and deletions
    make the version's mean length (stored bounds are at the segment's own mean; MaxScore needs this)."""
    passages = corpus_passages()
    short = segment(tmp_path, "short", list(range(50)), [("", text) for _, text in passages[:50]])
    long = segment(tmp_path, "long", list(range(50, 100)), [(t * 3, text * 2) for t, text in passages[50:100]])
    for segments, deleted in (([short], []), ([short, long], []), ([long, short], list(range(60, 100)))):
        index = LexicalIndex(segments, np.asarray(deleted, dtype=np.int64))
        assert all(s.bounds is not None and len(s.bounds) == len(s.indptr) - 1 for s in index.segments)
        tight = 0
        for token in index.vocab:
            (term,) = index._terms([token])
            scores = index.scores([token])
            assert scores.max() <= term.bound, token
            tight += scores.max() > 0.9 * term.bound
        if len(segments) == 1:  # at the segment's own mean the bound is the max: 1 would be valid, but loose
            assert tight == len(index.vocab)


def test_a_common_token_ranks_but_matches_nothing_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lucene's common-terms rule for what matches: "xã" is in most passages, so "quảng trị xã" matches what
    "quảng trị" matches (plus the best k, ranked exactly: a passage holding only "xã" may be among them); a
    query of common tokens only matches the passages holding all of them."""
    monkeypatch.setattr(lexical, "COMMON_MIN", 0)
    monkeypatch.setattr(lexical, "COMMON_FRACTION", 0.3)
    passages = [("", "Quảng Trị xã nhỏ"), ("", "Quảng Trị"), ("", "nhà xã"), ("", "xã xã"), ("", "nhà")]
    passages += [("", f"xã đoạn {i}") for i in range(5)]
    build_lexical(tmp_path, list(range(len(passages))), passages)
    index = LexicalIndex([tmp_path])
    assert index.document_frequency("w:xã") > 0.3 * index.n_docs
    tokens = query_tokens("Quảng Trị xã")
    top, matches = index.query(tokens, 2)
    assert matches.tolist() == [0, 1] and [pid for pid, _ in top] == [0, 1]
    assert top == index.top(index.scores(tokens), 2)
    top, matches = index.query(tokens, 10)  # every passage holding "xã" is among the best 10, so matches
    assert top == index.top(index.scores(tokens), 10) and matches.tolist() == [pid for pid in range(10) if pid != 4]
    top, matches = index.query(query_tokens("xã đoạn"), 1)  # both common: the passages holding both
    assert matches.tolist() == list(range(5, 10)) and len(top) == 1
