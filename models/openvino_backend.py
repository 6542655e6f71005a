"""OpenVINO backend for the default model (optional: ``pip install 'tracuu[openvino]'``).

Variant (``BACKENDS``):

* ``openvino-bf16``  the plain fp32 export (``onnx_backend.export_fp32``: BERT + mean pooling + L2 norm,
  without ONNX Runtime's fused operators, which OpenVINO cannot read) as an OpenVINO IR, run by the CPU
  plugin with inference precision bf16: its matrix products go to AMX (``brgemm_avx512_amx_bf16``) on CPUs
  that have it, layer norms and softmax stay f32. On a CPU without bf16 units OpenVINO runs it in f32 (the
  fp32 vectors, slower). ``OpenVinoEncoder.precision`` tells which, and ``Embedder.batching`` records it
  beside the index's identity. No activation is quantised, so a row does not depend on its batch-mates.

Why not int8 (measured on the 2-core Sapphire/Emerald Rapids class machine, docs/performance.md): ONNX
Runtime's int8 graph uses ``com.microsoft.QAttention``, which OpenVINO does not read; a graph of plain
``DynamicQuantizeLinear + MatMulInteger`` runs ~3x slower in OpenVINO than in ORT; and int8 weights
decompressed in OpenVINO's kernels (``Constant(i8) -> Convert -> Multiply``) are 1.2-1.5x slower than bf16
weights on AMX. Real int8 activations would need a calibrated static quantisation (NNCF), not done here.

Sequence lengths are padded up to a multiple of ``SEQ_BUCKET`` (masked, so the vectors do not change): the
CPU plugin compiles kernels per input shape and caches them, and fewer shapes is faster (measured ~15%).

Unlike ``OnnxEncoder``, it does not survive ``fork``: OpenVINO's threads are gone in the child (inference
hangs, compiling anew crashes), so a forked child gets a clear error; load the Embedder after forking
(``tracuu serve --workers`` does: each worker builds its app).

Built once into ``<cache>/openvino/<key>/openvino-bf16/model.xml`` (+ ``model.bin``, memory-mapped by
OpenVINO), keyed by the source checksum, this recipe's version and OpenVINO's version. Building needs torch
and transformers (the export); running needs ``openvino`` and the tokenizer only.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.compact_tokenizer import load_compact_tokenizer
from models.onnx_backend import OnnxEncoder, OnnxOptions, export_fp32
from tracuu.cache import build_once

RECIPE_VERSION = 1
BACKENDS = ("openvino-bf16",)
SEQ_BUCKET = 16
MODEL_FILE = "model.xml"
INFO_FILE = "tracuu_openvino.json"


def import_openvino() -> Any:
    """The ``openvino`` module, or an error that says how to get it."""
    try:
        import openvino
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "backend 'openvino-bf16' needs the optional openvino package: pip install 'tracuu[openvino]' "
            "(or choose another TRACUU_BACKEND, e.g. onnx-int8)"
        ) from exc
    return openvino


def _openvino_version() -> str:
    return str(import_openvino().__version__)


def _build(model_dir: Path, source_checksum: str, variant: str, out_dir: Path) -> None:
    ov = import_openvino()
    with tempfile.TemporaryDirectory(dir=out_dir) as work:
        raw = Path(work) / "raw.onnx"
        export_fp32(model_dir, raw)
        model = ov.Core().read_model(str(raw))
        ov.save_model(model, str(out_dir / MODEL_FILE), compress_to_fp16=False)
    info = {
        "key": cache_key(source_checksum, variant),
        "variant": variant,
        "recipe_version": RECIPE_VERSION,
        "source_checksum": source_checksum,
        "openvino": _openvino_version(),
        "created_unix": int(time.time()),
    }
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def cache_key(source_checksum: str, variant: str) -> str:
    raw = f"{source_checksum}\0ovrecipe{RECIPE_VERSION}\0{variant}\0openvino{_openvino_version()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def ensure_openvino_model(model_dir: Path, source_checksum: str, variant: str, cache_dir: Path) -> Path:
    """Path to ``<variant>/model.xml`` for ``model_dir``, built on first use (~1 min, once)."""
    if variant not in BACKENDS:
        raise ValueError(f"unknown OpenVINO backend {variant!r}; expected one of {BACKENDS}")
    import_openvino()
    dest = cache_dir / "openvino" / cache_key(source_checksum, variant) / variant
    build_once(dest, dest.parent.name, lambda tmp: _build(model_dir, source_checksum, variant, tmp))
    return dest / MODEL_FILE


class OpenVinoEncoder(OnnxEncoder):
    """The built-in model on OpenVINO's CPU plugin: ``OnnxEncoder``'s tokenising, truncation, token-budget
    batching and worker threads, with one OpenVINO stream (and infer request per thread) per worker."""

    def _open(self) -> None:
        ov = import_openvino()
        core = ov.Core()
        opts = self.options
        config = {
            "INFERENCE_NUM_THREADS": opts.threads * opts.workers,
            "NUM_STREAMS": opts.workers,
            "INFERENCE_PRECISION_HINT": "bf16",  # OpenVINO's default on AMX CPUs, made explicit; f32 without bf16
            "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0,  # no int8 activations: no batch-mate effect
            "ENABLE_HYPER_THREADING": False,
        }
        self.compiled = core.compile_model(core.read_model(str(self.path)), "CPU", config)
        self.precision = self.compiled.get_property("INFERENCE_PRECISION_HINT").to_string()  # "bf16" / "f32"
        self.dimension = int(self.compiled.output(0).get_partial_shape()[-1].get_length())
        self._local = threading.local()
        self._pid = os.getpid()
        # One inference here, on one thread: the first call into OpenVINO's Python bindings initialises numpy's API
        # under a C++ static guard while holding the GIL, and two worker threads making that first call together
        # deadlocked (one holding the guard waiting for the GIL, the other holding the GIL waiting for the guard).
        self._run(self.token_ids([""]))

    def _pad(self, seqs: Sequence[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """``OnnxEncoder._pad``, then masked padding up to a multiple of ``SEQ_BUCKET`` (fewer shapes to compile)."""
        ids, mask = super()._pad(seqs)
        extra = -ids.shape[1] % SEQ_BUCKET
        if extra == 0:
            return ids, mask
        pad = np.full((ids.shape[0], extra), self.tokenizer.pad, dtype=np.int64)
        return np.hstack([ids, pad]), np.hstack([mask, np.zeros_like(pad)])

    def _run(self, seqs: Sequence[list[int]]) -> np.ndarray:
        if os.getpid() != self._pid:  # OpenVINO's threads do not survive fork (module docstring)
            raise RuntimeError(
                "an openvino-bf16 encoder cannot run in a forked child: load the Embedder after the fork"
            )
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        ids, mask = self._pad(seqs)
        request.infer({0: ids, 1: mask}, share_inputs=True)
        return np.array(request.get_output_tensor(0).data, dtype=np.float32, copy=True)

    @classmethod
    def load(
        cls, model_dir: Path, source_checksum: str, variant: str, cache_dir: Path, options: OnnxOptions | None = None
    ) -> OpenVinoEncoder:
        """The ``variant`` model of ``model_dir`` (built into ``cache_dir`` on first use) and its tokenizer."""
        path = ensure_openvino_model(model_dir, source_checksum, variant, cache_dir)
        return cls(path, model_dir, load_compact_tokenizer(model_dir, cache_dir), options)
