"""Embedding planned once and run anywhere: the groups a run embeds, a cache of finished groups, the local runner.

Why groups: onnx-int8 quantises activations per batch, so a passage's vector depends on its batch-mates.
The driver cuts the texts into groups (longest first, `batch_size * GROUP_BATCHES` texts each), and every
runner embeds a group with one `Embedder.encode_passages` call, which cuts it into the same token-budget
batches on any machine. A local run and a distributed one (indexer.distributed) therefore give the same
vectors, byte for byte, and a group is also the unit of progress, of retries and of the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from indexer.chunking import ChunkingParams
from indexer.format.faults import fault_point
from indexer.format.layout import EMBEDDING_CACHE
from indexer.steps import Step, run_step
from tracuu.text.normalise import nfc

if TYPE_CHECKING:
    from models.embedder import Embedder

GROUP_BATCHES = 8  # batches per group (256 passages at --batch-size 32): progress and the cache after each

GroupDone = Callable[[int, np.ndarray], None]  # (group number, its vectors), in the order groups finish


def plan_groups(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Text positions, longest first over the whole list, cut into groups that each pad to similar lengths."""
    order = sorted(range(len(texts)), key=lambda i: len(nfc(texts[i])), reverse=True)
    step = max(batch_size * GROUP_BATCHES, 1)
    return [order[start : start + step] for start in range(0, len(order), step)]


class GroupRunner(Protocol):
    """Where a run's work goes: groups of texts embedded (each with one `encode_passages` call, reported as it
    finishes) and the per-article steps of indexer.steps (results in input order)."""

    def embed_groups(self, groups: Sequence[list[str]], done: GroupDone) -> None: ...

    def map_step(self, step: Step, texts: Sequence[str], params: ChunkingParams | None = None) -> list[Any]: ...


class LocalRunner:
    """Everything one after the other in this process (the embedder spreads each group over this machine's CPUs)."""

    def __init__(self, embedder: Embedder, batch_size: int) -> None:
        self.embedder = embedder
        self.batch_size = batch_size

    def embed_groups(self, groups: Sequence[list[str]], done: GroupDone) -> None:
        for number, texts in enumerate(groups):
            done(number, self.embedder.encode_passages(texts, batch_size=self.batch_size))

    def map_step(self, step: Step, texts: Sequence[str], params: ChunkingParams | None = None) -> list[Any]:
        return run_step(step, texts, self.embedder, params)


class GroupCache:
    """Vectors of the groups a run has finished, one file each, so a run killed before publishing embeds only the
    rest when run again. A group's key covers everything its vectors depend on: the model, the batching and
    the texts; the directory is removed once a version is published."""

    def __init__(self, directory: Path | None, context: dict[str, Any]) -> None:
        self.directory = directory
        self._context = json.dumps(context, sort_keys=True, default=str)

    def key(self, texts: Sequence[str]) -> str:
        digest = hashlib.sha256(self._context.encode("utf-8"))
        for text in texts:
            digest.update(b"\0" + text.encode("utf-8"))
        return digest.hexdigest()

    def get(self, key: str, rows: int, dim: int) -> np.ndarray | None:
        if self.directory is None:
            return None
        try:
            vectors = np.load(self.directory / f"{key}.npy")
        except (OSError, ValueError):  # absent, or cut short by a crash: embedded again
            return None
        return vectors if vectors.shape == (rows, dim) and vectors.dtype == np.float32 else None

    def put(self, key: str, vectors: np.ndarray) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(exist_ok=True)
        temp = self.directory / f".{key}.{os.getpid()}.tmp"
        with open(temp, "wb") as out:
            np.save(out, vectors)
        os.replace(temp, self.directory / f"{key}.npy")

    def clear(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class Embedding:
    """How a run embeds passages: its runner (local, or a Ray cluster's), its batch size and its group cache."""

    embedder: Embedder
    batch_size: int = 32
    runner: GroupRunner | None = None
    cache: GroupCache | None = None
    cached: int = 0  # texts whose vectors came from the cache (an interrupted run's groups)

    @classmethod
    def local(cls, embedder: Embedder, batch_size: int = 32, index_dir: Path | None = None) -> Embedding:
        return cls(embedder, batch_size, cache=cache_for(index_dir, embedder, batch_size))

    @property
    def where(self) -> GroupRunner:
        return self.runner or LocalRunner(self.embedder, self.batch_size)

    def step(self, step: Step, texts: Sequence[str], params: ChunkingParams | None = None) -> list[Any]:
        """A per-article step (indexer.steps) for each text, where this run's work goes."""
        return self.where.map_step(step, texts, params) if texts else []

    def vectors(self, texts: Sequence[str], done: Callable[[int], None]) -> np.ndarray:
        """(len(texts), dim) float32 in input order; `done(n)` after each group of n texts, cached ones first."""
        runner = self.where
        cache = self.cache or GroupCache(None, {})
        dim = self.embedder.dim
        out = np.empty((len(texts), dim), dtype=np.float32)
        groups = plan_groups(texts, self.batch_size)
        keys = [cache.key([texts[i] for i in group]) for group in groups]
        missing = []
        for number, group in enumerate(groups):
            cached = cache.get(keys[number], len(group), dim)
            if cached is None:
                missing.append(number)
            else:
                out[group] = cached
                self.cached += len(group)
                done(len(group))

        def finished(position: int, vectors: np.ndarray) -> None:
            number = missing[position]
            cache.put(keys[number], vectors)
            fault_point("group")
            out[groups[number]] = vectors
            done(len(groups[number]))

        runner.embed_groups([[texts[i] for i in groups[number]] for number in missing], finished)
        return out

    def published(self) -> None:
        """The run's vectors are in a published version: its cache has served its purpose."""
        if self.cache is not None:
            self.cache.clear()


def cache_for(index_dir: Path | None, embedder: Embedder, batch_size: int) -> GroupCache:
    """The group cache of runs into `index_dir` (none without one)."""
    context = {"model": embedder.identity, "batching": embedder.batching, "batch_size": batch_size}
    return GroupCache(index_dir / EMBEDDING_CACHE if index_dir is not None else None, context)
