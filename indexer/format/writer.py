"""Writing a new version of an index directory: the one way a version is made (`tracuu index`, `tracuu bench`).

    with write_version(index_dir) as version:     # writer lock, leftovers removed, temporary directory
        version.add_article(article, content_hash, dup_group, passage_ids, passages)   # for each article
        version.finish(vectors, ids, tones, recipe, next_id)   # vectors, ANN, BM25, tone model, manifest
    version.published                              # the new v-<stamp>, now `current`

The block ending without an error publishes the version atomically (layout.publish); an error removes
the half-written version and leaves the published one as it was, a failed write (full disk, I/O error)
raised as layout.IndexWriteError. docs/format.md describes every file written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.format import layout
from indexer.format.faults import fault_point
from indexer.format.records import Article, Passage
from indexer.format.segments import (
    DELETED_FILE,
    MAX_SEGMENTS,
    SegmentWriter,
    Snapshot,
    link_segment,
    merge_segments,
    plan_merge,
    segment_info,
    segment_name,
)
from indexer.format.store import SegmentedStore
from indexer.progress import Progress
from tracuu.system import library_versions
from tracuu.text.normalise import NORMALISATION_NAME
from tracuu.text.restore import RESTORE_FILE, ToneModel

# Recorded in the manifest: the libraries that build and search the files (onnxruntime embeds by default,
# faiss-cpu and bm25s write the indexes, torch and sentence-transformers embed with other models).
LIBRARIES = ("faiss-cpu", "bm25s", "onnxruntime", "sentence-transformers", "torch", "numpy")


@dataclass(frozen=True)
class Recipe:
    """How passages were cut and embedded; a later run re-uses this version's vectors only under the same one."""

    model: dict[str, Any]  # the embedder's identity
    dimension: int
    chunking: dict[str, int]
    title_token_budget: int


class VersionWriter:
    """The files of one new version, written into its temporary directory (see `write_version`).

    A version is segments (indexer.format.segments): those of the version before, hard-linked (`keep`), with
    the articles deleted since (`delete`), plus one new segment for the articles added now (`add_article`).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.articles = 0  # added to the new segment
        self.timings: dict[str, float] = {}  # seconds spent writing "vectors" (with the ANN index), "lexical"
        self.index_type: str | None = None
        self.published: Path | None = None
        self.merged: list[str] = []  # segments merged away by this version
        self._segments: list[dict[str, Any]] = []  # segment.json of each, in search order
        self._dead: dict[str, set[str]] = {}
        self._next_segment = 0
        self._new: SegmentWriter | None = None
        self._finished = False
        self.counts = (0, 0)  # live articles and passages of the version, once finished

    def keep(self, previous: Snapshot) -> None:
        """Start from the segments and deletions of `previous` (hard links, nothing copied)."""
        for segment in previous.segments:
            link_segment(segment, self.directory / segment.name)
            self._segments.append(segment_info(segment))
            self._dead[segment.name] = set(previous.dead.get(segment.name, ()))
        self._next_segment = int(previous.manifest.get("next_segment", len(previous.segments)))

    def delete(self, segment: str, doc_id: str) -> None:
        """The article `doc_id` of a kept segment is gone (deleted, or replaced by a newer copy)."""
        self._dead.setdefault(segment, set()).add(doc_id)

    def _segment(self) -> SegmentWriter:
        if self._new is None:
            self._new = SegmentWriter(self.directory / segment_name(self._next_segment))
            self._next_segment += 1
        return self._new

    def add_article(
        self,
        article: Article,
        content_hash: str,
        dup_group: str,
        ids: Sequence[int],
        passages: Sequence[Passage],
        signature: np.ndarray | None = None,
    ) -> None:
        """Store an article and its passages in the new segment under their passage ids."""
        self._segment().add_article(article, content_hash, dup_group, ids, passages, signature)
        self.articles += 1

    def finish(
        self,
        vectors: np.ndarray,
        ids: np.ndarray,
        tones: ToneModel | Path,
        recipe: Recipe,
        next_id: int,
        progress: Progress | None = None,
        posted: str | None = None,
        max_segments: int = MAX_SEGMENTS,
        expunge: bool = False,
    ) -> None:
        """Write the new segment (the vectors of the added passages, any order), merge segments when there are
        more than `max_segments`, then the tone model and last the manifest.

        `posted`: the fingerprint of the posted articles this version includes (indexer.posted). `expunge`:
        rewrite every segment that has deleted articles, so that none is left (`tracuu optimize`).
        """
        progress = progress or Progress()  # silent, still timed
        if self._new is not None or not self._segments:  # an empty index still has one (empty) segment
            segment = self._segment()
            self._segments.append(segment.finish(vectors, ids, progress))
            self.index_type = segment.index_type
        self.timings.update((k, progress.timings.get(k, 0.0)) for k in ("vectors", "lexical"))
        self._merge(max_segments, progress)
        if expunge:
            for position in [p for p, s in enumerate(self._segments) if self._dead.get(s["name"])]:
                self._merge_into_one([position], progress)
        if isinstance(tones, Path):  # unchanged since the version before: its file, linked
            os.link(tones, self.directory / RESTORE_FILE)
        else:
            tones.save(self.directory / RESTORE_FILE)
        dead = {name: sorted(docs) for name, docs in self._dead.items() if docs}
        layout.write_json_atomic(self.directory / DELETED_FILE, dead)
        store = SegmentedStore([self.directory / s["name"] for s in self._segments], self.frozen_dead())
        try:
            articles, passages = self.counts = store.counts()
        finally:
            store.close()
        largest = max(self._segments, key=lambda s: s["passages"])
        manifest = {
            "format_version": layout.FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "model": recipe.model,
            "dimension": recipe.dimension,
            "normalised_vectors": True,
            "metric": "inner_product",
            "index_type": largest["index_type"],
            "text_normalisation": NORMALISATION_NAME,
            "chunking": recipe.chunking,
            "title_token_budget": recipe.title_token_budget,
            "counts": {"articles": articles, "passages": passages, "next_id": next_id},
            "segments": self._segments,
            "next_segment": self._next_segment,
            "libraries": library_versions(*LIBRARIES),
        }
        if posted is not None:
            manifest["posted"] = posted
        # Written last: a version directory without a manifest is never loaded or published.
        layout.write_json_atomic(self.directory / layout.MANIFEST, manifest)
        fault_point("manifest", self.directory)
        self._finished = True

    def frozen_dead(self) -> dict[str, frozenset[str]]:
        return {name: frozenset(docs) for name, docs in self._dead.items() if docs}

    def _merge(self, max_segments: int, progress: Progress) -> None:
        """Merge segments until at most `max_segments` remain (segments.plan_merge), dropping deleted articles."""
        while True:
            live = self._live_passages()
            positions = plan_merge(live, max_segments)
            if not positions:
                return
            self._merge_into_one(positions, progress, sum(live[p] for p in positions))

    def _merge_into_one(self, positions: list[int], progress: Progress, passages: int = 0) -> None:
        """Replace the segments at `positions` with one holding their live articles, where the first one was."""
        sources = [self.directory / self._segments[p]["name"] for p in positions]
        target = self.directory / segment_name(self._next_segment)
        self._next_segment += 1
        with progress.stage("merge", total=passages or None, unit="passages") as stage:
            fault_point("merge", target)
            info = merge_segments(target, sources, self.frozen_dead())
            stage.update(info["passages"])
        for source in sources:
            shutil.rmtree(source)  # this version's links only: earlier versions keep their files
            self._dead.pop(source.name, None)
            self.merged.append(source.name)
        kept = [s for p, s in enumerate(self._segments) if p not in positions]
        kept.insert(positions[0], info)
        self._segments = kept

    def _live_passages(self) -> list[int]:
        store = SegmentedStore([self.directory / s["name"] for s in self._segments], self.frozen_dead())
        try:
            return [s["passages"] - len(part.dead_ids) for s, part in zip(self._segments, store.parts, strict=True)]
        finally:
            store.close()

    def _abandon(self) -> None:
        if self._new is not None:
            with contextlib.suppress(sqlite3.Error):
                self._new.abandon()  # uncommitted rows go with the directory


@contextlib.contextmanager
def write_version(index_dir: Path) -> Iterator[VersionWriter]:
    """A new version of `index_dir`, published when the block ends without error (see the module docstring).

    The writer lock is held for the whole block, so what the block reads of the published version (the
    vectors an update re-uses) cannot change under it.
    """
    layout.check_index_dir(index_dir)
    with layout.writer_lock(index_dir):
        layout.remove_leftovers(index_dir)
        directory = layout.new_temp_version(index_dir)
        version: VersionWriter | None = None
        try:
            version = VersionWriter(directory)  # creates the store: a write that can fail
            yield version
            if not version._finished:
                raise RuntimeError(f"{directory}: the block ended before VersionWriter.finish")
            version.published = layout.publish(index_dir, directory)
        except BaseException as exc:
            if version is not None:
                version._abandon()
            shutil.rmtree(directory, ignore_errors=True)  # nothing left once publish has renamed it
            faiss_write = isinstance(exc, RuntimeError) and "write error" in str(exc)  # FAISS's own I/O errors
            if isinstance(exc, OSError | sqlite3.Error) or faiss_write:
                detail = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else str(exc)
                raise layout.IndexWriteError(
                    f"{index_dir}: could not write the new version ({detail.splitlines()[0][:300]}); "
                    "the index in service is unchanged"
                ) from exc
            raise
