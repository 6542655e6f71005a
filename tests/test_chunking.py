"""Chunk boundaries and offsets: passages are whole sentences, in budget, pointing into the text."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.chunking import ChunkingParams, chunk_text, sentence_spans


def count_words(text: str) -> int:
    return len(text.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Một câu. Hai câu.", ["Một câu.", "Hai câu."]),
        ("Năm 2021 đạt 95,29%. Đảng viên mới 35.", ["Năm 2021 đạt 95,29%.", "Đảng viên mới 35."]),
        ("Có 9.295 đảng viên. Tăng 1.2 lần!", ["Có 9.295 đảng viên.", "Tăng 1.2 lần!"]),
        ("Ông nói: “Làm tốt.” Sau đó về.", ["Ông nói: “Làm tốt.”", "Sau đó về."]),
        ("TP. Hải Phòng rất đẹp", ["TP. Hải Phòng rất đẹp"]),
        ("Dòng một\nDòng hai", ["Dòng một", "Dòng hai"]),
        ("  Khoảng trắng.   ", ["Khoảng trắng."]),
    ],
)
def test_sentence_spans(text: str, expected: list[str]) -> None:
    assert [text[s.start : s.end] for s in sentence_spans(text)] == expected


def test_passages_are_whole_sentences_with_offsets_and_overlap() -> None:
    sentences = [f"Câu số {i} nói về công tác xây dựng Đảng." for i in range(30)]
    text = " ".join(sentences)
    passages = chunk_text(text, count_words, ChunkingParams(max_tokens=30, overlap_sentences=1))
    assert len(passages) > 3
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert count_words(p.text) <= 30
        assert p.text.startswith("Câu số") and p.text.endswith(".")
    for prev, nxt in zip(passages, passages[1:], strict=False):
        last_sentence = prev.text.split(". ")[-1]
        assert nxt.text.startswith(last_sentence.rstrip(".")), "one sentence of overlap"
        assert nxt.start > prev.start
    covered = " ".join(p.text for p in passages)
    assert all(s in covered for s in sentences), "no sentence is lost"


def test_overlong_sentence_is_cut_at_words_within_budget() -> None:
    text = " ".join(f"từ{i}" for i in range(100)) + "."
    passages = chunk_text(text, count_words, ChunkingParams(max_tokens=20))
    assert all(count_words(p.text) <= 20 for p in passages)
    assert all(text[p.start : p.end] == p.text for p in passages)
    assert "từ0" in passages[0].text and passages[-1].text.endswith("từ99.")


def test_real_tokenizer_budget(embedder) -> None:
    text = Path("corpus/001_c81213e13d664aa3.txt").read_text(encoding="utf-8")
    passages = chunk_text(text, embedder.count_tokens, ChunkingParams(max_tokens=200))
    # sentences are counted one by one; joining them can shift a token at a boundary
    assert all(embedder.count_tokens(p.text) <= 205 for p in passages)
    assert all(text[p.start : p.end] == p.text for p in passages)
