"""OpenVINO backend for the default model (optional: ``pip install 'tracuu[openvino]'``).

Variants (``BACKENDS``):

* ``openvino-bf16``  the plain fp32 export (``onnx_backend.export_fp32``: BERT + mean pooling + L2 norm,
  without ONNX Runtime's fused operators, which OpenVINO cannot read) as an OpenVINO IR, run by the CPU
  plugin with inference precision bf16: its matrix products go to AMX (``brgemm_avx512_amx_bf16``) on CPUs
  that have it, layer norms and softmax stay f32. On a CPU without bf16 units OpenVINO runs it in f32 (the
  fp32 vectors, slower). ``OpenVinoEncoder.precision`` tells which, and ``Embedder.batching`` records it
  beside the index's identity. No activation is quantised, so a row does not depend on its batch-mates.
* ``openvino-int8``  (experimental) the same export, statically quantised by NNCF (``nncf.quantize``,
  transformer model type, mixed preset, SmoothQuant): int8 weights *and* activations at every MatMul, with
  scales calibrated once at build time on real Vietnamese text (``calibration_texts``), so they are constants:
  unlike onnx-int8, a row does not depend on its batch-mates. The rest (layer norms, softmax, GELU) runs in
  f32 on every CPU: bf16 there was slower on a CPU with avx512_bf16 but no AMX (docs/performance.md).

Why not ORT's int8 graph (measured on the 2-core Sapphire/Emerald Rapids class machine, docs/performance.md):
it uses ``com.microsoft.QAttention``, which OpenVINO does not read; a graph of plain
``DynamicQuantizeLinear + MatMulInteger`` runs ~3x slower in OpenVINO than in ORT; and int8 weights
decompressed in OpenVINO's kernels (``Constant(i8) -> Convert -> Multiply``) are 1.2-1.5x slower than bf16
weights on AMX. Real int8 activations need the calibrated static quantisation of ``openvino-int8``.

Sequence lengths are padded up to a multiple of ``SEQ_BUCKET`` (masked, so the vectors do not change): the
CPU plugin compiles kernels per input shape and caches them, and fewer shapes is faster (measured ~15%).

Unlike ``OnnxEncoder``, it does not survive ``fork``: OpenVINO's threads are gone in the child (inference
hangs, compiling anew crashes), so a forked child gets a clear error; load the Embedder after forking
(``tracuu serve --workers`` does: each worker builds its app).

Built once into ``<cache>/openvino/<key>/<variant>/model.xml`` (+ ``model.bin``, memory-mapped by
OpenVINO), keyed by the source checksum, this recipe's version and OpenVINO's version. Building needs torch
and transformers (the export), and for ``openvino-int8`` also ``nncf`` and the calibration texts (~1 min more);
running needs ``openvino`` and the tokenizer only.
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
from models.encoder import query_passage_prompts
from models.onnx_backend import OnnxEncoder, OnnxOptions, export_fp32
from tracuu.cache import build_once

RECIPE_VERSION = 1
BACKENDS = ("openvino-bf16", "openvino-int8")
# What runs outside the int8 matrix products: bf16 for the plain export (AMX), f32 for the quantised one.
PRECISION = {"openvino-bf16": "bf16", "openvino-int8": "f32"}
SEQ_BUCKET = 16
# Calibration of openvino-int8: the repository's sample report texts (corpus/*.txt, not in the wheel), cut
# into word windows of mixed lengths (short ones as queries), overlapping so that ~350 come out of 7.5k tokens.
CALIBRATION_DIR = Path(__file__).resolve().parents[1] / "corpus"
CALIBRATION_WINDOWS = (10, 35, 55, 90)  # words; 10-word windows get the query prompt
CALIBRATION_STRIDE = 18
MODEL_FILE = "model.xml"
INFO_FILE = "tracuu_openvino.json"


def import_openvino() -> Any:
    """The ``openvino`` module, or an error that says how to get it."""
    try:
        import openvino
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "the openvino backends need the optional openvino package: pip install 'tracuu[openvino]' "
            "(or choose another TRACUU_BACKEND, e.g. onnx-int8)"
        ) from exc
    return openvino


def _openvino_version() -> str:
    return str(import_openvino().__version__)


def calibration_texts(prompts: dict[str, str], corpus: Path = CALIBRATION_DIR) -> list[str]:
    """Prompted word windows of ``corpus/*.txt`` (title line skipped): what static int8 scales are fitted to."""
    files = sorted(corpus.glob("*.txt"))
    if not files:
        raise RuntimeError(f"openvino-int8 needs calibration texts in {corpus} (the repository's corpus/*.txt)")
    out: list[str] = []
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()[1:]
        words = " ".join(ln.strip() for ln in lines if ln.strip()).split()
        for k, start in enumerate(range(0, len(words), CALIBRATION_STRIDE)):
            size = CALIBRATION_WINDOWS[k % len(CALIBRATION_WINDOWS)]
            prompt = prompts["query"] if size == min(CALIBRATION_WINDOWS) else prompts["passage"]
            out.append(prompt + " ".join(words[start : start + size]))
    return out


def _quantize_int8(model: Any, model_dir: Path, cache_dir: Path) -> Any:
    """``model`` with NNCF's static int8 (fake-quantise nodes OpenVINO runs as int8 kernels)."""
    try:
        import nncf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("building openvino-int8 needs nncf: pip install nncf (running it does not)") from exc
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, AdvancedSmoothQuantParameters

    tokenizer = load_compact_tokenizer(model_dir, cache_dir)
    st = json.loads((model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    texts = calibration_texts(query_passage_prompts(st.get("prompts")))

    def sample(text: str) -> dict[str, np.ndarray]:
        ids = np.array([tokenizer.encode(text)[:512]], dtype=np.int64)
        return {"input_ids": ids, "attention_mask": np.ones_like(ids)}

    return nncf.quantize(
        model,
        nncf.Dataset(texts, sample),
        subset_size=len(texts),
        preset=nncf.QuantizationPreset.MIXED,
        model_type=nncf.ModelType.TRANSFORMER,
        # SmoothQuant (alpha 0.95 on MatMuls, NNCF's transformer default, made explicit): min cosine to fp32
        # 0.9955 with it, 0.9925 without, same speed (200 passages, docs/performance.md).
        advanced_parameters=AdvancedQuantizationParameters(
            smooth_quant_alphas=AdvancedSmoothQuantParameters(matmul=0.95)
        ),
    )


def _build(model_dir: Path, source_checksum: str, variant: str, out_dir: Path, cache_dir: Path) -> None:
    ov = import_openvino()
    with tempfile.TemporaryDirectory(dir=out_dir) as work:
        raw = Path(work) / "raw.onnx"
        export_fp32(model_dir, raw)
        model = ov.Core().read_model(str(raw))
        if variant == "openvino-int8":
            model = _quantize_int8(model, model_dir, cache_dir)
        ov.save_model(model, str(out_dir / MODEL_FILE), compress_to_fp16=False)
    info = {
        "key": cache_key(source_checksum, variant),
        "variant": variant,
        "recipe_version": RECIPE_VERSION,
        "source_checksum": source_checksum,
        "openvino": _openvino_version(),
        **({"nncf": _nncf_version()} if variant == "openvino-int8" else {}),
        "created_unix": int(time.time()),
    }
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def _nncf_version() -> str:
    import nncf

    return str(nncf.__version__)


def cache_key(source_checksum: str, variant: str) -> str:
    raw = f"{source_checksum}\0ovrecipe{RECIPE_VERSION}\0{variant}\0openvino{_openvino_version()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def ensure_openvino_model(model_dir: Path, source_checksum: str, variant: str, cache_dir: Path) -> Path:
    """Path to ``<variant>/model.xml`` for ``model_dir``, built on first use (~1 min, once)."""
    if variant not in BACKENDS:
        raise ValueError(f"unknown OpenVINO backend {variant!r}; expected one of {BACKENDS}")
    import_openvino()
    dest = cache_dir / "openvino" / cache_key(source_checksum, variant) / variant
    build_once(dest, dest.parent.name, lambda tmp: _build(model_dir, source_checksum, variant, tmp, cache_dir))
    return dest / MODEL_FILE


class OpenVinoEncoder(OnnxEncoder):
    """The built-in model on OpenVINO's CPU plugin: ``OnnxEncoder``'s tokenising, truncation, token-budget
    batching and worker threads, with one OpenVINO stream (and infer request per thread) per worker.
    The variant is the name of the directory ``path`` is in (``ensure_openvino_model``'s layout)."""

    def _open(self) -> None:
        ov = import_openvino()
        core = ov.Core()
        opts = self.options
        self.variant = self.path.parent.name
        config = {
            "INFERENCE_NUM_THREADS": opts.threads * opts.workers,
            "NUM_STREAMS": opts.workers,
            # bf16: OpenVINO's default on CPUs with bf16 units, made explicit; f32 without. int8: see PRECISION.
            "INFERENCE_PRECISION_HINT": PRECISION.get(self.variant, "bf16"),
            "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0,  # no run-time int8 activations: no batch-mate effect
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
                f"an {self.variant} encoder cannot run in a forked child: load the Embedder after the fork"
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
