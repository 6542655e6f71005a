"""The FAISS side of an index: vectors in, a searchable inner-product index out.

Vectors are L2-normalised, so inner product is cosine similarity. Ids are the store's
passage ids (stable int64), kept by an IndexIDMap2 so that vectors survive re-indexing.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

INDEX_FILE = "index.faiss"
VECTORS_FILE = "vectors.npy"
IDS_FILE = "ids.npy"


def build_index(vectors: np.ndarray, ids: np.ndarray) -> faiss.Index:
    """Exact inner-product search: fast enough for the archives tracuu serves today."""
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[0] else 0
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim or 1))
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
    return index


def index_type(index: faiss.Index) -> str:
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    return type(inner).__name__


def save(version_dir: Path, vectors: np.ndarray, ids: np.ndarray) -> str:
    """Write raw vectors (for incremental re-use and rebuilds) and the FAISS index."""
    np.save(version_dir / VECTORS_FILE, np.ascontiguousarray(vectors, dtype=np.float32))
    np.save(version_dir / IDS_FILE, ids.astype(np.int64))
    index = build_index(vectors, ids)
    faiss.write_index(index, str(version_dir / INDEX_FILE))
    return index_type(index)


def load_vectors(version_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Memory-mapped vectors and their ids, for re-use by the next indexing run."""
    vectors = np.load(version_dir / VECTORS_FILE, mmap_mode="r")
    ids = np.load(version_dir / IDS_FILE)
    return vectors, ids


def load_index(version_dir: Path) -> faiss.Index:
    return faiss.read_index(str(version_dir / INDEX_FILE), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
