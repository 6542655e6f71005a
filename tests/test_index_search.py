"""Index the five samples for real, then search them: the right article comes back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from searching import search

from indexer.format import layout
from indexer.format.segments import version_vectors

SAMPLE_QUESTIONS = Path(__file__).parent.parent / "eval" / "sample"


def _sample_questions(language: str) -> list[tuple[str, str]]:
    """(question, article id) pairs of the question set written about corpus/ (eval/sample)."""
    from tracuu_cli.evaluate import load_qrels, load_queries

    qrels = load_qrels(SAMPLE_QUESTIONS / "qrels.tsv")
    queries = load_queries(SAMPLE_QUESTIONS / f"queries.{language}.jsonl")
    return [(text, next(iter(qrels[qid]))) for qid, text in queries]


QUESTIONS = _sample_questions("vi")
ENGLISH_QUESTIONS = _sample_questions("en")


@pytest.mark.parametrize(("question", "doc_id"), QUESTIONS)
def test_question_finds_its_article_in_top_3(searcher, question: str, doc_id: str) -> None:
    result = search(searcher, question, k=10)
    top_docs = []
    for hit in result["hits"]:
        if hit["doc_id"] not in top_docs:
            top_docs.append(hit["doc_id"])
    assert doc_id in top_docs[:3], (question, top_docs)


def test_hits_carry_contract_fields(searcher) -> None:
    result = search(searcher, "kết quả xây dựng Đảng năm 2021", k=5)
    assert result["returned"] == len(result["hits"]) == 5 <= result["total"]
    assert result["took_ms"] > 0
    for rank, hit in enumerate(result["hits"], 1):
        assert hit["rank"] == rank
        assert hit["chunk_id"].startswith(hit["doc_id"] + "#")
        assert hit["title"] and hit["text"]
        for key in ("score", "source", "url", "published", "author", "lang", "snippet"):
            assert key in hit
    scores = [h["score"] for h in result["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_passage_offsets_point_into_the_article(searcher) -> None:
    from indexer.readers import read_scraped_file

    hit = search(searcher, "Vĩnh Bảo 9.295 đảng viên", k=1)["hits"][0]
    article = read_scraped_file(Path("corpus") / f"{hit['doc_id']}.txt")
    assert article.text[hit["start"] : hit["end"]] == hit["text"]


def test_filters_keep_only_matching_hits_without_losing_depth(searcher) -> None:
    only_2018 = search(searcher, "xây dựng Đảng", k=10, date_from="2018-01-01", date_to="2018-12-31")
    assert only_2018["hits"], "a filtered search still finds the 2018 article"
    assert {h["published"][:4] for h in only_2018["hits"]} == {"2018"}
    sources = {h["source"] for h in search(searcher, "đảng viên", k=50)["hits"] if h["source"]}
    source = sorted(sources)[0]
    filtered = search(searcher, "đảng viên", k=10, source=source)
    assert filtered["hits"] and {h["source"] for h in filtered["hits"]} == {source}
    assert search(searcher, "đảng viên", k=10, lang="en")["hits"] == []
    # The same filter again is answered from the filter cache, with the same hits, and all modes agree.
    lookups = searcher._filtered_ids.cache_info().misses
    again = search(searcher, "đảng viên", k=10, source=source)
    assert searcher._filtered_ids.cache_info().misses == lookups
    assert [h["chunk_id"] for h in again["hits"]] == [h["chunk_id"] for h in filtered["hits"]]
    for mode in ("dense", "lexical"):
        hits = search(searcher, "đảng viên", k=10, source=source, mode=mode)["hits"]
        assert hits and {h["source"] for h in hits} == {source}


def test_snippet_highlights_with_and_without_tone_marks(searcher) -> None:
    hit = search(searcher, "Vĩnh Bảo", k=1)["hits"][0]
    assert "<mark>Vĩnh Bảo</mark>" in hit["snippet"]  # a query phrase is one mark
    hit = search(searcher, "vinh bao dang vien", k=3)["hits"][0]
    assert "<mark>" in hit["snippet"]


def test_manifest_records_model_and_layout(sample_index: Path, embedder) -> None:
    version = layout.current_version(sample_index)
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["model"] == embedder.identity
    assert manifest["dimension"] == embedder.dim == 384
    assert manifest["counts"]["articles"] == 5
    assert manifest["counts"]["passages"] > 5
    assert {"faiss-cpu", "bm25s", "onnxruntime", "numpy"} <= set(manifest["libraries"])
    assert not list(sample_index.glob(layout.TMP_PREFIX + "*"))


def test_searching_with_another_model_is_refused(sample_index: Path, embedder) -> None:
    from retrieval.searcher import ModelMismatch, Searcher

    class OtherModel:
        identity = {**embedder.identity, "name": "someone/other-model", "revision_or_checksum": "0" * 64}

    with pytest.raises(ModelMismatch, match="other-model"):
        Searcher(sample_index, embedder=OtherModel())


def _top_docs(searcher, query: str) -> list[str]:
    hits = search(searcher, query, k=10)["hits"]
    return list(dict.fromkeys(h["doc_id"] for h in hits))


@pytest.mark.parametrize(("question", "doc_id"), QUESTIONS)
def test_question_typed_without_tone_marks_finds_its_article(searcher, question: str, doc_id: str) -> None:
    from tracuu.text.normalise import fold

    result = search(searcher, fold(question), k=10)
    assert result["interpreted_query"], "the marks were restored"
    assert result["query_lang"] == "vi"
    assert doc_id in _top_docs(searcher, fold(question))[:3]


@pytest.mark.parametrize(("question", "doc_id"), QUESTIONS)
def test_question_typed_with_some_tone_marks_finds_its_article(searcher, question: str, doc_id: str) -> None:
    from tracuu.text.normalise import fold_every_other_marked_word

    typed = fold_every_other_marked_word(question)
    result = search(searcher, typed, k=10)
    assert result["interpreted_query"], "the missing marks were restored"
    assert doc_id in _top_docs(searcher, typed)[:3]


@pytest.mark.parametrize(("question", "doc_id"), ENGLISH_QUESTIONS)
def test_english_question_finds_its_article(searcher, question: str, doc_id: str) -> None:
    result = search(searcher, question, k=10)
    assert result["query_lang"] == "en" and result["interpreted_query"] is None
    assert doc_id in _top_docs(searcher, question)[:3]


def test_hybrid_reranks_with_the_query_moved_towards_the_first_fused_passage(sample_index: Path, embedder) -> None:
    """Pseudo-relevance feedback, recomputed by hand from the stored vectors: fuse the two legs, move the
    query vector towards the first passage, re-score every candidate exactly, fuse again."""
    import numpy as np

    from retrieval.fusion import convex_fusion
    from retrieval.searcher import FEEDBACK_LEXICAL_DEPTH, FUSION_DEPTH, LEXICAL_WEIGHT, Searcher

    searcher = Searcher(sample_index, embedder=embedder, feedback=0.5)
    plain = Searcher(sample_index, embedder=embedder, feedback=0.0)
    query, depth = "kết nạp đảng viên mới", 30
    weights = [1 - LEXICAL_WEIGHT, LEXICAL_WEIGHT]
    dense = [(c.id, c.score) for c in plain.nearest(query, FUSION_DEPTH)]
    lexical = plain.lexical.search(query, FUSION_DEPTH, None)
    first_fused = convex_fusion([dense, lexical], weights, "spread", FUSION_DEPTH)
    assert [(c.id, c.score) for c in plain._rank(query, "hybrid", depth, None).ranked] == first_fused[:depth]

    vectors, ids = version_vectors(layout.current_version(sample_index))
    row = {int(i): n for n, i in enumerate(ids)}
    moved = embedder.encode_query(query) + 0.5 * vectors[row[first_fused[0][0]]]
    moved /= np.linalg.norm(moved)
    candidates = sorted({first_fused[0][0]} | {pid for pid, _ in dense + lexical[:FEEDBACK_LEXICAL_DEPTH]})
    rescored = sorted(((pid, float(vectors[row[pid]] @ moved)) for pid in candidates), key=lambda x: (-x[1], x[0]))
    expected = convex_fusion([rescored, lexical], weights, "spread", FUSION_DEPTH)[:depth]
    got = searcher._rank(query, "hybrid", depth, None).ranked
    assert [c.id for c in got] == [pid for pid, _ in expected]
    assert [c.score for c in got] == pytest.approx([score for _, score in expected], abs=1e-5)
    assert [c.id for c in got] != [pid for pid, _ in first_fused[:depth]]  # it does re-rank


def test_an_english_query_anchors_feedback_on_a_passage_holding_its_names(searcher, monkeypatch) -> None:
    """Feedback moves the query towards a passage that names Vĩnh Bảo, not towards whichever passage the
    cross-lingual dense leg put first (another district's report on some machines)."""
    anchors: list[int] = []
    feedback_leg = searcher._feedback_leg

    def recording(vector, first_id, candidate_ids):
        anchors.append(first_id)
        return feedback_leg(vector, first_id, candidate_ids)

    monkeypatch.setattr(searcher, "_feedback_leg", recording)
    searcher.rank("How many party cells does the Vinh Bao district Party organisation have?")
    assert anchors
    anchor = searcher.store.passages(anchors)[anchors[0]]
    assert "Vĩnh Bảo" in anchor.title + anchor.text


def test_hybrid_runs_its_lexical_leg_while_the_query_is_embedded(sample_index: Path, embedder, monkeypatch) -> None:
    """The lexical leg of a hybrid search waits here until the query is being embedded: it returns in time only
    when the two legs run at once (one after the other it would wait for an embedding that comes after it)."""
    import threading

    from retrieval import searcher as searcher_module
    from retrieval.searcher import Searcher

    question = QUESTIONS[0][0]
    one_after_the_other = [c.id for c in Searcher(sample_index, embedder=embedder).rank(question)]
    monkeypatch.setattr(searcher_module, "PARALLEL_LEGS_MIN", 0)  # the samples' leg is too small to hand off otherwise
    searcher = Searcher(sample_index, embedder=embedder)
    embedding = threading.Event()
    overlapped: list[bool] = []
    encode, query = searcher._encode_query, searcher.lexical.query

    def encode_query(text: str):
        embedding.set()
        return encode(text)

    def lexical_query(*args, **kwargs):
        overlapped.append(embedding.wait(timeout=20))
        return query(*args, **kwargs)

    monkeypatch.setattr(searcher, "_encode_query", encode_query)
    monkeypatch.setattr(searcher.lexical, "query", lexical_query)
    assert [c.id for c in searcher.rank(question)] == one_after_the_other
    assert overlapped and all(overlapped)


@pytest.mark.parametrize(
    "params",
    [
        {},  # hybrid: both legs, the feedback step and the relevance floor read the query's embedding
        {"mode": "dense"},
        {"q": "kết nạp đảng viên năm 2021"},  # a period: searched again among that time's passages
        {"sort": "date"},  # every article's passages scored against the query
        {"sort": "date", "group": "passage", "mode": "lexical"},
    ],
)
def test_a_search_embeds_its_query_once_without_the_query_cache(
    sample_index: Path, embedder, monkeypatch, params: dict
) -> None:
    """Embedding is most of a search's cost; a server with the query cache off (`TRACUU_QUERY_CACHE=0`) had
    paid it twice per search (the relevance floor embedded the query again), and once per article sorted by
    date. The hits are those of a searcher with the cache on."""
    from retrieval.searcher import Searcher
    from tracuu.settings import Settings

    searcher = Searcher(sample_index, embedder=embedder, settings=Settings(query_cache=0))
    encode, embedded = searcher._encode_query, []

    def encode_query(text: str):
        embedded.append(text)
        return encode(text)

    monkeypatch.setattr(searcher, "_encode_query", encode_query)
    asked = {"q": "ket nap dang vien moi", "k": 10, **params}
    result = search(searcher, **asked)
    assert len(embedded) == 1, embedded
    cached = search(Searcher(sample_index, embedder=embedder), **asked)
    assert [h["chunk_id"] for h in result["hits"]] == [h["chunk_id"] for h in cached["hits"]]


def test_searcher_is_freed_by_reference_counting(sample_index: Path, embedder) -> None:
    """A reload drops the old Searcher when its last request ends; no reference cycle may keep it (and its
    mapped index files) alive until a garbage collection."""
    import gc
    import weakref

    from retrieval.searcher import Searcher

    gc.disable()
    try:
        searcher = Searcher(sample_index, embedder=embedder)
        search(searcher, "đảng viên", k=5, source="Báo Quảng Trị")  # fills the filter cache
        ref = weakref.ref(searcher)
        del searcher
        assert ref() is None
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("language", "typing"),
    [("vi", "as written"), ("vi", "without marks"), ("vi", "half the marks"), ("en", "as written")],
)
def test_sample_question_set_meets_the_quality_bars(searcher, language: str, typing: str) -> None:
    """Issue 3's bars on the questions written about corpus/: nDCG@10 >= 0.89 and success@1 >= 0.96 in the
    default mode, with tone marks, without them, with every second one dropped and in English, and no worse
    than the dense leg alone."""
    from tracuu.text.normalise import fold, fold_every_other_marked_word
    from tracuu_cli.evaluate import evaluate, load_qrels, load_queries, searcher_ranker

    typed = {"as written": None, "without marks": fold, "half the marks": fold_every_other_marked_word}[typing]
    queries = load_queries(SAMPLE_QUESTIONS / f"queries.{language}.jsonl")
    qrels = load_qrels(SAMPLE_QUESTIONS / "qrels.tsv")
    hybrid = evaluate(searcher_ranker(searcher, "hybrid"), queries, qrels, typed=typed)
    dense = evaluate(searcher_ranker(searcher, "dense"), queries, qrels, typed=typed)
    assert hybrid["queries"] == len(queries)
    assert hybrid["ndcg@10"] >= 0.89 and hybrid["success@1"] >= 0.96, hybrid
    assert hybrid["ndcg@10"] >= dense["ndcg@10"], (hybrid, dense)


def test_eval_command_scores_the_queries_as_typed_folded_or_half_folded(
    sample_index: Path, capsys, monkeypatch
) -> None:
    """`tracuu eval --json` per CONTRACT.md; --fold-queries and --fold-half change how each query is typed
    (the real evaluation runs; the wrapper only records which typing it was given), and they are exclusive."""
    from tracuu.text import normalise as textnorm
    from tracuu_cli import evaluate
    from tracuu_cli import main as cli

    given = []
    real_evaluate = evaluate.evaluate

    def recording(*args, **kwargs):
        given.append(args[4] if len(args) > 4 else kwargs.get("typed"))
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(evaluate, "evaluate", recording)
    argv = ["eval", "--index", str(sample_index), "--queries", str(SAMPLE_QUESTIONS / "queries.vi.jsonl")]
    argv += ["--qrels", str(SAMPLE_QUESTIONS / "qrels.tsv"), "--mode", "dense", "--json"]
    reports = {}
    for typing in ("", "--fold-queries", "--fold-half"):
        assert cli.main(argv + [typing] if typing else argv) == 0
        reports[typing] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    contract = {"queries", "ndcg@10", "mrr@10", "success@1", "success@5", "success@10", "success@100", "recall@100"}
    assert all(contract <= set(report) for report in reports.values())
    assert {report["queries"] for report in reports.values()} == {len(QUESTIONS)}
    assert given == [None, textnorm.fold, textnorm.fold_every_other_marked_word]
    assert reports[""]["success@1"] >= 0.96
    assert cli.main(argv + ["--fold-queries", "--fold-half"]) == cli.EXIT_BAD_INPUT  # exclusive: one line, exit 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_evaluate_searches_each_query_as_typed() -> None:
    from tracuu.text.normalise import fold_every_other_marked_word
    from tracuu_cli.evaluate import evaluate

    searched: list[str] = []

    def rank(query: str) -> list[str]:
        searched.append(query)
        return ["a"]

    report = evaluate(rank, [("q1", "kết nạp đảng viên mới")], {"q1": {"a": 1}}, typed=fold_every_other_marked_word)
    assert searched == ["kết nap đảng vien mới"]
    assert report["success@1"] == 1.0


def test_sorted_set_helpers_agree_with_numpy() -> None:
    import numpy as np

    from retrieval.searcher import in_sorted, sorted_union

    rng = np.random.default_rng(3)
    for _ in range(50):
        many = np.unique(rng.integers(0, 500, rng.integers(0, 300)))
        few = np.unique(rng.integers(0, 600, rng.integers(0, 20)))
        assert sorted_union(many, few).tolist() == np.union1d(many, few).tolist()
        assert in_sorted(many, few).tolist() == np.isin(few, many).tolist()
