"""Immutable segments: what one indexing run added, re-used by every later version (as Lucene does).

    v-<stamp>/manifest.json     "segments": the segments in search order, oldest first
    v-<stamp>/deleted.json      {segment: [doc_id, ...]}: articles deleted (or changed) since it was written
    v-<stamp>/seg-000007/       one segment: store.sqlite, vectors.npy, ids.npy, ann.json (index.faiss),
                                lexical/, signatures.npz, segment.json

A new version hard-links the segments of the one before (never copies them), adds one segment for what
was added or changed, and records deletions; a merge rewrites some segments into one without their deleted
articles. Every file of a segment is written once and never changed, so a reader's snapshot (the version
it opened) never changes under it, and pruning an old version only drops links.
"""

from __future__ import annotations

import json
import os
import sqlite3
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.format import ann, layout
from indexer.format.faults import fault_point
from indexer.format.lexical import LEXICAL_DIR, ROW_IDS, build_lexical, merge_lexical
from indexer.format.records import Article, Passage
from indexer.format.store import STORE_FILE, SegmentedStore, StoreWriter
from indexer.progress import Progress

SEGMENT_PREFIX = "seg-"
SEGMENT_FILE = "segment.json"
SIGNATURES_FILE = "signatures.npz"  # near-duplicate signatures of the segment's articles (indexer.dedup)
DELETED_FILE = "deleted.json"
MAX_SEGMENTS = 10  # more after a run: the smallest are merged (search cost grows with the count)
MERGE_AT_ONCE = 5  # segments merged together at most by one step of the policy


def segment_name(number: int) -> str:
    return f"{SEGMENT_PREFIX}{number:06d}"


@dataclass(frozen=True)
class Snapshot:
    """A published version's segments and deletions, as a reader or the next run sees them."""

    version_dir: Path
    manifest: dict[str, Any]
    segments: list[Path]
    dead: dict[str, frozenset[str]]  # segment name -> its deleted articles

    @classmethod
    def open(cls, version_dir: Path, manifest: dict[str, Any]) -> Snapshot:
        names = [s["name"] for s in manifest.get("segments", [])]
        deleted_path = version_dir / DELETED_FILE
        deleted = json.loads(deleted_path.read_text(encoding="utf-8")) if deleted_path.is_file() else {}
        return cls(
            version_dir, manifest, [version_dir / n for n in names], {k: frozenset(v) for k, v in deleted.items()}
        )

    @classmethod
    def current(cls, index_dir: Path) -> Snapshot:
        """The version in service of `index_dir`."""
        version_dir = layout.current_version(index_dir)
        return cls.open(version_dir, layout.read_manifest(version_dir))

    def store(self) -> SegmentedStore:
        return SegmentedStore(self.segments, self.dead)


def link_segment(source: Path, target: Path) -> None:
    """`target` as hard links to every file of the segment `source` (no data is copied)."""
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, destination)


def segment_info(segment_dir: Path) -> dict[str, Any]:
    return json.loads((segment_dir / SEGMENT_FILE).read_text(encoding="utf-8"))


class SegmentWriter:
    """The files of one new segment: articles and passages as they come, vectors and indexes at `finish`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir()
        self.articles = 0
        self.index_type: str | None = None
        self._store = StoreWriter(directory / STORE_FILE)
        self._lexical_ids = array("q")  # 8 bytes a passage, not a Python int each
        self._lexical_texts: list[tuple[str, str]] = []
        self._signature_ids: list[str] = []
        self._signatures: list[np.ndarray] = []

    def add_article(
        self,
        article: Article,
        content_hash: str,
        dup_group: str,
        ids: Sequence[int],
        passages: Sequence[Passage],
        signature: np.ndarray | None = None,
    ) -> None:
        self._store.add_article(article, content_hash, dup_group)
        fault_point("store", self.directory / STORE_FILE)
        self._store.add_passages(article.id, ids, passages)
        self._lexical_ids.extend(ids)
        self._lexical_texts.extend((article.title, p.text) for p in passages)
        if signature is not None:
            self._signature_ids.append(article.id)
            self._signatures.append(signature)
        self.articles += 1

    def finish(self, vectors: np.ndarray, ids: np.ndarray, progress: Progress) -> dict[str, Any]:
        """Vectors (any order, ids as given to add_article), the vector index, BM25, signatures, segment.json."""
        self._store.close()
        with progress.stage("vectors", total=len(ids), unit="passages") as stage:
            self.index_type = ann.write_vector_index(self.directory, vectors, ids)
            stage.update(len(ids))
        fault_point("faiss", self.directory / ann.INDEX_FILE)
        with progress.stage("lexical", total=len(self._lexical_ids), unit="passages") as stage:
            build_lexical(self.directory, self._lexical_ids, self._lexical_texts)
            stage.update(len(self._lexical_ids))
        self._lexical_texts = []
        write_signatures(self.directory, self._signature_ids, self._signatures)
        return write_segment_info(self.directory, self.articles, len(ids), self.index_type)

    def abandon(self) -> None:
        self._store.conn.close()


def write_signatures(segment_dir: Path, doc_ids: Sequence[str], signatures: Sequence[np.ndarray]) -> None:
    matrix = np.stack(signatures) if signatures else np.zeros((0, 0), dtype=np.uint64)
    with (segment_dir / SIGNATURES_FILE).open("wb") as handle:
        np.savez(handle, doc_ids=np.asarray(list(doc_ids), dtype=str), signatures=matrix)


def read_signatures(segment_dir: Path) -> tuple[list[str], np.ndarray]:
    path = segment_dir / SIGNATURES_FILE
    if not path.is_file():
        return [], np.zeros((0, 0), dtype=np.uint64)
    with np.load(path) as data:
        return data["doc_ids"].tolist(), data["signatures"]


def write_segment_info(segment_dir: Path, articles: int, passages: int, index_type: str) -> dict[str, Any]:
    info = {"name": segment_dir.name, "articles": articles, "passages": passages, "index_type": index_type}
    (segment_dir / SEGMENT_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def plan_merge(live_passages: Sequence[int], max_segments: int = MAX_SEGMENTS) -> list[int]:
    """Positions of the segments to merge so that at most `max_segments` remain (tiered, smallest first).

    The smallest segments are merged together, MERGE_AT_ONCE at most per step and never fewer than needed,
    so a large segment is rewritten only when the small ones have grown to its size: each passage is merged
    a logarithmic number of times, as in Lucene's tiered policy.
    """
    count = len(live_passages)
    if count <= max_segments:
        return []
    width = max(count - max_segments + 1, min(MERGE_AT_ONCE, count))
    order = sorted(range(count), key=lambda i: (live_passages[i], i))
    return sorted(order[:width])


def merge_segments(target: Path, sources: Sequence[Path], dead: dict[str, frozenset[str]]) -> dict[str, Any]:
    """Write the live articles of `sources` (in order) into the new segment `target`, dropping deleted ones.

    Rows are copied as they are: passages keep their ids, texts and vectors (nothing is embedded or
    tokenised again: BM25 postings are re-mapped, `lexical.merge_lexical`).
    """
    target.mkdir()
    store_path = target / STORE_FILE
    StoreWriter(store_path).close()  # the schema
    conn = sqlite3.connect(store_path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
    conn.execute("CREATE TEMP TABLE dead (doc_id TEXT PRIMARY KEY)")
    vectors: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    lexical_parts: list[tuple[Path, np.ndarray]] = []
    signature_ids: list[str] = []
    signatures: list[np.ndarray] = []
    articles = 0
    for source in sources:
        gone = dead.get(source.name, frozenset())
        conn.execute("DELETE FROM dead")
        conn.executemany("INSERT INTO dead VALUES (?)", [(d,) for d in gone])
        conn.execute("ATTACH DATABASE ? AS part", (f"file:{source / STORE_FILE}?mode=ro&immutable=1",))
        conn.execute("INSERT INTO articles SELECT * FROM part.articles WHERE doc_id NOT IN (SELECT doc_id FROM dead)")
        conn.execute("INSERT INTO passages SELECT * FROM part.passages WHERE doc_id NOT IN (SELECT doc_id FROM dead)")
        dead_ids = np.asarray(
            [r[0] for r in conn.execute("SELECT id FROM part.passages WHERE doc_id IN (SELECT doc_id FROM dead)")],
            dtype=np.int64,
        )
        articles += conn.execute("SELECT COUNT(*) FROM part.articles").fetchone()[0] - len(gone)
        conn.commit()
        conn.execute("DETACH DATABASE part")
        part_vectors, part_ids = ann.load_vectors(source)
        keep = ~np.isin(part_ids, dead_ids)
        vectors.append(np.asarray(part_vectors[keep]))
        ids.append(part_ids[keep])
        row_ids = np.load(source / LEXICAL_DIR / ROW_IDS)
        lexical_parts.append((source, ~np.isin(row_ids, dead_ids)))
        for doc_id, signature in zip(*read_signatures(source), strict=True):
            if doc_id not in gone:
                signature_ids.append(doc_id)
                signatures.append(signature)
    conn.close()
    dim = next((v.shape[1] for v in vectors if v.ndim == 2), 0)
    all_vectors = np.concatenate(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
    all_ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    index_type = ann.write_vector_index(target, all_vectors, all_ids)
    merge_lexical(target, lexical_parts)
    write_signatures(target, signature_ids, signatures)
    return write_segment_info(target, articles, len(all_ids), index_type)


def version_vectors(version_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every live passage's vector and id of a version, in id order (tests and benchmarks read them whole)."""
    snapshot = Snapshot.open(version_dir, layout.read_manifest(version_dir))
    store = snapshot.store()
    try:
        deleted = store.deleted_ids()
    finally:
        store.close()
    index = ann.SegmentedVectorIndex(snapshot.segments, deleted)
    ids = np.concatenate([np.load(s / ann.IDS_FILE) for s in snapshot.segments])
    found, vectors = index.vectors_of(np.setdiff1d(ids, deleted))
    index.close()
    return vectors, found
