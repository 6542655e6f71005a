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
import shutil
import sqlite3
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.format import ann, layout
from indexer.format.faults import fault_point
from indexer.format.lexical import build_lexical
from indexer.format.records import Article, Passage
from indexer.format.store import STORE_FILE, StoreWriter
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
    """The files of one new version, written into its temporary directory (see `write_version`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.articles = 0
        self.timings: dict[str, float] = {}  # seconds spent writing "vectors" (with the ANN index), "lexical"
        self.index_type: str | None = None
        self.published: Path | None = None
        self._store = StoreWriter(directory / STORE_FILE)
        self._lexical_ids = array("q")  # 8 bytes a passage, not a Python int each
        self._lexical_texts: list[tuple[str, str]] = []
        self._finished = False

    def add_article(
        self, article: Article, content_hash: str, dup_group: str, ids: Sequence[int], passages: Sequence[Passage]
    ) -> None:
        """Store an article and its passages under their passage ids (BM25 indexes them in this order)."""
        self._store.add_article(article, content_hash, dup_group)
        fault_point("store", self.directory / STORE_FILE)
        self._store.add_passages(article.id, ids, passages)
        self._lexical_ids.extend(ids)
        self._lexical_texts.extend((article.title, p.text) for p in passages)
        self.articles += 1

    def finish(
        self,
        vectors: np.ndarray,
        ids: np.ndarray,
        tones: ToneModel,
        recipe: Recipe,
        next_id: int,
        progress: Progress | None = None,
        posted: str | None = None,
    ) -> None:
        """Write the passages' vectors (any order; ids as given to add_article), the indexes, and last the manifest.

        `posted`: the fingerprint of the posted articles this version includes (indexer.posted).
        """
        progress = progress or Progress()  # silent, still timed
        self._store.close()
        with progress.stage("vectors", total=len(ids), unit="passages") as stage:
            self.index_type = ann.write_vector_index(self.directory, vectors, ids)
            stage.update(len(ids))
        self.timings["vectors"] = progress.timings["vectors"]
        fault_point("faiss", self.directory / ann.INDEX_FILE)
        with progress.stage("lexical", total=len(self._lexical_ids), unit="passages") as stage:
            build_lexical(self.directory, self._lexical_ids, self._lexical_texts)
            stage.update(len(self._lexical_ids))
        self.timings["lexical"] = progress.timings["lexical"]
        self._lexical_texts = []
        tones.save(self.directory / RESTORE_FILE)
        manifest = {
            "format_version": layout.FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "model": recipe.model,
            "dimension": recipe.dimension,
            "normalised_vectors": True,
            "metric": "inner_product",
            "index_type": self.index_type,
            "text_normalisation": NORMALISATION_NAME,
            "chunking": recipe.chunking,
            "title_token_budget": recipe.title_token_budget,
            "counts": {"articles": self.articles, "passages": len(ids), "next_id": next_id},
            "libraries": library_versions(*LIBRARIES),
        }
        if posted is not None:
            manifest["posted"] = posted
        # Written last: a version directory without a manifest is never loaded or published.
        layout.write_json_atomic(self.directory / layout.MANIFEST, manifest)
        fault_point("manifest", self.directory)
        self._finished = True

    def _abandon(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._store.conn.close()  # uncommitted rows go with the directory


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
