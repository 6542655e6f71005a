"""`tracuu eval --group article --answers`: article ranking as the page shows it, and the answer sentence checked."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from tracuu_cli.evaluate import Ranked, answer_found, evaluate, load_answers, load_qrels, load_queries

SAMPLE = Path(__file__).parent.parent / "eval" / "sample"
CORPUS = Path(__file__).parent.parent / "corpus"
CONTRACT = {"queries", "ndcg@10", "mrr@10", "success@1", "success@5", "success@10", "success@100", "recall@100"}
CONTRACT |= {"ms_per_query"}


def _eval_json(capsys, argv: list[str]) -> dict:
    from tracuu_cli import main as cli

    assert cli.main(argv) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_answer_found_ignores_case_composition_and_spacing() -> None:
    sentence = "Năm 2021, Huyện ủy  kết nạp mới được\n176 ĐẢNG VIÊN; trao tặng Huy hiệu Đảng."
    assert answer_found(sentence, ["176 đảng viên"])
    assert answer_found(unicodedata.normalize("NFD", sentence), ["176 đảng viên"])  # decomposed marks
    assert answer_found(sentence, ["nothing", unicodedata.normalize("NFD", "Huyện ủy kết nạp")])
    assert not answer_found(sentence, ["646 đảng viên"])
    assert not answer_found(None, ["176 đảng viên"])
    assert not answer_found(sentence, ["", "  "])  # an empty expected answer matches nothing


def test_answer_at_1_counts_the_queries_whose_first_hit_is_relevant() -> None:
    """answer@1 = right answers / queries with expected answers whose first article is relevant."""
    ranked = {
        "right": Ranked(["a", "b"], "Chi bộ Khu phố 7 có 47 ĐẢNG VIÊN."),  # relevant first, answer contains it
        "wrong": Ranked(["a"], "Khu phố 3 có 567 hộ."),  # relevant first, answer does not contain it
        "none": Ranked(["a"], None),  # relevant first, no answer marked: counted, wrong
        "plain": ["a"],  # a ranker that marks no answer (a peer): counted, wrong
        "second": Ranked(["b", "a"], "47 đảng viên"),  # first article not relevant: not counted
        "unasked": Ranked(["a"], "47 đảng viên"),  # no expected answer: not counted
        "missed": Ranked([], None),  # nothing found: not counted
    }
    queries = [(qid, qid) for qid in ranked]
    qrels = {qid: {"a": 1} for qid in ranked}
    expected = {qid: ["47 đảng viên"] for qid in ranked if qid != "unasked"}

    report = evaluate(lambda q: ranked[q], queries, qrels, answers=expected)

    assert report["answer_queries"] == 4
    assert report["answer@1"] == 0.25
    assert report["queries"] == len(ranked)
    assert report["success@1"] == pytest.approx(5 / 7, abs=1e-4)
    plain = evaluate(lambda q: ranked[q], queries, qrels)
    assert set(plain) == CONTRACT  # without answers: the contract's keys, nothing more
    assert evaluate(lambda q: ranked[q], [("second", "second")], qrels, answers=expected)["answer@1"] is None


def test_load_answers_reads_the_lines_and_refuses_a_bad_one(tmp_path: Path) -> None:
    good = tmp_path / "answers.jsonl"
    good.write_text('{"_id": 1, "answers": ["a", " "]}\n\n{"_id": "q2", "answers": []}\n', encoding="utf-8")
    assert load_answers(good) == {"1": ["a"]}  # ids as strings; a query with no answer is left out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"_id": "q1", "answers": "a"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        load_answers(bad)


def test_sample_answers_are_written_in_the_articles_for_every_question() -> None:
    """eval/sample/answers.jsonl: every Vietnamese and English question has answers, each as written in its
    relevant article (NFC, compared case-insensitively as answer@1 does)."""
    answers = load_answers(SAMPLE / "answers.jsonl")
    qrels = load_qrels(SAMPLE / "qrels.tsv")
    ids = [qid for lang in ("vi", "en") for qid, _ in load_queries(SAMPLE / f"queries.{lang}.jsonl")]
    assert sorted(answers) == sorted(ids)
    for qid, expected in answers.items():
        (doc_id,) = qrels[qid]
        article = (CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8")
        for answer in expected:
            assert answer == unicodedata.normalize("NFC", answer), (qid, answer)
            assert answer_found(article, [answer]), (qid, answer)


def test_eval_command_with_group_article_and_answers(sample_index: Path, capsys, monkeypatch) -> None:
    """`tracuu eval --group article --answers` searches with group=article (k=100 articles, one call a
    query) and prints the contract's keys plus answer@1 and answer_queries."""
    from retrieval.searcher import Searcher

    searched = []
    real_search = Searcher.search

    def recording(self, params):
        searched.append((params.group, params.k, params.offset))
        return real_search(self, params)

    monkeypatch.setattr(Searcher, "search", recording)
    queries = load_queries(SAMPLE / "queries.vi.jsonl")
    argv = ["eval", "--index", str(sample_index), "--queries", str(SAMPLE / "queries.vi.jsonl")]
    argv += ["--qrels", str(SAMPLE / "qrels.tsv"), "--json", "--group", "article"]

    report = _eval_json(capsys, [*argv, "--answers", str(SAMPLE / "answers.jsonl")])

    assert searched == [("article", 100, 0)] * len(queries)
    assert set(report) == CONTRACT | {"answer@1", "answer_queries"}
    assert report["queries"] == len(queries)
    # every question has answers, so the queries counted are those whose first article is relevant
    assert report["answer_queries"] == round(report["success@1"] * len(queries))
    assert report["answer@1"] is None or 0.0 <= report["answer@1"] <= 1.0
    assert report["success@1"] >= 0.9, report

    searched.clear()
    plain = _eval_json(capsys, argv)
    assert set(plain) == CONTRACT  # the keys of today's `tracuu eval --json`
    assert {group for group, _, _ in searched} == {"article"}
    passage = _eval_json(capsys, argv[:-2] + ["--answers", str(SAMPLE / "answers.jsonl")])
    assert {group for group, _, _ in searched[len(queries) :]} == {"passage"}  # the default
    assert set(passage) == CONTRACT | {"answer@1", "answer_queries"}


def test_eval_command_refuses_a_bad_answers_file(tmp_path: Path, capsys) -> None:
    from tracuu_cli import main as cli

    bad = tmp_path / "answers.jsonl"
    bad.write_text('{"_id": "vi01", "answers": [1]}\n', encoding="utf-8")
    argv = ["eval", "--index", str(tmp_path / "no-index"), "--queries", str(SAMPLE / "queries.vi.jsonl")]
    argv += ["--qrels", str(SAMPLE / "qrels.tsv"), "--answers", str(bad), "--json"]
    assert cli.main(argv) == cli.EXIT_BAD_INPUT  # before the index or the model is opened
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "answers.jsonl:1" in err
    assert cli.main([*argv[:-3], "--json", "--group", "paragraph"]) == cli.EXIT_BAD_INPUT
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("language", ["vi", "en"])
def test_article_ranking_is_no_worse_than_distinct_articles_of_passages(searcher, language: str) -> None:
    """On eval/sample, nDCG@10 of group=article (the articles as the page lists them) is not below that of
    the distinct articles of the passage ranking: grouping must not lose the best article."""
    from tracuu_cli.evaluate import searcher_ranker

    queries = load_queries(SAMPLE / f"queries.{language}.jsonl")
    qrels = load_qrels(SAMPLE / "qrels.tsv")
    answers = load_answers(SAMPLE / "answers.jsonl")
    article = evaluate(searcher_ranker(searcher, "hybrid", group="article"), queries, qrels, answers=answers)
    passage = evaluate(searcher_ranker(searcher, "hybrid"), queries, qrels, answers=answers)
    assert article["queries"] == passage["queries"] == len(queries)
    assert article["ndcg@10"] >= passage["ndcg@10"], (article, passage)
