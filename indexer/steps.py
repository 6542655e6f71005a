"""The per-article steps of a run that depend on the article alone: its language, its near-duplicate signature,
its passages. Where they run is the runner's choice (here, or on Ray workers: indexer.distributed); what they
give is the same, so a distributed run writes the same index as a local one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from indexer.chunking import ChunkingParams, chunk_text
from indexer.dedup import signature
from tracuu.text.lang import detect_language

if TYPE_CHECKING:
    from models.embedder import Embedder

Step = Literal["language", "signature", "chunks"]
STEP_BATCH = 32  # articles per call when a step is sent to a worker


def run_step(step: Step, texts: Sequence[str], embedder: Embedder, params: ChunkingParams | None = None) -> list[Any]:
    """`step` for each text, in order: a language code (or None), a MinHash signature, a list of Passages."""
    if step == "language":
        return [detect_language(text) for text in texts]
    if step == "signature":
        return [signature(text) for text in texts]
    if step == "chunks":
        return [chunk_text(text, embedder.count_tokens, params or ChunkingParams()) for text in texts]
    raise ValueError(f"unknown step {step!r}")
