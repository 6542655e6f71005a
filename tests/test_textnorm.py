"""Normalisation and folding tables: one form for every way Vietnamese text arrives."""

from __future__ import annotations

import unicodedata

import pytest

from tracuu.text.normalise import as_written, fold, fold_by_decomposition, has_marks, normalise, words
from tracuu.text.tokens import document_tokens, query_tokens


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đảng viên", "Dang vien"),
        ("đường", "duong"),
        ("dương", "duong"),
        ("đương", "duong"),
        ("Quảng Trị", "Quang Tri"),
        ("ỦY BAN", "UY BAN"),
        ("Nguyễn Thị Ánh", "Nguyen Thi Anh"),
        ("9.295 đảng viên", "9.295 dang vien"),
        ("English stays", "English stays"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(unicodedata.normalize("NFD", text)) == folded


@pytest.mark.parametrize(
    "text",
    [
        "Đảng bộ thị xã Quảng Trị đạt kết quả toàn diện, 9.295 đảng viên",
        unicodedata.normalize("NFD", "Nghị quyết Đại hội đảng bộ"),  # decomposed: the slow path
        "Ελληνικά ά ώ, Кириллица й ё, 日本語, 한국어",
        "\u1100\u1161 \u1100\u1161\u11a8",  # Hangul jamo, which composition joins
        "a\u0301\u0323 e\u0323\u0302 \u0b47\u0b3e",  # stacked marks, an Oriya two-part vowel
        "ﬁ ½ ℃ Å K",  # compatibility and singleton characters
    ],
)
def test_fold_by_table_equals_fold_by_decomposition(text: str) -> None:
    assert fold(text) == fold_by_decomposition(text)
    for ch in text:
        assert fold(ch) == fold_by_decomposition(ch)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("hoà bình", "hòa bình"),  # old and new tone placement
        ("khoẻ mạnh", "khỏe mạnh"),
        ("thuỷ lợi", "thủy lợi"),
        ("Uỷ ban", "Ủy ban"),
        (unicodedata.normalize("NFD", "Đảng bộ tỉnh"), "Đảng bộ tỉnh"),  # decomposed input
        ("xây\u00a0dựng   Đảng", "xây dựng Đảng"),
    ],
)
def test_equivalent_spellings_normalise_alike(a: str, b: str) -> None:
    assert normalise(a) == normalise(b)
    assert words(a) == words(b)


def test_tone_placement_keeps_words_where_the_mark_belongs() -> None:
    assert normalise("hoàn thành") == "hoàn thành"  # 'oa' not word-final: untouched
    assert normalise("quý") == "quý"


def test_has_marks() -> None:
    assert has_marks("xây dựng") and has_marks("đi") and not has_marks("xay dung") and not has_marks("party 2021")


def test_lexical_views() -> None:
    doc = document_tokens("Xây dựng Đảng")
    assert {"w:xây", "f:xay", "w:xây_dựng", "f:xay_dung", "w:đảng", "f:dang", "f:dung_dang"} <= set(doc)
    assert set(query_tokens("xay dung dang")) == {"f:xay", "f:dung", "f:dang", "f:xay_dung", "f:dung_dang"}
    assert "w:xây_dựng" in query_tokens("xây dựng Đảng")
    assert "w:và" not in document_tokens("Đảng và Nhà nước"), "function words are not indexed"


@pytest.mark.parametrize(
    "word",
    [
        "của",
        "Của",
        "CỦA",
        "mùa",
        "lúa",
        "chùa",
        "ủa",
        "quả",
        "qua",
        "cửa",
        "mưa",
        "thuở",
        "hoà",
        "thuỷ",
        "khoẻ",
        "luật",
        "huấn",
        "thuận",
        "quặng",
    ],
)
def test_text_shown_to_a_reader_is_spelt_as_written(word: str) -> None:
    """The canonical form moves the mark of a word-final "ua" ("của" -> "cuả") as it does that of "oa";
    what a reader sees gets it back; "quả" and both placements of oa/oe/uy stay as they are."""
    assert as_written(normalise(word)) == word
    assert as_written(normalise(f"thủ đô {word} nước")) == f"thủ đô {word} nước"
    assert normalise(as_written(normalise(word))) == normalise(word)  # still the same canonical form
