"""Each index type against exact search on a small set: same top results, filters kept, save/load round trip.

Real FAISS on seeded, clustered unit vectors; speed is measured by `tracuu bench`, not here.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import faiss
import numpy as np
import pytest

from indexer import ann

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


@pytest.fixture(scope="module", params=ann.INDEX_TYPES)
def built(request, data, tmp_path_factory) -> tuple[str, Path]:
    vectors, ids, _ = data
    version_dir = tmp_path_factory.mktemp(request.param.replace(",", "_"))
    assert ann.save(version_dir, vectors, ids, kind=request.param) == request.param
    return request.param, version_dir


def test_top_results_match_exact_search(built, data) -> None:
    kind, version_dir = built
    vectors, ids, queries = data
    index = ann.load_index(version_dir)
    assert (index.ntotal, index.dim, index.index_type) == (N, DIM, kind)
    scores, found = index.search(queries, K)
    assert found.shape == scores.shape == (NQ, K)
    assert overlap(found, exact(vectors, ids, queries, K)) >= 0.9
    # Scores are exact cosines of the returned passages, best first.
    by_id = dict(zip(ids.tolist(), range(N), strict=True))
    for q, row_scores, row_ids in zip(queries, scores, found, strict=True):
        np.testing.assert_allclose(row_scores, vectors[[by_id[int(i)] for i in row_ids]] @ q, rtol=0, atol=1e-5)
        assert np.all(np.diff(row_scores) <= 1e-7)


@pytest.mark.parametrize("share", [0.005, 0.05, 0.5])
@pytest.mark.parametrize("path", ["auto", "graph"])
def test_filters_are_respected_and_lose_nothing(built, data, share, path, monkeypatch) -> None:
    """Allowed ids only; same hits as exact search within them, down to a handful of allowed ids."""
    kind, version_dir = built
    vectors, ids, queries = data
    if path == "graph":  # no exact scan of the allowed rows: the id selector inside the HNSW search
        monkeypatch.setattr(ann, "SCAN_MAX_SHARE", 0.0)
    rng = np.random.default_rng(int(share * 1000))
    allowed = rng.choice(ids, max(1, int(share * N)), replace=False)
    index = ann.load_index(version_dir)
    _, found = index.search(queries, K, allowed=allowed)
    assert set(found[found >= 0].tolist()) <= set(allowed.tolist())
    truth = exact(vectors, ids, queries, min(K, len(allowed)), allowed)
    assert overlap(found[:, : truth.shape[1]], truth) >= 0.9
    if len(allowed) < K:
        assert np.all(found[:, len(allowed) :] == -1)


def test_unknown_and_empty_allowed_ids(built, data) -> None:
    _, version_dir = built
    vectors, ids, queries = data
    index = ann.load_index(version_dir)
    missing = np.setdiff1d(np.arange(20 * N), ids)[:50]
    scores, found = index.search(queries[:3], K, allowed=np.concatenate([missing, ids[:2]]))
    assert set(found[found >= 0].tolist()) == set(ids[:2].tolist())
    scores, found = index.search(queries[:3], K, allowed=np.zeros(0, dtype=np.int64))
    assert np.all(found == -1) and np.all(np.isneginf(scores))
    _, found = index.search(queries[:1], N + 5)
    assert sorted(found[0][:N].tolist()) == sorted(ids.tolist()) and np.all(found[0][N:] == -1)


def test_vectors_of_returns_the_stored_rows_of_indexed_ids(built, data) -> None:
    _, version_dir = built
    vectors, ids, _ = data
    index = ann.load_index(version_dir)
    missing = np.setdiff1d(np.arange(20 * N), ids)[:3]
    asked = np.concatenate([ids[[17, 3, 2999]], missing])
    found, matrix = index.vectors_of(asked)
    assert found.tolist() == sorted(ids[[17, 3, 2999]].tolist())
    position = {int(i): n for n, i in enumerate(ids)}
    np.testing.assert_array_equal(matrix, vectors[[position[int(i)] for i in found]])
    assert matrix.dtype == np.float32


def test_save_load_round_trip(built, data) -> None:
    kind, version_dir = built
    vectors, ids, _ = data
    meta = json.loads((version_dir / ann.ANN_FILE).read_text())
    assert (meta["type"], meta["count"], meta["dim"]) == (kind, N, DIM)
    stored, stored_ids = ann.load_vectors(version_dir)
    assert isinstance(stored, np.memmap)  # mapped, not read into memory
    assert np.all(np.diff(stored_ids) > 0) and set(stored_ids.tolist()) == set(ids.tolist())
    by_id = dict(zip(ids.tolist(), range(N), strict=True))
    np.testing.assert_array_equal(stored, vectors[[by_id[int(i)] for i in stored_ids]])
    assert (version_dir / ann.INDEX_FILE).exists() == (kind != ann.FLAT)
    # Searching the reloaded index twice, and from several threads at once, gives the same answers.
    index = ann.load_index(version_dir)
    queries = vectors[:8]
    expected = index.search(queries, K)[1]
    results: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: results.append(index.search(queries, K)[1])) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(r, expected) for r in results)
    assert all(expected[i][0] == stored_ids[np.argmax(stored @ queries[i])] for i in range(8))


def test_versions_without_ann_json_are_searched_exactly(data, tmp_path: Path) -> None:
    """An index written before ann.json (ids in any order, IndexIDMap2 file) still loads and searches."""
    vectors, ids, queries = data
    faiss.write_index(ann.build_index(vectors, ids), str(tmp_path / ann.INDEX_FILE))
    np.save(tmp_path / ann.VECTORS_FILE, vectors)
    np.save(tmp_path / ann.IDS_FILE, ids)
    index = ann.load_index(tmp_path)
    assert index.index_type == ann.FLAT
    _, found = index.search(queries, K)
    np.testing.assert_array_equal(found, exact(vectors, ids, queries, K))
    allowed = ids[::7]
    _, found = index.search(queries, K, allowed=allowed)
    np.testing.assert_array_equal(found, exact(vectors, ids, queries, K, allowed))


def test_versions_with_fp16_codes_are_still_searched(data, tmp_path: Path) -> None:
    """A graph version written before 8-bit codes (HNSW32,SQfp16) loads and finds what exact search finds."""
    vectors, ids, queries = data
    ann.save(tmp_path, vectors, ids, kind=ann.HNSW)
    order = np.argsort(ids)
    legacy = faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_fp16, ann.HNSW_M, faiss.METRIC_INNER_PRODUCT)
    legacy.add(np.ascontiguousarray(vectors[order]))
    faiss.write_index(legacy, str(tmp_path / ann.INDEX_FILE))
    meta = json.loads((tmp_path / ann.ANN_FILE).read_text())
    (tmp_path / ann.ANN_FILE).write_text(json.dumps({**meta, "type": ann.HNSW_FP16}))
    index = ann.load_index(tmp_path)
    assert index.index_type == ann.HNSW_FP16
    assert overlap(index.search(queries, K)[1], exact(vectors, ids, queries, K)) >= 0.9


def test_index_type_by_size_and_empty_index(tmp_path: Path) -> None:
    assert ann.choose_index_type(0) == ann.FLAT
    assert ann.choose_index_type(ann.FLAT_MAX_PASSAGES) == ann.FLAT
    assert ann.choose_index_type(ann.FLAT_MAX_PASSAGES + 1) == ann.HNSW
    assert ann.choose_index_type(1_000_000) == ann.HNSW
    assert ann.save(tmp_path, np.zeros((0, DIM), dtype=np.float32), np.zeros(0, dtype=np.int64)) == ann.FLAT
    index = ann.load_index(tmp_path)
    scores, found = index.search(np.ones((1, DIM), dtype=np.float32), 5)
    assert index.ntotal == 0 and np.all(found == -1)
    assert np.all(index.search(np.ones((1, DIM), dtype=np.float32), 5, allowed=np.array([1, 2]))[1] == -1)
    with pytest.raises(ValueError, match="duplicate"):
        ann.save(tmp_path, np.ones((2, DIM), dtype=np.float32), np.array([3, 3]))
    with pytest.raises(ValueError, match="unknown index type"):
        ann.save(tmp_path, np.ones((2, DIM), dtype=np.float32), np.array([1, 2]), kind="IVF")


def test_row_file_reads_the_rows_asked_for(tmp_path: Path) -> None:
    matrix = _unit(np.random.default_rng(3).standard_normal((50, 16)))
    np.save(tmp_path / "v.npy", matrix)
    rows = np.array([49, 0, 7, 7, 31])
    np.testing.assert_array_equal(ann.RowFile(tmp_path / "v.npy").read(rows), matrix[rows])
    np.save(tmp_path / "f64.npy", matrix.astype(np.float64))
    with pytest.raises(ValueError, match="float32"):
        ann.RowFile(tmp_path / "f64.npy")
