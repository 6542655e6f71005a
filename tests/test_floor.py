"""No answer to nonsense (retrieval/floor.py): random letter strings get no hits, real questions keep theirs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pytest
from conftest import SHARED
from searching import search

from retrieval.contract import SearchParams
from retrieval.floor import is_nonsense

ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = [
    ROOT / "eval/sample/queries.vi.jsonl",
    ROOT / "eval/sample/queries.en.jsonl",
    ROOT / "eval/vi-news-en/queries.jsonl",
    SHARED / "eval/zalo-wikiqa-2019/queries.jsonl",
]


def letter_strings(n: int, seed: int = 20261202) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9))) for _ in range(k))
        for k in (rng.randint(1, 4) for _ in range(n))
    ]


def questions() -> list[str]:
    found = []
    for path in QUESTION_FILES:
        if path.is_file():
            found += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return found


@pytest.mark.parametrize(
    ("query", "nonsense"),
    [
        ("xyzzqw blorft", True),
        ("asdfgh qwerty zxcvbnm", True),
        ("fjdksla hgfd", True),
        ("xyzzqw 2021", False),  # a number is searched as it is
        ("xyzzqw kết nạp", False),  # a word of the index
        ("ket nap dang vien", False),  # Vietnamese without marks
        ("cryptocurrency regulations", False),  # English words the index does not hold: still words
        ("self-examination and self-correction", False),
        ("ab", False),  # too short to tell
    ],
)
def test_nonsense_is_told_from_words(searcher, query: str, nonsense: bool) -> None:
    assert is_nonsense(query, searcher.lexical.vocab, searcher.embedder.count_tokens) is nonsense


def test_letter_strings_are_nonsense_and_real_questions_are_not(searcher) -> None:
    strings = letter_strings(60)
    caught = sum(is_nonsense(q, searcher.lexical.vocab, searcher.embedder.count_tokens) for q in strings)
    assert caught >= 0.9 * len(strings), caught
    real = questions()
    assert len(real) > 100
    wrong = [q for q in real if is_nonsense(q, searcher.lexical.vocab, searcher.embedder.count_tokens)]
    assert wrong == []


def test_nonsense_gets_no_hits_and_floor_off_shows_the_nearest(searcher) -> None:
    result = searcher.search(SearchParams(q="xyzzqw blorft"))
    assert result.hits == [] and result.total == 0 and result.below_floor is True
    anyway = search(searcher, "xyzzqw blorft", 5, floor="off")
    assert anyway["hits"] and anyway["below_floor"] is False
    real = searcher.search(SearchParams(q="kết nạp đảng viên mới"))
    assert real.hits and real.below_floor is False


def test_the_api_and_the_page_say_so(live_server) -> None:
    body = httpx.get(live_server.url + "/api/search", params={"q": "xyzzqw blorft"}, timeout=60).json()
    assert body["hits"] == [] and body["total"] == 0 and body["below_floor"] is True
    page = httpx.get(live_server.url + "/", params={"q": "xyzzqw blorft"}, timeout=60).text
    assert "Không tìm thấy kết quả phù hợp" in page and "floor=off" in page
