"""What ``Embedder`` needs from a model, so that it does not depend on any one library's interface.

Two implementations: ``models.st_backend.SentenceTransformerEncoder`` (sentence-transformers on torch,
any model) and ``models.onnx_backend.OnnxEncoder`` (the built-in model on ONNX Runtime).
tests/test_encoders.py checks every implementation against these promises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Encoder(Protocol):
    """Texts to vectors and token counts. Texts arrive as given: ``Embedder`` normalises them first."""

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    @property
    def max_length(self) -> int:
        """Tokens the model sees, specials and prompt included; the end of a longer text is cut off."""
        ...

    @property
    def prompts(self) -> Mapping[str, str]:
        """The prefixes the model was trained with: ``{"query": ..., "passage": ...}`` ("" for none)."""
        ...

    def encode(
        self, texts: Sequence[str], prompt: str, *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """(len(texts), dimension) float32 rows of L2 norm 1, in input order, each of ``prompt + text``."""
        ...

    def count_tokens(self, texts: Sequence[str], *, add_special_tokens: bool = False) -> list[int]:
        """Tokens of each text, untruncated (without <s> and </s> unless ``add_special_tokens``)."""
        ...


def query_passage_prompts(prompts: Mapping[str, str | None] | None) -> dict[str, str]:
    """A model's prompts under our two names (sentence-transformers >= 5 calls the passage one "document",
    and adds an empty one when a model has none)."""
    prompts = prompts or {}
    return {
        "query": prompts.get("query") or "",
        "passage": prompts.get("passage") or prompts.get("document") or "",
    }
