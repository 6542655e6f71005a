"""Typo tolerance: unknown words corrected from a real lexical index's vocabulary, known words never."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.format.lexical import LexicalIndex, build_lexical
from retrieval.spelling import SpellingCorrector, edits
from tracuu.text.restore import ToneModel

SAMPLE = Path(__file__).parent.parent / "eval" / "sample"
PASSAGES = [
    ("Vĩnh Bảo kết nạp đảng viên", "Huyện ủy Vĩnh Bảo kết nạp 185 đảng viên mới trong năm 2022."),
    ("Hồ Hoàn Kiếm", "Hồ Hoàn Kiếm nằm ở trung tâm Hà Nội, bên hồ có đền Ngọc Sơn."),
    ("Hà Nội", "Hà Nội có nhiều hồ; Hồ Tây là hồ lớn nhất. Hàng quán quanh hồ đông khách."),
    ("Hàng Đào", "Phố Hàng Đào bán hàng vải; hàng hoá nhiều, hàng người mua đông."),
    ("Răng hàm", "Răng hàm mọc muộn."),
]


@pytest.fixture(scope="module")
def corrector(tmp_path_factory: pytest.TempPathFactory) -> SpellingCorrector:
    version = tmp_path_factory.mktemp("lexical")
    build_lexical(version, list(range(len(PASSAGES))), PASSAGES)
    lexical = LexicalIndex([version])
    tones = ToneModel()
    tones.learn_corpus(t for pair in PASSAGES for t in pair)
    return SpellingCorrector(lexical.vocab, lexical.document_frequency, tones.forms)


def test_edits_are_the_four_kinds_at_distance_one() -> None:
    found = edits("bao")
    assert {"ba", "bo", "ao"} <= found  # deletions
    assert {"abo", "boa"} <= found  # swaps of neighbours
    assert {"bac", "xao"} <= found  # substitutions
    assert {"baoo", "bbao", "biao"} <= found  # insertions
    assert "bao" not in found and "oab" not in found  # itself, and two edits away


@pytest.mark.parametrize(
    ("typed", "corrected"),
    [
        ("Vinh Baoo", "Vinh Bao"),  # an insertion
        ("Vinh Bao dang vin", "Vinh Bao dang vien"),  # a deletion
        ("Vinh Bao ket nqp", "Vinh Bao ket nap"),  # a substitution
        ("Vinh Bao ket npa dang vien", "Vinh Bao ket nap dang vien"),  # a swap
        ("Hồ Hoàn Kiếg", "Hồ Hoàn Kiếm"),  # typed with marks: corrected to the marked form it has
    ],
)
def test_an_unknown_word_one_edit_from_a_known_one_is_corrected(
    corrector: SpellingCorrector, typed: str, corrected: str
) -> None:
    assert corrector.correct(typed) == corrected


@pytest.mark.parametrize(
    ("typed", "corrected"),
    [("Vinhbao", "Vinh Bao"), ("vinhbao dang vien", "vinh bao dang vien"), ("Hoankiem", "Hoan Kiem")],
)
def test_two_words_typed_as_one_are_split(corrector: SpellingCorrector, typed: str, corrected: str) -> None:
    assert corrector.correct(typed) == corrected


@pytest.mark.parametrize("query", ["răng hàm", "rang ham", "hàm", "Hồ Tây", "Vĩnh Bảo", "hàng hoá", "ho tay"])
def test_known_words_are_never_corrected(corrector: SpellingCorrector, query: str) -> None:
    """ "hàm" is in one passage, "hàng" in three, one edit away: a word the index knows stays as typed."""
    assert corrector.correct(query) is None


@pytest.mark.parametrize(
    "query",
    ["xyzzqw", "2022", "Vinh Bao 185", "Vĩnh Bảo có bao nhiêu đảng viên?", "how many party members in Vinh Bao"],
)
def test_what_cannot_be_corrected_or_is_english_stays(corrector: SpellingCorrector, query: str) -> None:
    assert corrector.correct(query) is None


def test_no_sample_question_is_changed(searcher) -> None:
    """The questions about corpus/ (Vietnamese as written and without marks, English) come back unchanged."""
    from tracuu.text.normalise import fold

    questions = [
        json.loads(line)["text"]
        for lang in ("vi", "en")
        for line in (SAMPLE / f"queries.{lang}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(questions) == 52
    assert [q for q in questions + [fold(q) for q in questions] if searcher.spelling.correct(q)] == []


def test_search_runs_the_corrected_query_and_says_so(searcher) -> None:
    """ "Vinh Baoo" and "Vinhbao" find the Vĩnh Bảo article first, as "Vinh Bao" does; the result names the
    correction; exact=true searches as typed."""
    from retrieval.contract import SearchParams

    def search(q: str, **extra):
        return searcher.search(SearchParams.model_validate({"q": q, "k": 3, **extra}))

    clean = search("Vinh Bao co bao nhieu dang vien")
    assert clean.corrected_query is None
    for typed in ("Vinh Baoo co bao nhieu dang vien", "Vinhbao co bao nhieu dang vien"):
        result = search(typed)
        assert result.corrected_query == "Vinh Bao co bao nhieu dang vien", result.corrected_query
        assert result.interpreted_query == clean.interpreted_query == "Vĩnh Bảo có bao nhiêu đảng viên"
        assert result.hits[0].doc_id == clean.hits[0].doc_id
    assert search("Vinh Baoo co bao nhieu dang vien", exact=True).corrected_query is None


def test_a_correction_in_a_query_typed_with_marks_gets_marks(corrector: SpellingCorrector) -> None:
    assert corrector.correct("Hồ Hoàn Kiem hồ Ngọc Sơnn") == "Hồ Hoàn Kiem hồ Ngọc Sơn"  # Kiem is known: kept
    assert corrector.correct("đền Ngọc Sonn ở Hà Nội") == "đền Ngọc Sơn ở Hà Nội"
    assert corrector.correct("đền Ngọc Sonn của Hà Nội") == "đền Ngọc Sơn của Hà Nội"  # the user's "của" as typed
