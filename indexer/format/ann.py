"""The vector side of a version: vectors in, a searchable inner-product index out (docs/format.md).

Vectors are L2-normalised, so inner product is cosine similarity. A version directory holds

    vectors.npy   float32 (n, dim), rows in ascending passage-id order
    ids.npy       int64 (n,), the passage id of each row (stable ids from the store)
    index.faiss   graph indexes only: FAISS HNSW over rows 0..n-1 (labels are rows, mapped to ids by ids.npy)
    ann.json      the index type and the parameters it is searched with, and the sum of the vectors
                  (`vector_sum`: the index's centroid, which the relevance floor compares a query's best
                  score with, retrieval/floor.py)

One class per index type reads (and writes) its files; `open_vector_index` picks it from ann.json and
the searcher sees only the `VectorIndex` protocol. The type written is chosen by size
(`choose_index_type`, measured by `tracuu bench`, see docs/performance.md):

- ``Flat`` (`FlatIndex`): exact inner product over the memory-mapped vectors, while a full scan is fast
  enough (up to FLAT_MAX_PASSAGES);
- ``HNSW32,SQ8`` (`HnswIndex`): an HNSW graph (M=32, built with float32 distances) over 8-bit codes of
  the vectors (one byte a dimension, scaled per dimension), searched with efSearch=EF_SEARCH; its best
  RESCORE_DEPTH candidates are re-scored exactly from vectors.npy, so scores are true cosines and the
  codes' rounding does not decide the final order. The graph and the codes are memory-mapped
  (IO_FLAG_MMAP_IFC): loading is instant and server workers share one copy through the page cache. The
  rows to re-score are read with pread (`RowFile`), not through a memory map. Versions written with fp16
  codes (``HNSW32,SQfp16``) are searched by the same class.

Filters arrive as the allowed passage ids and are applied inside the search (pre-filtering), never by
over-fetching. A bitmap id selector over rows serves both graph paths: when the filter leaves under
SCAN_MAX_SHARE of the rows, the codes of just those rows are scanned exactly (cost in proportion to the
rows allowed); otherwise the graph is searched with the selector and efSearch widened by the inverse of
the share allowed, so as many eligible nodes are visited as without a filter.
"""

from __future__ import annotations

import functools
import json
import math
import os
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import faiss
import numpy as np

INDEX_FILE = "index.faiss"
VECTORS_FILE = "vectors.npy"
IDS_FILE = "ids.npy"
ANN_FILE = "ann.json"

FLAT = "Flat"
HNSW = "HNSW32,SQ8"
HNSW_FP16 = "HNSW32,SQfp16"  # written by earlier versions; still searched
INDEX_TYPES = (FLAT, HNSW)  # the types written
# Below this a full scan is as fast as the graph (it is memory bound and grows with the rows; the graph
# does not): docs/performance.md.
FLAT_MAX_PASSAGES = 20_000
HNSW_M = 32
# A better-built graph reaches the same recall with a smaller efSearch, for about twice the build time;
# the trade-off at 1M passages is in docs/performance.md.
EF_CONSTRUCTION = 100
EF_SEARCH = 448
EF_SEARCH_MAX = 4096
SCAN_MAX_SHARE = 0.15  # below this share of rows allowed, scanning them beats the widened graph search
SCAN_DEPTH = 4  # the code scan keeps SCAN_DEPTH * k candidates for exact re-scoring
# Graph candidates re-scored exactly, at least: at 1M passages, 8-bit codes with the best 40 re-scored
# found the same top 10 as fp16 codes (recall@10 0.9605 both) in a graph file of 656 MB instead of 1,040.
RESCORE_DEPTH = 40
TRAIN_SAMPLE = 100_000  # vectors the 8-bit quantiser learns each dimension's range from
ADD_BATCH = 65_536


@runtime_checkable
class VectorIndex(Protocol):
    """A version's vectors as the searcher uses them, whatever the index type; safe to search from many threads."""

    index_type: str
    ntotal: int  # vectors (passages) in the index
    dim: int

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, passage ids), each (nq, k), best first; -1 ids pad when fewer rows qualify.

        `allowed` restricts the hits to those passage ids (unknown ids are ignored).
        """
        ...

    def vectors_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(passage ids found, their float32 vectors), in ascending id order; ids not indexed are dropped."""
        ...

    def close(self) -> None:
        """Release open files now rather than at garbage collection (never while a search runs)."""
        ...


# ---------------------------------------------------------------------------------------------- writing


def choose_index_type(n: int) -> str:
    """The index type for `n` passages."""
    return FLAT if n <= FLAT_MAX_PASSAGES else HNSW


def write_vector_index(version_dir: Path, vectors: np.ndarray, ids: np.ndarray, kind: str | None = None) -> str:
    """Write vectors (sorted by id), ids, the index for their size and ann.json; returns the index type."""
    ids = np.asarray(ids, dtype=np.int64)
    n = len(ids)
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    kind = kind or choose_index_type(n)
    if kind not in INDEX_TYPES:
        raise ValueError(f"unknown index type {kind!r} (known: {', '.join(INDEX_TYPES)})")
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    if n > 1 and not np.all(sorted_ids[1:] > sorted_ids[:-1]):
        raise ValueError("duplicate passage ids")
    total = np.zeros(dim, dtype=np.float64)
    if n == 0:
        np.save(version_dir / VECTORS_FILE, np.zeros((0, dim), dtype=np.float32))
        out = np.zeros((0, dim), dtype=np.float32)
    else:  # written in blocks through a memory map: no second full copy in memory at 1M passages
        out = np.lib.format.open_memmap(version_dir / VECTORS_FILE, mode="w+", dtype=np.float32, shape=(n, dim))
        for start in range(0, n, ADD_BATCH):
            block = vectors[order[start : start + ADD_BATCH]]
            out[start : start + ADD_BATCH] = block
            total += block.sum(axis=0, dtype=np.float64)
        out.flush()
    np.save(version_dir / IDS_FILE, sorted_ids)
    params: dict[str, Any] = {"type": kind, "metric": "inner_product", "count": n, "dim": dim}
    params["vector_sum"] = [round(float(x), 6) for x in total]
    params.update(_READERS[kind].write(version_dir, out))
    del out
    (version_dir / ANN_FILE).write_text(json.dumps(params, indent=2) + "\n", encoding="utf-8")
    return kind


def vector_sum(version_dir: Path) -> np.ndarray:
    """The sum of a version's (or segment's) vectors: from ann.json, or summed from vectors.npy for one
    written before ann.json recorded it."""
    meta_path = version_dir / ANN_FILE
    recorded = json.loads(meta_path.read_text("utf-8")).get("vector_sum") if meta_path.is_file() else None
    if recorded is not None:
        return np.asarray(recorded, dtype=np.float64)
    vectors = np.load(version_dir / VECTORS_FILE, mmap_mode="r")
    total = np.zeros(vectors.shape[1] if vectors.ndim == 2 else 0, dtype=np.float64)
    for start in range(0, len(vectors), ADD_BATCH):
        total += np.asarray(vectors[start : start + ADD_BATCH]).sum(axis=0, dtype=np.float64)
    return total


def load_vectors(version_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Memory-mapped vectors and their ids, for re-use by the next indexing run."""
    vectors = np.load(version_dir / VECTORS_FILE, mmap_mode="r")
    ids = np.load(version_dir / IDS_FILE)
    return vectors, ids


# ---------------------------------------------------------------------------------------------- reading


def open_vector_index(version_dir: Path) -> VectorIndex:
    """The vector index of a version, of the class its ann.json names."""
    meta_path = version_dir / ANN_FILE
    # Versions written before ann.json existed are exact search over vectors.npy in any id order.
    meta: dict[str, Any] = json.loads(meta_path.read_text("utf-8")) if meta_path.is_file() else {"type": FLAT}
    reader = _READERS.get(meta["type"])
    if reader is None:
        raise ValueError(f"{version_dir}: unknown index type {meta['type']!r}")
    return reader(version_dir, meta)


PAST_DELETED = 64  # extra depth an unfiltered search of a segment with deletions asks for (see below)


class SegmentedVectorIndex:
    """The vector indexes of a version's segments searched as one (the `VectorIndex` protocol).

    Each segment is searched for the k best (its deleted passages filtered inside the search, as filters are)
    and the lists are merged by score. Scores are exact cosines in every index type, so the merged top k is
    the one a single index over the live passages gives (identical for exact segments).
    """

    def __init__(self, segment_dirs: Sequence[Path], deleted: np.ndarray | None = None) -> None:
        self.segment_dirs = list(segment_dirs)
        self.parts = [open_vector_index(d) for d in segment_dirs]
        deleted = np.zeros(0, dtype=np.int64) if deleted is None else np.asarray(deleted, dtype=np.int64)
        self.gone: list[np.ndarray] = []  # per segment: its deleted passage ids (sorted; few until a merge)
        self.live: list[np.ndarray | None] = []  # per segment: its live ids when some were deleted, else None
        # per segment: its smallest and largest passage id, so that a lookup by id skips the segments it cannot hit
        self.spans = [(int(p.ids.min()), int(p.ids.max())) if p.ntotal else (0, -1) for p in self.parts]
        for part in self.parts:
            gone = np.intersect1d(part.ids, deleted) if len(deleted) else deleted
            self.gone.append(gone)
            self.live.append(np.setdiff1d(part.ids, gone) if len(gone) else None)
        self.ntotal = sum(
            p.ntotal if live is None else len(live) for p, live in zip(self.parts, self.live, strict=True)
        )
        self.dim = next((p.dim for p in self.parts if p.ntotal), self.parts[0].dim if self.parts else 0)
        types = sorted({p.index_type for p in self.parts if p.ntotal})
        self.index_type = types[0] if len(types) == 1 else "+".join(types) if types else FLAT

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        found: list[tuple[np.ndarray, np.ndarray]] = []
        for part, live, gone in zip(self.parts, self.live, self.gone, strict=True):
            if allowed is None and len(gone):  # a few deleted passages: search past them, filter only if needed
                found.append(self._search_past_deleted(part, live, gone, queries, k))
                continue
            # unknown ids in a filter are ignored by the segment: only its deleted ones need leaving out
            within = allowed if allowed is None or not len(gone) else allowed[~np.isin(allowed, gone)]
            if part.ntotal == 0 or (within is not None and len(within) == 0):
                continue
            depth = min(k, part.ntotal if within is None else len(within))
            found.append(part.search(queries, depth, allowed=within))
        scores = np.full((queries.shape[0], k), -np.inf, dtype=np.float32)
        labels = np.full((queries.shape[0], k), -1, dtype=np.int64)
        if k <= 0 or not found:
            return scores, labels
        all_scores = np.concatenate([s for s, _ in found], axis=1)
        all_ids = np.concatenate([i for _, i in found], axis=1)
        for qi in range(queries.shape[0]):
            valid = all_ids[qi] >= 0
            s, i = all_scores[qi][valid], all_ids[qi][valid]
            order = np.lexsort((i, -s))[:k]
            scores[qi, : len(order)] = s[order]
            labels[qi, : len(order)] = i[order]
        return scores, labels

    @staticmethod
    def _search_past_deleted(
        part: VectorIndex, live: np.ndarray | None, gone: np.ndarray, queries: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k best live rows of a segment with deletions: an unfiltered search a little deeper, the deleted
        dropped; a query left with fewer than k is searched again with the live ids as a filter. With few
        deletions this skips the filter's cost (a bitmap over every row) for almost every query."""
        depth = min(k, len(live) if live is not None else part.ntotal)
        scores, ids = part.search(queries, min(part.ntotal, depth + min(len(gone), PAST_DELETED)))
        out_scores = np.full((len(queries), depth), -np.inf, dtype=np.float32)
        out_ids = np.full((len(queries), depth), -1, dtype=np.int64)
        for qi in range(len(queries)):
            keep = (ids[qi] >= 0) & ~np.isin(ids[qi], gone)
            if np.count_nonzero(keep) < depth:
                again_scores, again_ids = part.search(queries[qi : qi + 1], depth, allowed=live)
                out_scores[qi], out_ids[qi] = again_scores[0], again_ids[0]
            else:
                out_scores[qi], out_ids[qi] = scores[qi][keep][:depth], ids[qi][keep][:depth]
        return out_scores, out_ids

    @functools.cached_property
    def centroid(self) -> np.ndarray:
        """The mean of the live vectors (float32; zeros when there are none): each segment's recorded sum,
        less its deleted passages' vectors."""
        total = np.zeros(self.dim, dtype=np.float64)
        for directory, part, gone in zip(self.segment_dirs, self.parts, self.gone, strict=True):
            if part.ntotal:
                total += vector_sum(directory)
            if len(gone):
                total -= part.vectors_of(gone)[1].sum(axis=0, dtype=np.float64)
        return (total / max(self.ntotal, 1)).astype(np.float32)

    def vectors_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(ids, dtype=np.int64)
        pairs = []
        for part, gone, (first, last) in zip(self.parts, self.gone, self.spans, strict=True):
            wanted = ids[(ids >= first) & (ids <= last)]  # an update's segment holds a range of new ids
            wanted = wanted if not len(gone) or not len(wanted) else wanted[~np.isin(wanted, gone)]
            if part.ntotal and len(wanted):
                pairs.append(part.vectors_of(wanted))
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        found = np.concatenate([f for f, _ in pairs])
        matrix = np.concatenate([m for _, m in pairs])
        order = np.argsort(found, kind="stable")
        return found[order], matrix[order]

    def close(self) -> None:
        for part in self.parts:
            part.close()


class _IdRows(ABC):
    """What every index type shares: rows mapped to passage ids, the per-query loop, per-thread scratch."""

    def __init__(self, version_dir: Path, meta: dict[str, Any]) -> None:
        self.index_type: str = meta["type"]
        self.ids = np.ascontiguousarray(np.load(version_dir / IDS_FILE), dtype=np.int64)
        self.ntotal = len(self.ids)
        ordered = self.ntotal < 2 or bool(np.all(self.ids[1:] > self.ids[:-1]))
        self._sorter = None if ordered else np.argsort(self.ids, kind="stable")
        self._local = threading.local()

    @classmethod
    @abstractmethod
    def write(cls, version_dir: Path, vectors: np.ndarray) -> dict[str, Any]:
        """Write this type's own files over `vectors` (already in vectors.npy); returns its ann.json parameters."""

    @abstractmethod
    def _search_one(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the best k rows for one query, within `rows` when given."""

    @abstractmethod
    def _read(self, rows: np.ndarray) -> np.ndarray:
        """The float32 vectors of `rows`, in that order."""

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        nq = queries.shape[0]
        scores = np.full((nq, k), -np.inf, dtype=np.float32)
        labels = np.full((nq, k), -1, dtype=np.int64)
        if k <= 0 or self.ntotal == 0:
            return scores, labels
        rows = None if allowed is None else self.rows_of(allowed)
        if rows is not None and len(rows) == 0:
            return scores, labels
        for qi in range(nq):
            s, r = self._search_one(queries[qi], k, rows)
            scores[qi, : len(r)] = s
            labels[qi, : len(r)] = self.ids[r]
        return scores, labels

    def vectors_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = self.rows_of(ids)
        if self._sorter is not None:  # rows of a version written before ann.json are in any id order
            rows = rows[np.argsort(self.ids[rows], kind="stable")]
        return self.ids[rows], self._read(rows)

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Ascending rows holding the given passage ids (ids not in the index are dropped)."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.ids, ids, sorter=self._sorter)
        pos = np.minimum(pos, self.ntotal - 1)
        rows = pos if self._sorter is None else self._sorter[pos]
        rows = rows[self.ids[rows] == ids]
        rows.sort()
        return rows

    @abstractmethod
    def close(self) -> None:
        """Release open files (see VectorIndex.close)."""

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: Any = np.float32) -> np.ndarray:
        """A per-thread scratch array, allocated once: no large allocation per request."""
        buf = getattr(self._local, name, None)
        if buf is None or buf.shape != shape:
            buf = np.empty(shape, dtype=dtype)
            setattr(self._local, name, buf)
        return buf


class FlatIndex(_IdRows):
    """``Flat``: exact inner product with every memory-mapped row."""

    def __init__(self, version_dir: Path, meta: dict[str, Any]) -> None:
        super().__init__(version_dir, meta)
        self.vectors = np.load(version_dir / VECTORS_FILE, mmap_mode="r")
        self.dim = int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0

    @classmethod
    def write(cls, version_dir: Path, vectors: np.ndarray) -> dict[str, Any]:
        return {}  # vectors.npy is the index

    def _search_one(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """One SIMD pass over all rows (no BLAS threads), then the best allowed."""
        scores = self._buffer("scores", (self.ntotal,))
        if not self.vectors.flags.c_contiguous:  # pragma: no cover - np.load always maps C order
            np.dot(self.vectors, query, out=scores)
        else:
            faiss.fvec_inner_products_ny(
                faiss.swig_ptr(scores), faiss.swig_ptr(query), faiss.swig_ptr(self.vectors), self.dim, self.ntotal
            )
        if rows is None:
            return _top_k(scores, np.arange(0), k, all_rows=True)
        return _top_k(scores[rows], rows, k)

    def _read(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.vectors[rows], dtype=np.float32)

    def close(self) -> None:
        pass  # the memory map is released with the object: closing it under a live view would crash


class HnswIndex(_IdRows):
    """``HNSW32,SQ8`` (and ``HNSW32,SQfp16``): graph candidates over scalar-quantised codes, re-scored exactly."""

    def __init__(self, version_dir: Path, meta: dict[str, Any]) -> None:
        super().__init__(version_dir, meta)
        self.ef_search = int(meta.get("ef_search", EF_SEARCH))
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
        self.graph = faiss.read_index(str(version_dir / INDEX_FILE), flags)
        self.codes = faiss.downcast_index(self.graph.storage)
        self.rows_file = RowFile(version_dir / VECTORS_FILE)
        self.dim = self.rows_file.dim

    @classmethod
    def write(cls, version_dir: Path, vectors: np.ndarray) -> dict[str, Any]:
        faiss.write_index(cls.build_graph(vectors), str(version_dir / INDEX_FILE))
        return {"m": HNSW_M, "ef_construction": EF_CONSTRUCTION, "ef_search": EF_SEARCH, "rescore": "exact"}

    @staticmethod
    def build_graph(vectors: np.ndarray) -> faiss.Index:
        """A graph index over the rows of `vectors` (labels are row numbers).

        The graph is built with float32 distances (faster and better links than building on the codes),
        then given 8-bit storage, a quarter of float32's memory; exact re-scoring keeps the recall.
        """
        n, dim = vectors.shape
        graph = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = EF_CONSTRUCTION
        for start in range(0, n, ADD_BATCH):
            graph.add(np.ascontiguousarray(vectors[start : start + ADD_BATCH], dtype=np.float32))
        index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw = graph.hnsw  # a copy of the graph, made before `graph` is freed
        sample = np.random.default_rng(0).choice(n, min(n, TRAIN_SAMPLE), replace=False)
        index.storage.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
        for start in range(0, n, ADD_BATCH):
            index.storage.add(np.ascontiguousarray(vectors[start : start + ADD_BATCH], dtype=np.float32))
        index.ntotal = n
        index.hnsw.efSearch = EF_SEARCH
        return index

    def close(self) -> None:
        self.rows_file.close()

    def _search_one(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if rows is not None and len(rows) < SCAN_MAX_SHARE * self.ntotal:
            return self._scan_codes(query, k, rows)
        return self._graph(query, k, rows)

    def _read(self, rows: np.ndarray) -> np.ndarray:
        return self.rows_file.read(rows)

    def _selector(self, rows: np.ndarray) -> faiss.IDSelectorBitmap:
        """Rows as a bitmap (bit i of byte i >> 3 is row i, as FAISS reads it); O(1) membership."""
        mask = self._buffer("mask", (self.ntotal,), np.bool_)
        mask.fill(False)
        mask[rows] = True
        return faiss.IDSelectorBitmap(np.packbits(mask, bitorder="little"))

    def _scan_codes(self, query: np.ndarray, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact over the allowed rows' codes, the best few re-scored from the float32 vectors."""
        params = faiss.SearchParameters(sel=self._selector(rows))
        _, found = self.codes.search(query.reshape(1, -1), min(len(rows), SCAN_DEPTH * k), params=params)
        return self._rescore(query, found[0], k)

    def _graph(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """HNSW candidates (within the allowed rows), re-scored exactly from the float32 vectors."""
        params = faiss.SearchParametersHNSW()
        ef = max(self.ef_search, k)
        if rows is not None:
            # Only a share of the nodes visited are eligible: widen the beam in proportion.
            ef = min(EF_SEARCH_MAX, max(ef, math.ceil(ef * self.ntotal / len(rows))))
            params.sel = self._selector(rows)
        params.efSearch = max(ef, RESCORE_DEPTH)
        _, found = self.graph.search(query.reshape(1, -1), max(k, RESCORE_DEPTH), params=params)
        return self._rescore(query, found[0], k)

    def _rescore(self, query: np.ndarray, found: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        found = np.sort(found[found >= 0])  # ascending rows: forward reads of the file
        return _top_k(self.rows_file.read(found) @ query, found, k)


# Readers by the type in ann.json; the types written (INDEX_TYPES) also write with them.
_READERS: dict[str, type[_IdRows]] = {FLAT: FlatIndex, HNSW: HnswIndex, HNSW_FP16: HnswIndex}


class RowFile:
    """Rows of a float32 .npy matrix read with pread: through the page cache, never mapped into the process.

    Re-scoring reads ~100 scattered rows a query. Through a memory map, each page fault also mapped its
    neighbours (kernel read-ahead and fault-around): at 1M passages 60 queries left 1.2 GB of vectors.npy
    resident in the server for 6 MB of rows used. pread copies just the rows, from the shared page cache.
    """

    def __init__(self, path: Path) -> None:
        with path.open("rb") as handle:
            major, _ = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, fortran_order, dtype = read_header(handle)
            self.offset = handle.tell()
        if fortran_order or dtype != np.float32 or len(shape) != 2:
            raise ValueError(f"{path}: expected a C-order float32 matrix, got {dtype} {shape}")
        self.rows, self.dim = shape
        self.row_bytes = self.dim * 4
        self.fd = os.open(path, os.O_RDONLY)
        self.close = weakref.finalize(self, os.close, self.fd)  # callable once: closes now, or at collection

    def read(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), dim) float32, the given rows in the given order."""
        if not self.close.alive:
            raise ValueError("read from a closed RowFile")
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        for i, row in enumerate(rows.tolist()):
            if os.preadv(self.fd, [out[i]], self.offset + row * self.row_bytes) != self.row_bytes:
                raise OSError(f"short read of row {row} of {self.rows}")
        return out


def _top_k(scores: np.ndarray, rows: np.ndarray, k: int, all_rows: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The k best (score, row) pairs, best first; ties broken by the lower row for determinism."""
    n = len(scores)
    part = np.argpartition(-scores, k - 1)[:k] if n > k else np.arange(n)
    order = part[np.lexsort((part, -scores[part]))]
    picked = order if all_rows else rows[order]
    return scores[order].astype(np.float32, copy=True), np.asarray(picked, dtype=np.int64)
