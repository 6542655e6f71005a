"""One contract for every vector index type: each is built small, then the same tests check it against exact
search (order and scores), filters, vectors_of, and reopening from disk.

Real FAISS on seeded, clustered unit vectors; speed is measured by `tracuu bench`, not here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import pytest

from indexer.format import ann

N, DIM, NQ, K = 3000, 64, 40, 10


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clustered vectors (like passages of articles), non-contiguous shuffled ids, queries near the data."""
    rng = np.random.default_rng(7)
    centers = rng.standard_normal((60, DIM))
    vectors = _unit(centers[rng.integers(0, 60, N)] + 0.6 * rng.standard_normal((N, DIM)))
    ids = rng.permutation(20 * N)[:N].astype(np.int64)
    queries = _unit(vectors[rng.choice(N, NQ, replace=False)] + 0.3 * rng.standard_normal((NQ, DIM)))
    return vectors, ids, queries


def exact(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int, allowed=None) -> np.ndarray:
    scores = queries @ vectors.T
    if allowed is not None:
        scores[:, ~np.isin(ids, allowed)] = -np.inf
    return ids[np.argsort(-scores, axis=1, kind="stable")[:, :k]]


def overlap(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f[f >= 0]) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


# ---------------------------------------------------------------------------------------------- implementations


def _write(kind: str) -> Callable[[Path, np.ndarray, np.ndarray], None]:
    def write(path: Path, vectors: np.ndarray, ids: np.ndarray) -> None:
        assert ann.write_vector_index(path, vectors, ids, kind=kind) == kind

    return write


def _write_fp16_graph(path: Path, vectors: np.ndarray, ids: np.ndarray) -> None:
    """A graph version as written before 8-bit codes: HNSW32,SQfp16."""
    ann.write_vector_index(path, vectors, ids, kind=ann.HNSW)
    legacy = faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_fp16, ann.HNSW_M, faiss.METRIC_INNER_PRODUCT)
    legacy.add(np.ascontiguousarray(vectors[np.argsort(ids)]))
    faiss.write_index(legacy, str(path / ann.INDEX_FILE))
    meta = json.loads((path / ann.ANN_FILE).read_text())
    (path / ann.ANN_FILE).write_text(json.dumps({**meta, "type": ann.HNSW_FP16}))


def _write_before_ann_json(path: Path, vectors: np.ndarray, ids: np.ndarray) -> None:
    """A version written before ann.json: rows in any id order, an IndexIDMap2 file (not read)."""
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
    flat.add_with_ids(vectors, ids)
    faiss.write_index(flat, str(path / ann.INDEX_FILE))
    np.save(path / ann.VECTORS_FILE, vectors)
    np.save(path / ann.IDS_FILE, ids)


@dataclass(frozen=True)
class Impl:
    name: str
    write: Callable[[Path, np.ndarray, np.ndarray], None]
    cls: type
    index_type: str
    exact: bool  # answers exactly what exact search answers


IMPLEMENTATIONS = [
    Impl("flat", _write(ann.FLAT), ann.FlatIndex, ann.FLAT, exact=True),
    Impl("hnsw-sq8", _write(ann.HNSW), ann.HnswIndex, ann.HNSW, exact=False),
    Impl("hnsw-sqfp16", _write_fp16_graph, ann.HnswIndex, ann.HNSW_FP16, exact=False),
    Impl("flat-before-ann-json", _write_before_ann_json, ann.FlatIndex, ann.FLAT, exact=True),
]


@pytest.fixture(scope="module", params=IMPLEMENTATIONS, ids=[i.name for i in IMPLEMENTATIONS])
def built(request, data, tmp_path_factory) -> tuple[Impl, Path]:
    impl: Impl = request.param
    vectors, ids, _ = data
    version_dir = tmp_path_factory.mktemp(impl.name)
    impl.write(version_dir, vectors, ids)
    return impl, version_dir


def assert_matches_exact(impl: Impl, found: np.ndarray, truth: np.ndarray) -> None:
    if impl.exact:
        np.testing.assert_array_equal(found, truth)
    else:
        assert overlap(found, truth) >= 0.9


# ---------------------------------------------------------------------------------------------- the contract


def test_opens_as_its_class_behind_the_protocol(built) -> None:
    impl, version_dir = built
    index = ann.open_vector_index(version_dir)
    assert type(index) is impl.cls and isinstance(index, ann.VectorIndex)
    assert (index.ntotal, index.dim, index.index_type) == (N, DIM, impl.index_type)


def test_top_results_and_scores_match_exact_search(built, data) -> None:
    impl, version_dir = built
    vectors, ids, queries = data
    index = ann.open_vector_index(version_dir)
    scores, found = index.search(queries, K)
    assert found.shape == scores.shape == (NQ, K) and found.dtype == np.int64 and scores.dtype == np.float32
    assert_matches_exact(impl, found, exact(vectors, ids, queries, K))
    # Scores are exact cosines of the returned passages, best first.
    by_id = dict(zip(ids.tolist(), range(N), strict=True))
    for q, row_scores, row_ids in zip(queries, scores, found, strict=True):
        np.testing.assert_allclose(row_scores, vectors[[by_id[int(i)] for i in row_ids]] @ q, rtol=0, atol=1e-5)
        assert np.all(np.diff(row_scores) <= 1e-7)
    single_scores, single = index.search(queries[0], K)  # one query as a 1-d vector
    np.testing.assert_array_equal(single[0], found[0])
    np.testing.assert_array_equal(single_scores[0], scores[0])


@pytest.mark.parametrize("share", [0.005, 0.05, 0.5])
@pytest.mark.parametrize("path", ["auto", "graph"])
def test_filters_are_respected_and_lose_nothing(built, data, share, path, monkeypatch) -> None:
    """Allowed ids only; the hits exact search finds within them, down to a handful of allowed ids."""
    impl, version_dir = built
    vectors, ids, queries = data
    if path == "graph":  # no exact scan of the allowed rows: the id selector inside the HNSW search
        monkeypatch.setattr(ann, "SCAN_MAX_SHARE", 0.0)
    rng = np.random.default_rng(int(share * 1000))
    allowed = rng.choice(ids, max(1, int(share * N)), replace=False)
    index = ann.open_vector_index(version_dir)
    _, found = index.search(queries, K, allowed=allowed)
    assert set(found[found >= 0].tolist()) <= set(allowed.tolist())
    truth = exact(vectors, ids, queries, min(K, len(allowed)), allowed)
    assert_matches_exact(impl, found[:, : truth.shape[1]], truth)
    if len(allowed) < K:
        assert np.all(found[:, len(allowed) :] == -1)


def test_unknown_and_empty_allowed_ids_and_k_over_n(built, data) -> None:
    _, version_dir = built
    _, ids, queries = data
    index = ann.open_vector_index(version_dir)
    missing = np.setdiff1d(np.arange(20 * N), ids)[:50]
    scores, found = index.search(queries[:3], K, allowed=np.concatenate([missing, ids[:2]]))
    assert set(found[found >= 0].tolist()) == set(ids[:2].tolist())
    scores, found = index.search(queries[:3], K, allowed=np.zeros(0, dtype=np.int64))
    assert np.all(found == -1) and np.all(np.isneginf(scores))
    _, found = index.search(queries[:1], N + 5)
    assert sorted(found[0][:N].tolist()) == sorted(ids.tolist()) and np.all(found[0][N:] == -1)
    scores, found = index.search(queries[:2], 0)
    assert found.shape == scores.shape == (2, 0)


def test_vectors_of_returns_the_stored_rows_of_indexed_ids(built, data) -> None:
    _, version_dir = built
    vectors, ids, _ = data
    index = ann.open_vector_index(version_dir)
    missing = np.setdiff1d(np.arange(20 * N), ids)[:3]
    asked = np.concatenate([ids[[17, 3, 2999]], missing])
    found, matrix = index.vectors_of(asked)
    assert found.tolist() == sorted(ids[[17, 3, 2999]].tolist())
    position = {int(i): n for n, i in enumerate(ids)}
    np.testing.assert_array_equal(matrix, vectors[[position[int(i)] for i in found]])
    assert matrix.dtype == np.float32
    found, matrix = index.vectors_of(missing)
    assert len(found) == 0 and matrix.shape == (0, DIM)


def test_reopened_from_disk_it_answers_the_same_from_many_threads(built, data) -> None:
    _, version_dir = built
    vectors, _, queries = data
    first = ann.open_vector_index(version_dir)
    expected = first.search(queries, K)
    first.close()
    first.close()  # closing twice is harmless
    index = ann.open_vector_index(version_dir)
    results: list[tuple[np.ndarray, np.ndarray]] = []
    threads = [threading.Thread(target=lambda: results.append(index.search(queries, K))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for scores, found in results:
        np.testing.assert_array_equal(found, expected[1])
        np.testing.assert_array_equal(scores, expected[0])


# ---------------------------------------------------------------------------------------------- writing


def test_written_files_hold_the_vectors_in_id_order(data, tmp_path: Path) -> None:
    vectors, ids, _ = data
    for kind in ann.INDEX_TYPES:
        version_dir = tmp_path / kind.replace(",", "_")
        version_dir.mkdir()
        ann.write_vector_index(version_dir, vectors, ids, kind=kind)
        meta = json.loads((version_dir / ann.ANN_FILE).read_text())
        assert (meta["type"], meta["count"], meta["dim"], meta["metric"]) == (kind, N, DIM, "inner_product")
        stored, stored_ids = ann.load_vectors(version_dir)
        assert isinstance(stored, np.memmap)  # mapped, not read into memory
        assert np.all(np.diff(stored_ids) > 0) and set(stored_ids.tolist()) == set(ids.tolist())
        by_id = dict(zip(ids.tolist(), range(N), strict=True))
        np.testing.assert_array_equal(stored, vectors[[by_id[int(i)] for i in stored_ids]])
        assert (version_dir / ann.INDEX_FILE).exists() == (kind != ann.FLAT)


def test_index_type_by_size_and_empty_index(tmp_path: Path) -> None:
    assert ann.choose_index_type(0) == ann.FLAT
    assert ann.choose_index_type(ann.FLAT_MAX_PASSAGES) == ann.FLAT
    assert ann.choose_index_type(ann.FLAT_MAX_PASSAGES + 1) == ann.HNSW
    assert ann.choose_index_type(1_000_000) == ann.HNSW
    empty = np.zeros((0, DIM), dtype=np.float32)
    assert ann.write_vector_index(tmp_path, empty, np.zeros(0, dtype=np.int64)) == ann.FLAT
    index = ann.open_vector_index(tmp_path)
    scores, found = index.search(np.ones((1, DIM), dtype=np.float32), 5)
    assert index.ntotal == 0 and np.all(found == -1)
    assert np.all(index.search(np.ones((1, DIM), dtype=np.float32), 5, allowed=np.array([1, 2]))[1] == -1)
    with pytest.raises(ValueError, match="duplicate"):
        ann.write_vector_index(tmp_path, np.ones((2, DIM), dtype=np.float32), np.array([3, 3]))
    with pytest.raises(ValueError, match="unknown index type"):
        ann.write_vector_index(tmp_path, np.ones((2, DIM), dtype=np.float32), np.array([1, 2]), kind="IVF")
    (tmp_path / ann.ANN_FILE).write_text(json.dumps({"type": "IVF4096,PQ8"}))
    with pytest.raises(ValueError, match="unknown index type 'IVF4096,PQ8'"):
        ann.open_vector_index(tmp_path)


def test_row_file_reads_the_rows_asked_for(tmp_path: Path) -> None:
    matrix = _unit(np.random.default_rng(3).standard_normal((50, 16)))
    np.save(tmp_path / "v.npy", matrix)
    rows = np.array([49, 0, 7, 7, 31])
    row_file = ann.RowFile(tmp_path / "v.npy")
    np.testing.assert_array_equal(row_file.read(rows), matrix[rows])
    row_file.close()
    with pytest.raises(ValueError, match="closed"):
        row_file.read(rows)
    np.save(tmp_path / "f64.npy", matrix.astype(np.float64))
    with pytest.raises(ValueError, match="float32"):
        ann.RowFile(tmp_path / "f64.npy")


@pytest.mark.parametrize("kind", [ann.FLAT, ann.HNSW])
def test_segments_with_deletions_answer_as_one_index_of_the_live_rows(tmp_path: Path, kind: str) -> None:
    """Searching segments merges their k best; deleted ids never come back, also when they were the nearest
    (more of them than the deeper unfiltered search reaches: the filtered search takes over), with filters."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((3000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(3000, dtype=np.int64) * 3
    bounds = [0, 2400, 2800, 3000]
    segments = []
    for n, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        segments.append(tmp_path / f"seg-{n}")
        segments[-1].mkdir()
        ann.write_vector_index(segments[-1], vectors[lo:hi], ids[lo:hi], kind=kind if n == 0 else ann.FLAT)
    query = vectors[5] + 0.01
    nearest = ids[np.argsort(-(vectors @ query), kind="stable")]
    deleted = np.sort(nearest[: ann.PAST_DELETED + 20])  # the nearest rows of every segment are deleted
    index = ann.SegmentedVectorIndex(segments, deleted)
    assert index.ntotal == 3000 - len(deleted)
    live = ~np.isin(ids, deleted)
    for allowed in (None, ids[::2]):
        rows = live if allowed is None else live & np.isin(ids, allowed)
        exact = ids[rows][np.argsort(-(vectors[rows] @ query), kind="stable")][:10]
        found = index.search(query, 10, allowed=allowed)[1][0]
        assert not np.isin(found, deleted).any()
        if kind == ann.FLAT:
            assert found.tolist() == exact.tolist()
        else:
            assert len(set(found) & set(exact)) >= 9
    # ids of every segment (each segment's first and last), deleted ones, and ids no segment holds (1, past the end)
    edges = ids[[0, 2399, 2400, 2799, 2800, 2999]]
    found_ids, matrix = index.vectors_of(np.concatenate([deleted[:3], edges, [1, ids[-1] + 3]]))
    wanted = np.sort(edges[~np.isin(edges, deleted)])
    assert found_ids.tolist() == wanted.tolist()
    assert np.array_equal(matrix, vectors[np.searchsorted(ids, wanted)])


def test_the_centroid_counts_every_segment_less_its_deleted_passages(tmp_path: Path) -> None:
    """The relevance floor's centroid (retrieval/floor.py): the mean of the live vectors across segments, from the
    sums ann.json records, or from vectors.npy for a segment written before it recorded them."""
    rng = np.random.default_rng(7)
    vectors = _unit(rng.standard_normal((300, 16)).astype(np.float32))
    parts = [(tmp_path / "a", np.arange(0, 200)), (tmp_path / "b", np.arange(200, 300))]
    for directory, ids in parts:
        directory.mkdir()
        ann.write_vector_index(directory, vectors[ids], ids)
    deleted = np.array([3, 150, 250], dtype=np.int64)
    live = np.setdiff1d(np.arange(300), deleted)
    index = ann.SegmentedVectorIndex([d for d, _ in parts], deleted)
    np.testing.assert_allclose(index.centroid, vectors[live].mean(axis=0), atol=1e-6)
    meta_path = tmp_path / "b" / ann.ANN_FILE
    meta = json.loads(meta_path.read_text("utf-8"))
    del meta["vector_sum"]
    meta_path.write_text(json.dumps(meta), "utf-8")
    older = ann.SegmentedVectorIndex([d for d, _ in parts], deleted)
    np.testing.assert_allclose(older.centroid, vectors[live].mean(axis=0), atol=1e-6)
