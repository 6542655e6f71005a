"""The answer sentence of a passage and the snippet around it.

A hit is a passage of ~200 tokens; the user wants the sentence with the number, the name or the
date asked for, and a snippet showing it. ``best_sentence`` scores each sentence of the passage:

* the share of the query's content syllables it holds, compared accent-folded (queries are often
  typed without tone marks; question and function words left out), each weighted by local idf (a
  word in every sentence of the passage says nothing about which one answers), plus consecutive
  query syllables found together (a phrase: "Hải Phòng");
* plus a bonus when it holds what the question asks for and the query does not: a number
  ("bao nhiêu", "mấy", "how many"), a year or date ("khi nào", "năm nào", "when"), a name ("ai",
  "vị vua nào", "who"; a person-like name counts fully, "Hà Nội" or "Tây Ban Nha" less). Names and
  numbers are written alike in English and Vietnamese: that is what finds an English question's
  Vietnamese answer without a model, so the bonus is larger for English queries;
* minus a penalty when the sentence itself asks ("... là ai?": web pages restate questions);
* a sentence starting with a pronoun ("Ông hiện là Bí thư ...") takes the name from the sentence
  before it, and the answer span then covers both;
* optionally, plus the z-scored cosine of the query's e5 vector with each sentence's.

scripts/answer_check.py measures each step on viqa-web (answer@1: the chosen span holds an answer
string; vi / vi typed without marks / en). On a relevant paragraph's ~200-token passage among
same-topic paragraphs (4.4 sentences): first sentence 21.5 / 21.5 / 20.1%, most shared words
66.8 / 50.2 / 44.2, this scoring 74.9 / 74.4 / 65.0; on the paragraph alone (1.8 sentences) 85.1 /
85.1 / 86.9, 88.6 / 85.3 / 87.2, 93.0 / 92.3 / 93.3; on real top hits 87.2 / 87.5 / 78.8, 91.6 /
88.4 / 84.8, 96.9 / 95.5 / 93.9. It costs 1.5-2.5 ms per query for 10 passages on the shared
2-core CPU (the search itself: 12-17 ms). Adding the sentence cosine (0.5 x its z-score) changed
these by +0.6 / -10.5 / +3.6 points on passages and -2.7 / -6.0 / -3.9 on paragraphs, and embedding
the ~45 sentences of 10 passages took 240-320 ms per query: it is off unless the caller passes
``query_vector`` and ``encode``.

``snippet_span`` then cuts at most ``limit`` characters around the answer. Both are pure functions
(plus memoised per-query analysis) returning character spans into the passage text; the caller
escapes, adds "…" and highlights.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tracuu.text.normalise import fold, fold_word, has_marks, words
from tracuu.text.restore import is_vietnamese_syllable
from tracuu.text.sentences import Span, sentence_spans
from tracuu.text.stopwords import FOLDED_STOPWORDS, STOPWORDS

_WORD = re.compile(r"\w+", re.UNICODE)
# A number as written in Vietnamese text: "9.295", "95,29", "2021", "1/6/2023".
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
_YEAR = re.compile(r"^(?:1[0-9]{3}|20[0-9]{2})$")
_DATE = re.compile(r"^\d{1,2}/\d{1,2}(?:/\d{2,4})?$")

# What the question asks for, recognised on the folded, lower-cased query (word boundaries
# added below). A time question often also says "bao nhiêu" ("năm bao nhiêu"), so time wins.
_TIME_PATTERNS = (
    r"khi nao",
    r"(?:nam|ngay|thang|luc|thoi gian|thoi diem|dip|quy) (?:nao|bao nhieu|may)",
    r"bao gio",
    r"when",
    r"(?:what|which|in what) (?:year|date|day|month|time)",
    r"how long ago",
)
_QUANTITY_PATTERNS = (
    r"bao nhieu",
    r"how (?:many|much|long|old|far|big|large|high|tall)",
    r"(?:what|which) (?:number|percentage|share|amount)",
    r"number of",
    r"ti le",
    r"so luong",
)
# Questions answered by a capitalised name: of a person ("ai", "vị vua nào", "who"), or of a place,
# an organisation or a title ("ở đâu", "tỉnh nào", "tên là gì", "where").
_PERSON_NOUNS_VI = (
    r"nguoi|ong|ba|vua|hoang de|chua|tuong|vi|nhan vat|tac gia|nha \w+|nhac si|nhac sy|ca si|ca sy|"
    r"cau thu|dien vien|dao dien|hlv|huan luyen vien|chu tich|giam doc|thu tuong|tong thong|bi thu|"
    r"than|danh tuong|hoa si|lanh dao|dong chi|dai bieu"
)
_PLACE_NOUNS_VI = r"doi|cong ty|tap doan|nuoc|quoc gia|tinh|thanh pho|huyen|xa|dia phuong|noi|song|nui|ten|don vi"
_PERSON_PATTERNS = (
    r"ai",
    rf"(?:{_PERSON_NOUNS_VI}) nao",
    r"who|whom|whose",
    r"(?:what|which) (?:\w+ )?(?:king|queen|emperor|poet|writer|author|actor|actress|singer|player|"
    r"footballer|composer|musician|director|person|man|woman|leader|president|god|goddess|prophet|artist|"
    r"painter|character)",
)
_NAME_PATTERNS = (
    r"o dau|cho nao",
    rf"(?:{_PLACE_NOUNS_VI}) nao",
    r"ten (?:\w+ )?(?:la )?gi",
    r"(?:biet danh|but danh|but hieu|ten hieu|nien hieu|ten that|ten goi|ten khai sinh|danh hieu)",
    r"where",
    r"(?:what|which) (?:\w+ )?(?:name|team|club|company|country|city|province)",
    r"named|called|nicknamed",
)


def _compile(patterns: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)")


_TIME = _compile(_TIME_PATTERNS)
_QUANTITY = _compile(_QUANTITY_PATTERNS)
_PERSON = _compile(_PERSON_PATTERNS)
_NAME = _compile(_NAME_PATTERNS)

# Words that say what is asked, not what the answer sentence is about. Vietnamese ones as written
# (a marked query word is dropped only if it is one of these exactly: "Độ" in "Ấn Độ" is no "do");
# a word typed without marks is dropped if its folded form is any of them or an English one.
# Syllables that are also parts of content words ("thế giới", "ngôi sao", "hàng không") are
# dropped only inside a question phrase (_VI_QUESTION_PHRASES) or, for "không"/"chưa", at the end.
_VI_QUESTION_WORDS = frozenset(("ai", "gì", "nào", "đâu", "mấy", "hả", "nhỉ", "ạ", "vậy", "là", "của", "được", "gọi"))
_VI_QUESTION_PHRASES = frozenset(
    tuple(phrase.split())
    for phrase in ("bao nhieu", "bao gio", "khi nao", "tai sao", "vi sao", "the nao", "nhu the nao", "luc nao")
)
_VI_QUESTION_ENDS = frozenset({"khong", "chua"})
_EN_QUESTION_WORDS = frozenset(
    word
    for line in (
        "who whom whose what which when where why how many much did does do has have had his her its",
        "their our your was were will would can could name called known dubbed nicknamed s current",
        "currently now today first",
    )
    for word in line.split()
)
_FOLDED_QUESTION_WORDS = frozenset(fold(w) for w in _VI_QUESTION_WORDS) | _EN_QUESTION_WORDS


class AnswerType:
    """What a question asks for: the kind of token its answer sentence must contain."""

    PERSON = "person"
    NAME = "name"
    QUANTITY = "quantity"
    TIME = "time"
    NONE = "none"


@dataclass(frozen=True)
class Weights:
    """Scoring knobs; scripts/answer_check.py measures each choice."""

    idf: bool = True  # weigh query syllables by how few sentences of the passage hold them
    phrase: float = 0.5  # share of weight for consecutive query syllables found together
    answer_type: float = 0.5  # the token asked for (number, date, name) is there and not from the query
    # the same for an English query: its words rarely occur in Vietnamese text (names and numbers do),
    # so what it asks for is most of the evidence
    answer_type_en: float = 0.8
    untyped: float = 0.5  # share of that bonus for a question of no recognised type (any new number/name)
    weak_name: float = 0.5  # share of the bonus, for "who", of a name that does not look like a person's
    two_word_name: float = 0.75  # the same for two words after a family name ("Lê Lợi", but also "Hà Nội")
    asking: float = 0.3  # a sentence that asks ("... là ai?") is no answer
    anaphora: bool = True  # "Ông hiện là ...": take the answer type from the sentence before, and show both
    unmarked_function_word: float = 0.5  # weight share of "dang", "co" typed without marks
    position: float = 0.001  # earlier sentences win ties
    dense: float = 0.0  # weight of the z-scored sentence cosine, when a vector and encoder are given


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class QueryAnalysis:
    """The parts of a query that sentence scoring needs, computed once per query."""

    terms: tuple[str, ...]  # folded lower-case content syllables, distinct, in query order
    pairs: tuple[tuple[str, str], ...]  # folded consecutive content syllables
    asked: frozenset[str]  # every folded syllable of the query: a name or number it holds is no answer
    answer_type: str
    english: bool  # query_lang == "en"
    weak: frozenset[str]  # unmarked terms that may be function words ("dang": "đang" or "Đảng")


@lru_cache(maxsize=1024)
def analyse_query(query: str, query_lang: str | None = None) -> QueryAnalysis:
    """Content syllables and answer type of ``query`` (memoised: once per query, not per hit).

    The question patterns of both languages are tried on every query (an English question about
    Vietnamese text keeps Vietnamese names, and vice versa); ``query_lang == "en"`` only weighs
    the answer type more (``Weights.answer_type_en``).
    """
    syllables = words(query)
    folded = [fold_word(s) for s in syllables]
    flat = " ".join(folded)
    english = query_lang == "en"
    if _TIME.search(flat):
        answer_type = AnswerType.TIME
    elif _QUANTITY.search(flat) or "mấy" in syllables:
        answer_type = AnswerType.QUANTITY
    elif _PERSON.search(flat):
        answer_type = AnswerType.PERSON
    elif _NAME.search(flat):
        answer_type = AnswerType.NAME
    else:
        answer_type = AnswerType.NONE
    keep = [
        not (s in STOPWORDS or s in _VI_QUESTION_WORDS)
        if has_marks(s)
        else not (f in _FOLDED_QUESTION_WORDS or (english and f in FOLDED_STOPWORDS))
        for s, f in zip(syllables, folded, strict=True)
    ]
    for i in range(len(folded)):
        for size in (2, 3):
            if i + size <= len(folded) and tuple(folded[i : i + size]) in _VI_QUESTION_PHRASES:
                keep[i : i + size] = [False] * size
    if len(folded) > 1 and folded[-1] in _VI_QUESTION_ENDS:
        keep[-1] = False
    if not any(keep):  # a query made of function words only: match them rather than nothing
        keep = [True] * len(syllables)
    terms = tuple(dict.fromkeys(f for f, k in zip(folded, keep, strict=True) if k))
    pairs = tuple(
        dict.fromkeys(
            (folded[i], folded[i + 1])
            for i in range(len(folded) - 1)
            if keep[i] and keep[i + 1] and folded[i] != folded[i + 1]
        )
    )
    # Typed without marks, "dang" may be the function word "đang" or the word "Đảng" (tracuu.text.tokens
    # keeps it for the same reason): kept, at a lower weight.
    weak = frozenset(f for s, f in zip(syllables, folded, strict=True) if not has_marks(s) and f in FOLDED_STOPWORDS)
    return QueryAnalysis(terms, pairs, frozenset(folded), answer_type, english, weak)


# Upper-case letters of the Latin scripts (Vietnamese included): a capitalised word starts with one.
_UPPER = "".join(chr(c) for c in (*range(0x41, 0x250), *range(0x1E00, 0x1F00)) if chr(c).isupper())
# A run of capitalised words: "Nguyễn Văn Tý", "Abdel-Fattah el-Sisi" (the start is checked by hand:
# a look-behind here costs more than the rest of the scoring).
_CAPITALISED_RUN = re.compile(rf"[{re.escape(_UPPER)}]\w*(?:(?: {{1,2}}|-)[{re.escape(_UPPER)}]\w*)*")
_RUN_SPLIT = re.compile(r" +|-")
# "ngày 3", "tháng 9", "năm 1950", "nhiệm kỳ 2020" (folded): a time word before a number.
_TIME_NUMBER = re.compile(r"\b(?:ngay|thang|nam|quy|tuan|dip|luc|hom|nhiem ky|khoa)\s+(\d+)")
# A sentence that asks is no answer: it ends with "?" or says "là ai" / "là gì" (folded).
_ASKING = re.compile(r"\bla (?:ai|gi)\b")
_CLOSING = "\"”’)]' "
_NUMBER_PARTS = re.compile(r"[.,/]")


@lru_cache(maxsize=1 << 16)
def _name_word(word: str) -> tuple[str, bool, bool]:
    """(folded lower-case form, a function word?, a Vietnamese syllable?) of a capitalised word."""
    lower = word.lower()
    return fold(lower), lower in STOPWORDS, is_vietnamese_syllable(lower)


def _name_strength(text: str, asked: frozenset[str], person: bool, weights: Weights) -> float:
    """How surely ``text`` names someone (or somewhere) the query does not: 1, ``weights.weak_name`` or 0.

    A name is a run of two or more capitalised words ("Nguyễn Văn Tý", "Hà Nội": Vietnamese
    capitalises every syllable of a name but only the first of a title, "Chủ tịch"), or one
    capitalised word that is no Vietnamese syllable ("Putin", "Pachelbel"), or one after a title
    ("ông Long"). Acronyms ("UBND", "GOOGLE") are no names. At least one word of the name must be
    new to the query. For a "who" question (``person``) a name that does not look like a person's
    (no family name first, no title before it, no foreign word: "Tây Ban Nha") counts
    ``weights.weak_name``.
    """
    best = 0.0
    for match in _CAPITALISED_RUN.finditer(text):
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue  # "iPhone": a capital inside a word
        segment: list[str] = []
        segment_start = start
        for word_match in [*_RUN_WORD.finditer(match.group()), None]:
            word = word_match.group() if word_match else ""
            if word and not (len(word) > 1 and word.isupper()):
                if not segment:
                    segment_start = start + word_match.start()  # type: ignore[union-attr]
                segment.append(word)
                continue
            if segment:
                best = max(best, _segment_strength(text, segment_start, segment, asked, person, weights))
                if best >= 1.0:
                    return best
            segment = []
    return best


def _segment_strength(
    text: str, start: int, segment: list[str], asked: frozenset[str], person: bool, weights: Weights
) -> float:
    """``_name_strength`` of one run of capitalised words starting at ``start``."""
    forms = [_name_word(w) for w in segment]
    if all(folded in asked or stop for folded, stop, _ in forms):
        return 0.0
    before = text[max(0, start - 16) : start].lower()
    last = before.rstrip(" .").rpartition(" ")[2]  # the word right before: most often none of these
    titled = last in _TITLE_ENDS and _TITLE_BEFORE.search(before) is not None
    foreign = any(not vietnamese for _, _, vietnamese in forms)
    if len(segment) == 1 and not (foreign or titled):
        return 0.0  # "Đảng", "Chủ tịch": a capitalised word, no name
    if not person or titled:
        return 1.0
    if last in _PLACE_ENDS and _PLACE_BEFORE.search(before):
        return weights.weak_name  # "tại Hà Nội", "tỉnh Nam Định"
    if foreign:
        return 1.0
    if forms[0][0] in _SURNAMES:  # "Nguyễn Văn Nên"; "Hà Nội" starts like a family name too
        return 1.0 if len(segment) >= 3 else weights.two_word_name
    return weights.weak_name


_RUN_WORD = re.compile(r"[^ -]+")
# A place word right before a name: "tại Hà Nội", "tỉnh Nam Định" (lower-case text).
_PLACES = tuple(
    word
    for line in ("tại ở tỉnh thành_phố tp huyện quận xã phường", "thị_xã nước miền vùng sông núi")
    for word in line.split()
)
_PLACE_BEFORE = re.compile(r"(?<!\w)(?:" + "|".join(t.replace("_", " ") for t in _PLACES) + r")\.? +$")
_PLACE_ENDS = frozenset(t.rpartition("_")[2] for t in _PLACES)
# Vietnamese family names (folded), the first word of most Vietnamese people's names.
_SURNAMES = frozenset(
    word
    for line in (
        "nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dao doan trinh truong lam",
        "mai cao dinh ha luong luu ta chu ton thai quach tang kieu tu la phung vuong chau trieu khong mac",
        "diep bach to au giang ong thach kim lai",
    )
    for word in line.split()
)
# A title or form of address right before a name: "ông", "bà", "nhà thơ", "Mr." (lower-case text).
_TITLES = tuple(
    word
    for line in (
        "ông bà anh chị cô ngài đồng_chí vua tướng thầy nhà_văn nhà_thơ nhạc_sĩ nhạc_sỹ ca_sĩ ca_sỹ",
        "diễn_viên đạo_diễn tác_giả tiến_sĩ giáo_sư bác_sĩ mr mrs ms dr",
    )
    for word in line.split()
)
_TITLE_BEFORE = re.compile(r"(?<!\w)(?:" + "|".join(t.replace("_", " ") for t in _TITLES) + r")\.? +$")
_TITLE_ENDS = frozenset(t.rpartition("_")[2] for t in _TITLES)


def _number_asked(value: str, asked: frozenset[str]) -> bool:
    """Is the number ("9.295", "2021") one the query already holds? (The query was split at "." and ",".)"""
    return all(part in asked for part in _NUMBER_PARTS.split(value) if part)


def _has_answer_type(text: str, folded: str, asked: frozenset[str], answer_type: str, weights: Weights) -> float:
    """Does the sentence hold a token of the kind asked for (number, time, name) that the query does not?

    1 for yes, 0 for no, in between for a name that may not be a person's (see ``_name_strength``).
    A quantity is a number that is no date ("5/1", "năm 2021"); a time is a year, a date or a
    number after a time word ("tháng 9").
    """
    if answer_type in (AnswerType.QUANTITY, AnswerType.TIME, AnswerType.NONE):
        times = {m.start(1) for m in _TIME_NUMBER.finditer(folded)}
        for match in _NUMBER.finditer(text):
            value = match.group()
            if _number_asked(value, asked):
                continue
            is_time = match.start() in times or _DATE.match(value) is not None
            if (
                answer_type == AnswerType.NONE
                or is_time == (answer_type == AnswerType.TIME)
                or (answer_type == AnswerType.TIME and _YEAR.match(value))
            ):
                return 1.0
    if answer_type in (AnswerType.PERSON, AnswerType.NAME, AnswerType.NONE):
        return _name_strength(text, asked, answer_type == AnswerType.PERSON, weights)
    return 0.0


def _is_asking(text: str, folded: str) -> bool:
    return text.rstrip(_CLOSING).endswith("?") or _ASKING.search(folded) is not None


def _passage_scores(
    text: str, spans: Sequence[Span], q: QueryAnalysis, weights: Weights, best_only: bool = False
) -> tuple[list[float], set[int]]:
    """Score of each sentence ``spans`` of ``text``, and the sentences whose answer is in the sentence before.

    The query syllables are found in one pass over the folded passage; the answer-type bonus and
    the asking penalty are worked out per sentence, and with ``best_only`` only for sentences that
    could still become the best one (the others score -inf): that is most of the time saved.
    """
    folded = fold(text).lower()
    if len(folded) != len(text):  # a character folded to more or fewer (rare): offsets would drift
        folded = "".join((fold(c).lower() or " ")[0] for c in text)
    starts = [s.start for s in spans]
    n = len(spans)
    found: list[set[str]] = [set() for _ in spans]
    pairs: list[set[tuple[str, str]]] = [set() for _ in spans]
    prev: tuple[int, int, str] | None = None  # (sentence, end, term) of the previous match
    for pos, term in _occurrences(folded, q.terms):
        i = bisect_right(starts, pos) - 1
        if i < 0 or pos >= spans[i].end:
            continue
        found[i].add(term)
        if prev is not None and prev[0] == i and _NON_WORD.fullmatch(folded, prev[1], pos):
            pairs[i].add((prev[2], term))
        prev = (i, pos + len(term), term)
    weight: dict[str, float] = {}
    for term in q.terms:
        df = sum(term in f for f in found)
        weight[term] = math.log2(1.0 + n / df) if (weights.idf and df) else 1.0
        if term in q.weak:
            weight[term] *= weights.unmarked_function_word
    pair_weight = {(a, b): weights.phrase * (weight[a] + weight[b]) / 2 for a, b in q.pairs} if weights.phrase else {}
    total = sum(weight.values()) + sum(pair_weight.values()) or 1.0
    lexical = [
        (sum(weight[t] for t in f) + sum(pair_weight.get(p, 0.0) for p in ps)) / total - weights.position * i
        for i, (f, ps) in enumerate(zip(found, pairs, strict=True))
    ]
    bonus = (weights.answer_type_en if q.english else weights.answer_type) * (
        weights.untyped if q.answer_type == AnswerType.NONE else 1.0
    )
    typed: dict[int, float] = {}

    def has_type(i: int) -> float:
        if i not in typed:
            s, e = spans[i].start, spans[i].end
            typed[i] = _has_answer_type(text[s:e], folded[s:e], q.asked, q.answer_type, weights)
        return typed[i]

    scores = [-math.inf] * n if best_only else list(lexical)
    borrowed: set[int] = set()
    best = -math.inf
    for i in sorted(range(n), key=lambda j: (-lexical[j], j)):
        if best_only and lexical[i] + bonus < best:
            break  # sorted by lexical score: no later sentence can catch up
        s, e = spans[i].start, spans[i].end
        score = lexical[i]
        if bonus:
            own = has_type(i)
            before = has_type(i - 1) if i > 0 and weights.anaphora and _starts_with_anaphor(text[s:e]) else 0.0
            if before > own:  # "Ông hiện là Bộ trưởng ...": the name is in the sentence before
                borrowed.add(i)
            score += bonus * max(own, before)
        if weights.asking and _is_asking(text[s:e], folded[s:e]):
            score -= weights.asking
        scores[i] = score
        best = max(best, score)
    return scores, borrowed


_ANAPHOR = re.compile(r"(?:Ông|Bà|Anh|Chị|Cô|Em|Họ|Hắn|Nàng|Người này|Vị này|He|She|They)(?: ấy| này)? +(\w)")


def _starts_with_anaphor(sentence: str) -> bool:
    """Does the sentence start by pointing back at someone ("Ông hiện là ...", not "Ông Trump ...")?"""
    match = _ANAPHOR.match(sentence)
    return match is not None and match.group(1).islower()


_NON_WORD = re.compile(r"\W+")


def _occurrences(folded: str, terms: Sequence[str]) -> list[tuple[int, str]]:
    """(offset, term) of every whole-word occurrence of the terms in ``folded``, in text order.

    ``str.find`` per term rather than one regex alternation: compiling that regex for every new
    query cost more than scoring ten passages.
    """
    found: list[tuple[int, str]] = []
    size = len(folded)
    for term in terms:
        pos = folded.find(term)
        while pos >= 0:
            end = pos + len(term)
            if (pos == 0 or not _is_word_char(folded[pos - 1])) and (end == size or not _is_word_char(folded[end])):
                found.append((pos, term))
            pos = folded.find(term, pos + 1)
    found.sort()
    return found


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _zscores(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-6 else np.zeros_like(values)


# Weight of the z-scored cosine when best_sentence gets a vector and an encoder (scripts/answer_check.py).
DENSE_WEIGHT = 0.5


def best_sentence(
    text: str,
    query: str,
    query_lang: str | None,
    query_vector: np.ndarray | None = None,
    encode: Callable[[list[str]], np.ndarray] | None = None,
    weights: Weights | None = None,
) -> tuple[int, int]:
    """Character span ``(start, end)`` in ``text`` of the sentence that best answers ``query``.

    ``query_lang`` is the searcher's detected query language ("vi", "en", None). The span is one
    sentence, or two when the best one starts with a pronoun whose name is in the sentence before
    ("Nguyễn Văn A sinh năm 1960. Ông hiện là Bí thư ..."). With both ``query_vector`` (the e5
    query vector) and ``encode`` (``Embedder.encode_passages``), the sentences are embedded and
    their cosine joins the lexical score: one model call per passage, far over the latency budget
    on a CPU (see the module docstring), so leave them out unless that was measured to be
    affordable. Returns ``(0, len(text))`` for text without sentences.
    """
    return _best_span(text, sentence_spans(text), query, query_lang, query_vector, encode, weights)


def _best_span(
    text: str,
    spans: Sequence[Span],
    query: str,
    query_lang: str | None,
    query_vector: np.ndarray | None = None,
    encode: Callable[[list[str]], np.ndarray] | None = None,
    weights: Weights | None = None,
) -> tuple[int, int]:
    if len(spans) <= 1:
        return (spans[0].start, spans[0].end) if spans else (0, len(text))
    if weights is None:
        weights = DEFAULT_WEIGHTS if query_vector is None or encode is None else Weights(dense=DENSE_WEIGHT)
    dense = bool(weights.dense and query_vector is not None and encode is not None)
    q = analyse_query(query, query_lang)
    lexical, borrowed = _passage_scores(text, spans, q, weights, best_only=not dense)
    scores = np.asarray(lexical, dtype=np.float64)
    if dense:
        vectors = np.asarray(encode([text[s.start : s.end] for s in spans]), dtype=np.float64)  # type: ignore[misc]
        scores = scores + weights.dense * _zscores(vectors @ np.asarray(query_vector, dtype=np.float64))
    best = int(np.argmax(scores))
    start = spans[best - 1].start if best in borrowed else spans[best].start
    return start, spans[best].end


def answer_and_snippet(
    text: str, query: str, query_lang: str | None, limit: int = 300
) -> tuple[tuple[int, int], tuple[int, int]]:
    """``best_sentence`` and ``snippet_span`` of one passage, splitting it into sentences once."""
    spans = sentence_spans(text)
    answer = _best_span(text, spans, query, query_lang)
    return answer, _snippet(text, spans, answer, limit, query)


def _token_weights(text: str, start: int, end: int, query: str) -> list[tuple[int, int, float]]:
    """(start, end, weight) of the space-separated tokens of text[start:end].

    A token weighs one per query syllable in it, plus one if it is the kind of token asked for
    (a number for "bao nhiêu"/"khi nào", a capitalised word for "ai"), so the window keeps the answer.
    """
    q = analyse_query(query) if query else None
    tokens = []
    for match in _TOKEN.finditer(text, start, end):
        token = match.group()
        weight = 0.0
        if q is not None:
            weight = sum(fold_word(w.lower()) in q.terms for w in _WORD.findall(token))
            if q.answer_type in (AnswerType.QUANTITY, AnswerType.TIME, AnswerType.NONE) and _NUMBER.search(token):
                weight += 1.0
            elif q.answer_type in (AnswerType.PERSON, AnswerType.NAME) and token[0] in _UPPER_SET:
                weight += 0.0 if fold(token.lower()).strip(_CLOSING + ".,:;") in q.asked else 1.0
        tokens.append((match.start(), match.end(), weight))
    return tokens


_TOKEN = re.compile(r"\S+")
_UPPER_SET = frozenset(_UPPER)


def _word_start_at_or_after(text: str, pos: int, limit: int) -> int:
    """The first word start in text[pos:limit] (``pos`` itself if it starts one); ``limit`` if none."""
    while pos < limit and pos > 0 and not text[pos - 1].isspace():
        pos += 1
    while pos < limit and text[pos].isspace():
        pos += 1
    return pos


def _word_end_at_or_before(text: str, pos: int, floor: int) -> int:
    """The last word end in text[floor:pos] (``pos`` itself if it ends one); ``floor`` if none."""
    while pos > floor and pos < len(text) and not text[pos].isspace():
        pos -= 1
    while pos > floor and text[pos - 1].isspace():
        pos -= 1
    return pos


# Context shorter than this is not worth a cut sentence ("… đảng viên mới. Hội …").
MIN_CONTEXT = 40


def snippet_span(text: str, answer: tuple[int, int], limit: int = 300, query: str | None = None) -> tuple[int, int]:
    """Span of at most ``limit`` characters of ``text`` showing the answer sentence ``answer``.

    The answer comes whole when it fits; the room left goes to whole sentences after it, then whole
    sentences before it (a snippet reads best from a sentence start), then, if at least
    ``MIN_CONTEXT`` characters are still free, to the start of the next sentence and then the end of
    the previous one, cut at word boundaries. An answer longer than ``limit`` is cut to the window
    of it holding the most words of ``query`` (its start when no query is given), at word
    boundaries. Always ``end - start <= limit``: the caller escapes the text, adds "…" where
    ``start > 0`` or ``end < len(text)`` (cut there) and highlights.
    """
    return _snippet(text, sentence_spans(text), answer, limit, query)


def _snippet(
    text: str, sentences: Sequence[Span], answer: tuple[int, int], limit: int, query: str | None
) -> tuple[int, int]:
    start, end = max(0, answer[0]), min(len(text), answer[1])
    if limit <= 0 or start >= end:
        return (start, start)
    if end - start > limit:
        return _window(text, start, end, limit, query)
    for s in sentences:
        if s.start >= end:
            if s.end - start > limit:
                break
            end = s.end
    for s in reversed(sentences):
        if s.end <= start:
            if end - s.start > limit:
                break
            start = s.start
    if end < len(text) and limit - (end - start) >= MIN_CONTEXT:
        end = max(end, _word_end_at_or_before(text, min(len(text), start + limit), end))
    if start > 0 and limit - (end - start) >= MIN_CONTEXT:
        start = min(start, _word_start_at_or_after(text, max(0, end - limit), start))
    return start, end


def _window(text: str, start: int, end: int, limit: int, query: str | None) -> tuple[int, int]:
    """The ≤ limit-character window of text[start:end], at word boundaries, with the most query words."""
    tokens = _token_weights(text, start, end, query or "")
    if not tokens:
        return start, min(end, start + limit)
    best_score, best_starts = -1.0, [0]
    j, total = 0, 0.0
    for i in range(len(tokens)):
        if j < i:
            j, total = i, 0.0
        while j < len(tokens) and tokens[j][1] - tokens[i][0] <= limit:
            total += tokens[j][2]
            j += 1
        if total > best_score:
            best_score, best_starts = total, [i]
        elif total == best_score and best_starts[-1] == i - 1:
            best_starts.append(i)  # a run of equally good starts: centre the window in it
        if j > i:
            total -= tokens[i][2]
    first = best_starts[len(best_starts) // 2] if best_score > 0 else 0
    lo = tokens[first][0]
    hi = max((e for _, e, _ in tokens[first:] if e - lo <= limit), default=lo + limit)
    return lo, min(hi, lo + limit, end)
