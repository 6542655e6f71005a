"""Highlighting: query phrases and rare words are marked, pieces of words, stop words and digits of longer
numbers are not, and nothing but <mark> is added to the escaped text (retrieval/highlight.py)."""

from __future__ import annotations

import html
import itertools
import re

import pytest

from retrieval.highlight import highlight, mark_ranges, marked_spans, query_terms, rarity
from tracuu.text.normalise import normalise
from tracuu.text.stopwords import STOPWORDS

PARTY = "Kết quả đoàn kết. Lễ kết nạp đảng viên mới của các chi bộ, kết nạp 12 đảng viên."
VINH_BAO = "Đảng bộ huyện Vĩnh Bảo có 9.295 đảng viên, bảo đảm sự lãnh đạo của Huyện ủy."
NUMBERS = "Tính đến tháng 12-2021 có 1.312 người, 9,295 tỷ đồng, 9295 hộ và 1 tổ; giai đoạn 2021-2025."
STORM = "Thiệt hại do bão Yagi rất lớn. Cơn bão số 3 đi qua. Yagi suy yếu."
MESSI = "Cầu thủ Messi ghi bàn. Messi sinh ra ở Rosario."
HOSTILE = "<script>alert('kết nạp')</script> \"đảng viên\" & <img src=x onerror=alert(1)> Kết nạp"

# (text, query as the searcher passes it, the marked spans)
CASES = {
    # with marks: "kết" of "kết quả" and "đoàn kết" is a piece of the query word "kết nạp", not it
    "marked query": (PARTY, "kết nạp đảng viên", ["kết nạp đảng viên", "kết nạp", "đảng viên"]),
    "marked phrase only": (PARTY, "Kết nạp", ["kết nạp", "kết nạp"]),
    # without marks: folded comparison, the phrase still one span
    "unmarked query": (PARTY, "ket nap dang vien", ["kết nạp đảng viên", "kết nạp", "đảng viên"]),
    # as the searcher passes a restored query: typed, a space, the restored form
    "typed and restored": (PARTY, "ket nap dang vien kết nạp đảng viên", ["kết nạp đảng viên", "kết nạp", "đảng viên"]),
    "mixed marks": (PARTY, "kết nap đảng vien", ["kết nạp đảng viên", "kết nạp", "đảng viên"]),
    # a marked query word matches only its own marks ("đang" is no "đảng"); "viên", after a stop word, is a
    # one-syllable query word
    "marks decide": (PARTY, "kết nạp đang viên", ["kết nạp", "viên", "kết nạp", "viên"]),
    # stop words at a phrase's ends are left out; stop words alone never marked
    "stop words trimmed": (PARTY, "của các chi bộ", ["chi bộ"]),
    "stop word query": (PARTY, "của", []),
    "stop words inside a phrase": (STORM, "thiệt hại do bão", ["Thiệt hại do bão", "bão"]),
    # an English query over Vietnamese text: the names it types without marks, as phrases
    "english query": (VINH_BAO, "How many party members does Vinh Bao district have?", ["Vĩnh Bảo"]),
    "english query, number": (VINH_BAO, "Vinh Bao has 9,295 party members", ["Vĩnh Bảo", "9.295"]),
    # numbers: whole tokens only, "9.295" and "9,295" are one number, a hyphen separates two
    "lone digit": (NUMBERS, "1 tổ", ["1 tổ"]),
    "lone digit alone": (NUMBERS, "có 1", ["1"]),
    "digit group is no number": (NUMBERS, "312 người", []),
    "separators either way": (NUMBERS, "9.295", ["9,295"]),
    "no separator, another number": (NUMBERS, "9295", ["9295"]),
    "year of a range": (NUMBERS, "năm 2021", ["2021", "2021"]),
    "range": (NUMBERS, "2021-2025", ["2021", "2021-2025"]),
    "month": (NUMBERS, "tháng 12-2021", ["tháng 12-2021", "2021"]),
    # one-syllable query words and names stand alone; the first word's capital may be the keyboard's
    "one-syllable words": (STORM, "lũ và bão", ["bão", "bão"]),
    "syllable of a longer word": (STORM, "thiệt hại do bão gây ra", ["Thiệt hại do bão"]),
    "name": (STORM, "bão Yagi", ["bão Yagi", "Yagi"]),
    "first-word name inside a sentence only": (MESSI, "Messi thuận chân nào", ["Messi"]),
    "first-word name and phrase": (MESSI, "Messi sinh năm nào", ["Messi", "Messi sinh"]),
    "two phrases side by side": (VINH_BAO, "huyện Vĩnh Bảo đảng bộ", ["Đảng bộ", "huyện Vĩnh Bảo"]),
    "punctuation ends a query phrase": (VINH_BAO, "huyện, Vĩnh Bảo", ["huyện", "Vĩnh Bảo", "Huyện"]),
    # hostile text: escaped, only <mark> added
    "hostile text": (HOSTILE, "kết nạp đảng viên", ["kết nạp", "đảng viên", "Kết nạp"]),
    "hostile query": (HOSTILE, "<script>alert(1)</script>", ["script", "alert", "script", "alert", "1"]),
}

_STOPWORDS = STOPWORDS | {normalise(w) for w in STOPWORDS}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)+(?!\w)|\d+")


def check_invariants(text: str, query: str) -> str:
    """Escaped text, only <mark> added; no span only stop words; no span a piece of a number token."""
    snippet = highlight(text, query)
    assert html.unescape(snippet.replace("<mark>", "").replace("</mark>", "")) == text
    assert re.sub(r"</?mark>", "", snippet) == html.escape(text)
    ranges = mark_ranges(text, query)
    assert [text[a:b] for a, b in ranges] == marked_spans(snippet)
    numbers = [(m.start(), m.end()) for m in _NUMBER.finditer(text)]
    for start, end in ranges:
        syllables = re.findall(r"\w+", text[start:end])
        assert syllables, text[start:end]
        assert not all(normalise(s).lower() in _STOPWORDS for s in syllables), text[start:end]
        for a, b in numbers:  # a span starts and ends outside a number or at its edges
            assert not (a < start < b or a < end < b), (text[start:end], text[a:b])
    return snippet


@pytest.mark.parametrize("text, query, expected", CASES.values(), ids=CASES.keys())
def test_marks(text: str, query: str, expected: list[str]) -> None:
    assert marked_spans(check_invariants(text, query)) == expected


def test_every_text_with_every_query_keeps_the_invariants() -> None:
    texts = {text for text, _, _ in CASES.values()}
    queries = {query for _, query, _ in CASES.values()} | {"1", "2021", "và của các", "Đảng", "dang"}
    for text, query in itertools.product(texts, queries):
        check_invariants(text, query)


def test_one_phrase_one_span() -> None:
    assert highlight("Lễ kết nạp đảng viên", "ket nap dang vien") == "Lễ <mark>kết nạp đảng viên</mark>"


def test_hostile_text_is_escaped() -> None:
    snippet = highlight(HOSTILE, "kết nạp")
    assert "<script>" not in snippet and "<img" not in snippet
    assert "&lt;script&gt;alert(&#x27;<mark>kết nạp</mark>&#x27;)&lt;/script&gt;" in snippet
    assert re.findall(r"<[^>]*>", snippet) == ["<mark>", "</mark>"] * 2


def test_rare_marks_a_syllable_of_a_longer_query_word() -> None:
    def rare(syllable: str) -> bool:
        return syllable in {"nạp", "nap"}

    text = "Kết quả: nạp tiền và kết nạp đảng viên."
    assert marked_spans(highlight(text, "kết nạp", rare=rare)) == ["nạp", "kết nạp"]
    assert marked_spans(highlight(text, "kết nạp")) == ["kết nạp"]
    assert marked_spans(highlight(text, "ket nap", rare=rare)) == ["nạp", "kết nạp"]


class FakeLexical:
    """The parts of a LexicalIndex that `rarity` reads: the vocabulary, and the document frequencies."""

    def __init__(self, doc_freq: dict[str, int], n_docs: int) -> None:
        self.vocab = set(doc_freq)
        self.doc_freq = doc_freq
        self.n_docs = n_docs

    def document_frequency(self, token: str) -> int:
        return self.doc_freq.get(token, 0)


def test_rarity_from_document_frequencies() -> None:
    lexical = FakeLexical({"w:kết": 300, "f:ket": 320, "w:nạp": 5, "f:nap": 9}, n_docs=1000)
    rare = rarity(lexical)
    assert rare is not None
    assert rare("nạp") and rare("nap") and not rare("kết") and not rare("ket")
    assert rare("yagi")  # in no passage
    assert rarity(FakeLexical({"w:kết": 3}, n_docs=10)) is None  # too few passages to tell


def test_query_reading_is_memoised() -> None:
    query = "kết nạp đảng viên năm 2021 ở Vĩnh Bảo"
    highlight(PARTY, query)
    hits = query_terms.cache_info().hits
    for _ in range(5):
        highlight(VINH_BAO, query)
    assert query_terms.cache_info().hits == hits + 5


def test_ranges_are_ordered_and_disjoint() -> None:
    for text, query, _ in CASES.values():
        ranges = mark_ranges(text, query)
        assert all(a < b <= c < d for (a, b), (c, d) in itertools.pairwise(ranges))
