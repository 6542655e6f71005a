"""The answer sentence of a passage and the snippet around it (retrieval/answers.py), from tables."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest

from indexer import chunking
from retrieval.answers import (
    AnswerType,
    Weights,
    analyse_query,
    answer_and_snippet,
    best_sentence,
    snippet_span,
)
from tracuu.text.sentences import Span, sentence_spans

HAI_PHONG = (
    "Thành phố Hải Phòng tổ chức hội nghị tổng kết công tác xây dựng Đảng. "
    "Trong năm, toàn thành phố kết nạp 9.295 đảng viên mới. "
    "Hội nghị diễn ra tại TP. Hải Phòng ngày 5/1."
)
ELECTION = (
    "Hội nghị lần thứ năm của Ban Chấp hành diễn ra tại Hà Nội trong hai ngày. "
    "Đồng chí Nguyễn Văn Nên được bầu làm Bí thư Thành ủy với số phiếu tuyệt đối. "
    "Hội nghị đã thông qua nghị quyết về phát triển kinh tế và xây dựng Đảng."
)
PRONOUN = (
    "Ông Trần Văn Bình sinh năm 1962 tại Nam Định, từng công tác nhiều năm ở địa phương. "
    "Ông hiện là Chủ tịch Ủy ban nhân dân tỉnh nhiệm kỳ 2021-2026. "
    "Tỉnh có nhiều khu công nghiệp lớn."
)
ASKING = (
    "Ai là tác giả của Truyện Kiều? "
    "Câu hỏi này quen thuộc với nhiều thế hệ học sinh. "
    "Truyện Kiều do đại thi hào Nguyễn Du sáng tác vào đầu thế kỷ XIX."
)
ABBREVIATION = (
    "Công tác phát triển đảng viên được quan tâm. "
    "Năm 2023, TP. Hải Phòng kết nạp 9.295 đảng viên, đạt 105% kế hoạch. "
    "Các chi bộ tiếp tục rà soát nguồn kết nạp."
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(
    ("text", "query", "lang", "expected"),
    [
        # a number for "bao nhiêu", with and without tone marks, and in English
        (HAI_PHONG, "Hải Phòng kết nạp bao nhiêu đảng viên mới", "vi", "9.295 đảng viên mới"),
        (HAI_PHONG, "hai phong ket nap bao nhieu dang vien moi", "vi", "9.295 đảng viên mới"),
        (HAI_PHONG, nfd("Hải Phòng kết nạp bao nhiêu đảng viên mới"), "vi", "9.295 đảng viên mới"),
        (HAI_PHONG, "How many new party members did Hai Phong admit?", "en", "9.295 đảng viên mới"),
        # a date for "khi nào" / "when"; the "5/1" sentence has no word of the English query
        (HAI_PHONG, "Hội nghị diễn ra khi nào", "vi", "ngày 5/1"),
        (HAI_PHONG, "hoi nghi dien ra khi nao", "vi", "ngày 5/1"),
        (HAI_PHONG, "When was the conference held?", "en", "ngày 5/1"),
        # a person's name for "ai" / "who"
        (ELECTION, "Ai được bầu làm Bí thư Thành ủy", "vi", "Nguyễn Văn Nên"),
        (ELECTION, "ai duoc bau lam bi thu thanh uy", "vi", "Nguyễn Văn Nên"),
        (ELECTION, "Who was elected secretary of the city party committee?", "en", "Nguyễn Văn Nên"),
        # a sentence that only asks the question is no answer
        (ASKING, "Ai là tác giả Truyện Kiều", "vi", "Nguyễn Du"),
        (ASKING, "Who wrote Truyen Kieu?", "en", "Nguyễn Du"),
        # "TP. Hải Phòng" does not end the sentence, "9.295" is one number
        (ABBREVIATION, "Hải Phòng kết nạp bao nhiêu đảng viên năm 2023", "vi", "TP. Hải Phòng kết nạp 9.295"),
        (ABBREVIATION, "How many party members did Hai Phong admit in 2023", "en", "TP. Hải Phòng kết nạp 9.295"),
        # characters whose fold is not one character (a stray combining mark, "İ") keep the offsets right
        (
            "Câu mo\u0301t có dấu rời. İstanbul là thành phố lớn. Năm 2020 có 15 triệu dân.",
            "İstanbul có bao nhiêu dân",
            "vi",
            "15 triệu dân",
        ),
        # no question word: the sentence sharing the query's words
        (ABBREVIATION, "rà soát nguồn kết nạp", "vi", "rà soát nguồn kết nạp"),
        (ABBREVIATION, "ra soat nguon ket nap", None, "rà soát nguồn kết nạp"),
    ],
)
def test_best_sentence_holds_the_answer(text: str, query: str, lang: str | None, expected: str) -> None:
    start, end = best_sentence(text, query, lang)
    assert expected in text[start:end]
    assert any(s.start == start for s in sentence_spans(text)), "the span starts at a sentence start"
    assert any(s.end == end for s in sentence_spans(text)), "the span ends at a sentence end"


def test_a_pronoun_takes_the_name_from_the_sentence_before() -> None:
    start, end = best_sentence(PRONOUN, "Ai là Chủ tịch Ủy ban nhân dân tỉnh", "vi")
    assert PRONOUN[start:end].startswith("Ông Trần Văn Bình sinh năm 1962")
    assert PRONOUN[start:end].endswith("nhiệm kỳ 2021-2026.")
    # without the rule the pronoun sentence alone is chosen, and it names nobody
    start, end = best_sentence(PRONOUN, "Ai là Chủ tịch Ủy ban nhân dân tỉnh", "vi", weights=Weights(anaphora=False))
    assert PRONOUN[start:end].startswith("Ông hiện là")


@pytest.mark.parametrize(
    ("text", "query", "expected"),
    [
        ("", "bao nhiêu", (0, 0)),
        ("   ", "bao nhiêu", (0, 3)),
        ("Một câu duy nhất không dấu chấm", "gì đó", (0, 31)),
        ("  Một câu.  ", "câu", (2, 10)),
        ("Câu một. Câu hai. Câu ba.", "không liên quan", (0, 8)),  # no evidence: the first sentence
    ],
)
def test_best_sentence_edge_cases(text: str, query: str, expected: tuple[int, int]) -> None:
    assert best_sentence(text, query, None) == expected


def test_dense_cosine_breaks_what_words_cannot() -> None:
    text = "Câu thứ nhất. Câu thứ hai. Câu thứ ba."
    vectors = np.eye(3, dtype=np.float32)
    calls: list[list[str]] = []

    def encode(sentences: list[str]) -> np.ndarray:
        calls.append(sentences)
        return vectors[: len(sentences)]

    start, end = best_sentence(text, "something unrelated", "en", np.array([0, 0, 1], np.float32), encode)
    assert text[start:end] == "Câu thứ ba."
    assert calls == [["Câu thứ nhất.", "Câu thứ hai.", "Câu thứ ba."]], "one batch per passage"
    assert best_sentence(text, "something unrelated", "en") == (0, 13), "no vector, no model call"


@pytest.mark.parametrize(
    ("query", "answer_type"),
    [
        ("Hải Phòng kết nạp bao nhiêu đảng viên", AnswerType.QUANTITY),
        ("có mấy chi bộ", AnswerType.QUANTITY),
        ("how many party members", AnswerType.QUANTITY),
        ("thành lập năm nào", AnswerType.TIME),
        ("thành lập năm bao nhiêu", AnswerType.TIME),
        ("khi nao to chuc dai hoi", AnswerType.TIME),
        ("bao giờ khởi công", AnswerType.TIME),
        ("When was it founded", AnswerType.TIME),
        ("what year did it open", AnswerType.TIME),
        ("Ai là bí thư", AnswerType.PERSON),
        ("vị vua nào dời đô", AnswerType.PERSON),
        ("who is the chairman", AnswerType.PERSON),
        ("trụ sở ở đâu", AnswerType.NAME),
        ("tỉnh nào kết nạp nhiều đảng viên nhất", AnswerType.NAME),
        ("where is the headquarters", AnswerType.NAME),
        ("kết nạp đảng viên", AnswerType.NONE),
    ],
)
def test_answer_types(query: str, answer_type: str) -> None:
    assert analyse_query(query).answer_type == answer_type


def test_question_words_are_not_content_but_marked_names_are() -> None:
    assert analyse_query("Ai là thủ tướng Ấn Độ").terms == ("thu", "tuong", "an", "do")  # "Độ" is no "do"
    assert analyse_query("Who is the prime minister of India", "en").terms == ("prime", "minister", "india")
    # typed without marks, "dang" may be "Đảng": kept, weighing less ("bao nhieu", a final "khong": asked)
    unmarked = analyse_query("co bao nhieu dang vien khong")
    assert unmarked.terms == ("co", "dang", "vien") and {"co", "dang"} <= unmarked.weak
    assert analyse_query("Hòa Phát").terms == analyse_query("hoà phát").terms == ("hoa", "phat")


# ---------------------------------------------------------------------------- snippets

SENTENCES = sentence_spans(HAI_PHONG)
FIRST, SECOND, THIRD = ((s.start, s.end) for s in SENTENCES)
LAST_TWO = "Trong năm, toàn thành phố kết nạp 9.295 đảng viên mới. Hội nghị diễn ra tại TP. Hải Phòng ngày 5/1."
FIRST_AND_A_HALF = HAI_PHONG[: HAI_PHONG.index(" mới.")]  # the first sentence and most of the second


@pytest.mark.parametrize(
    ("answer", "limit", "query", "expected"),
    [
        # everything fits
        (SECOND, 300, None, HAI_PHONG),
        # the answer alone
        (SECOND, 60, None, "Trong năm, toàn thành phố kết nạp 9.295 đảng viên mới."),
        # then whole sentences after it
        (
            SECOND,
            100,
            None,
            "Trong năm, toàn thành phố kết nạp 9.295 đảng viên mới. Hội nghị diễn ra tại TP. Hải Phòng ngày 5/1.",
        ),
        # the last sentence: context before it
        (THIRD, 100, None, LAST_TWO),
        # room for 40+ characters more: the next sentence, cut at a word; less: nothing more
        (FIRST, 120, None, FIRST_AND_A_HALF),
        (FIRST, 100, None, "Thành phố Hải Phòng tổ chức hội nghị tổng kết công tác xây dựng Đảng."),
        # an answer longer than the limit: the window with the query's words and the number asked for
        (SECOND, 30, "Hải Phòng kết nạp bao nhiêu đảng viên", "kết nạp 9.295 đảng viên mới."),
        (SECOND, 20, "ket nap bao nhieu dang vien", "nạp 9.295 đảng viên"),
        # no query: its start
        (FIRST, 20, None, "Thành phố Hải Phòng"),
    ],
)
def test_snippet_span(answer: tuple[int, int], limit: int, query: str | None, expected: str) -> None:
    start, end = snippet_span(HAI_PHONG, answer, limit, query)
    assert HAI_PHONG[start:end] == expected
    assert end - start <= limit


@pytest.mark.parametrize("limit", [1, 5, 12, 25, 40, 54, 55, 80, 120, 160, 200, 400])
@pytest.mark.parametrize("answer", [FIRST, SECOND, THIRD])
def test_snippet_is_within_the_limit_and_cut_at_words(answer: tuple[int, int], limit: int) -> None:
    start, end = snippet_span(HAI_PHONG, answer, limit, "kết nạp bao nhiêu đảng viên")
    assert 0 <= start <= end <= len(HAI_PHONG)
    assert end - start <= limit
    if end - start >= 5:
        assert start == 0 or HAI_PHONG[start - 1] == " ", "starts at a word"
        assert end == len(HAI_PHONG) or HAI_PHONG[end] == " ", "ends at a word"
    if answer[1] - answer[0] <= limit:
        assert start <= answer[0] and answer[1] <= end, "an answer that fits is shown whole"


def test_snippet_of_nothing() -> None:
    assert snippet_span(HAI_PHONG, SECOND, 0) == (SECOND[0], SECOND[0])
    assert snippet_span("", (0, 0)) == (0, 0)
    assert snippet_span("x" * 500, (0, 500), 300) == (0, 300), "one word longer than the limit is cut hard"


def test_answer_and_snippet_is_both_calls_in_one() -> None:
    for text, query in [(HAI_PHONG, "bao nhiêu đảng viên"), (PRONOUN, "Ai là Chủ tịch"), (ELECTION, "who")]:
        answer, snippet = answer_and_snippet(text, query, None, 120)
        assert answer == best_sentence(text, query, None)
        assert snippet == snippet_span(text, answer, 120, query)


# ---------------------------------------------------------------------------- sentences, moved from the indexer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TP. Hải Phòng đẹp. ThS. Nguyễn Văn A nói.", ["TP. Hải Phòng đẹp.", "ThS. Nguyễn Văn A nói."]),
        ("Có 9.295 đảng viên. Tăng 1.2 lần!", ["Có 9.295 đảng viên.", "Tăng 1.2 lần!"]),
        ("Ông nói: “Làm tốt.” Sau đó về.", ["Ông nói: “Làm tốt.”", "Sau đó về."]),
        ("Dòng một\nDòng hai", ["Dòng một", "Dòng hai"]),
    ],
)
def test_sentence_spans_live_in_the_text_layer(text: str, expected: list[str]) -> None:
    assert [text[s.start : s.end] for s in sentence_spans(text)] == expected
    assert chunking.sentence_spans is sentence_spans and chunking.Span is Span, "the indexer uses the same splitter"
