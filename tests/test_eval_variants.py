"""`tracuu eval --keywords N --typos --by-lang`: short queries of rare words, one seeded typo, metrics per language."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from tracuu_cli.variants import keywords, misspell, with_typo

SAMPLE = Path(__file__).parent.parent / "eval" / "sample"
FREQUENCY = {"thị": 40, "xã": 30, "quảng": 12, "trị": 12, "phát": 25, "triển": 25, "đảng": 50, "viên": 50}


def frequency(word: str) -> int:
    return FREQUENCY.get(word.lower(), 0 if word.isdigit() else 100)


def _damerau_one(a: str, b: str) -> bool:
    """Is `b` one deletion, insertion, substitution or swap of neighbours away from `a`?"""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]])
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def test_keywords_keep_the_rarest_words_in_their_order() -> None:
    query = "Thị xã Quảng Trị phát triển được bao nhiêu đảng viên mới trong năm 2021?"
    assert keywords(query, 3, frequency) == "Quảng Trị 2021"
    assert keywords(query, 1, frequency) == "2021"
    assert keywords("đảng viên", 5, frequency) == "đảng viên"  # fewer words than asked: all of them


def test_a_typo_is_one_seeded_edit_in_the_rarest_word_of_four_letters_or_more() -> None:
    query = "Thị xã Quảng Trị 2021"  # rarest: 2021 (a number), then Quảng (5 letters), Trị (3)
    typed = with_typo(query, frequency)
    assert typed == with_typo(query, frequency)  # the same edit in every run
    before, after = query.split(), typed.split()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [2] and _damerau_one("Quảng", after[2]), typed
    assert with_typo("Thị xã Trị", frequency) == "Thị xã Trị"  # no word of 4+ letters: as typed
    assert with_typo(query, frequency, seed=1) != typed or with_typo(query, frequency, seed=2) != typed


def test_misspell_makes_every_kind_of_edit_and_always_changes_the_word() -> None:
    rng = random.Random(7)
    kinds: Counter[str] = Counter()
    for word in ["Quảng", "viên", "Messi", "đảng", "aabb"] * 40:
        typed = misspell(word, rng)
        assert _damerau_one(word, typed), (word, typed)
        kinds[{-1: "deletion", 1: "insertion"}.get(len(typed) - len(word), "same length")] += 1
    assert kinds["deletion"] and kinds["insertion"] and kinds["same length"]


def test_eval_command_searches_keyword_queries_with_typos(
    sample_index: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """The queries searched are the keyword cut of each question, then its typo; --by-lang splits the report."""
    from indexer.format.lexical import LexicalIndex
    from indexer.format.segments import Snapshot
    from retrieval.searcher import Searcher
    from tracuu_cli import main as cli
    from tracuu_cli.evaluate import load_queries
    from tracuu_cli.variants import word_frequency

    searched: list[str] = []
    real_search = Searcher.search

    def recording(self, params):
        searched.append(params.q)
        return real_search(self, params)

    monkeypatch.setattr(Searcher, "search", recording)
    questions = load_queries(SAMPLE / "queries.vi.jsonl") + load_queries(SAMPLE / "queries.en.jsonl")
    lexical = LexicalIndex(Snapshot.current(sample_index).segments)
    rarity = word_frequency(lexical.document_frequency, lexical.n_docs)
    argv = ["eval", "--index", str(sample_index), "--qrels", str(SAMPLE / "qrels.tsv"), "--mode", "lexical"]
    for extra in (["--keywords", "3"], ["--keywords", "3", "--typos"]):
        vi = [*argv, "--queries", str(SAMPLE / "queries.vi.jsonl"), "--json", *extra]
        assert cli.main(vi) == 0
        report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert report["queries"] == 27 and "by_lang" not in report
    cut = [keywords(text, 3, rarity) for _, text in questions[:27]]
    assert all(len(q.split()) <= 3 for q in cut)
    assert searched == cut + [with_typo(q, rarity) for q in cut]
    assert sum(a != b for a, b in zip(cut, searched[27:], strict=True)) >= 20  # most have a word of 4+ letters

    both = tmp_path / "both.jsonl"  # the Vietnamese and the English questions in one file, no lang fields
    both.write_text("".join((SAMPLE / f"queries.{lang}.jsonl").read_text(encoding="utf-8") for lang in ("vi", "en")))
    assert cli.main([*argv, "--queries", str(both), "--json", "--by-lang"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {lang: part["queries"] for lang, part in report["by_lang"].items()} == {"vi": 27, "en": 25}
    assert report["queries"] == 52
    assert cli.main([*argv, "--queries", str(both), "--keywords", "0"]) == cli.EXIT_BAD_INPUT
