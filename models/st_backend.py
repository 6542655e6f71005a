"""The ``torch`` backend: any sentence-transformers model (a local directory or a Hub id) as an ``Encoder``.

sentence-transformers, transformers and torch are imported inside functions: the default backend
(ONNX) runs without them, and importing torch costs seconds and hundreds of MB.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models.encoder import query_passage_prompts

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer


class SentenceTransformerEncoder:
    """A ``SentenceTransformer`` with mean pooling and normalisation as its last modules (as e5's are)."""

    def __init__(self, model: SentenceTransformer) -> None:
        self.model = model
        self.prompts = query_passage_prompts(model.prompts)
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(getter())

    @classmethod
    def load(
        cls, name_or_path: str | Path, *, device: str = "cpu", threads: int | None = None, local: bool = False
    ) -> SentenceTransformerEncoder:
        """Load a model; ``local``: a directory, never the network. ``threads``: torch's intra-op threads
        (None leaves torch's own choice)."""
        from sentence_transformers import SentenceTransformer

        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        with _quiet_transformers():
            if local:
                model = SentenceTransformer(str(name_or_path), device=device, local_files_only=True)
            else:
                model = SentenceTransformer(str(name_or_path), device=device)
        return cls(model)

    @property
    def max_length(self) -> int:
        return int(self.model.max_seq_length)

    @cached_property
    def _tokenizer(self) -> Tokenizer:
        """An untruncated copy of the fast tokenizer (the model's own truncates at ``max_length``)."""
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(self.model.tokenizer.backend_tokenizer.to_str())
        tok.no_truncation()
        tok.no_padding()
        return tok

    def count_tokens(self, texts: Sequence[str], *, add_special_tokens: bool = False) -> list[int]:
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        return [len(e.ids) for e in encodings]

    def encode(
        self, texts: Sequence[str], prompt: str, *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            prompt=prompt,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return vecs.astype(np.float32, copy=False)

    def parameters_checksum(self) -> str:
        """sha256 of the loaded parameters: the identity of a Hub model that is not in the local cache."""
        import torch

        h = hashlib.sha256()
        for name, tensor in sorted(self.model.state_dict().items()):
            t = tensor.detach().cpu().contiguous()
            h.update(f"{name}:{t.dtype}:{tuple(t.shape)}\0".encode())
            h.update(t.view(-1).view(torch.uint8).numpy().tobytes())
        return "sha256-params:" + h.hexdigest()


def hub_revision(repo_id: str) -> str | None:
    """Commit hash of a Hub model already in the local Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover
        return None
    for filename in ("modules.json", "config.json"):
        hit = try_to_load_from_cache(repo_id, filename)
        if isinstance(hit, str):
            return "hf:" + Path(hit).parent.name  # .../snapshots/<commit>/<file>
    return None


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' per-load "Loading weights" progress bar (noise in CLI output)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
