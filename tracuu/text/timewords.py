"""Time words in a query ("năm 2021", "quý I/2023", "nhiệm kỳ 2020-2025", "last year") read as a period.

Searching prefers passages of the period a query names (retrieval/timepref.py); this module only reads
the words. Matching runs on the folded, lower-cased text, so "nam 2021" and "năm 2021" read alike; a word
typed with marks must be the time word itself ("giá dầu năm 2022" is not "đầu năm 2022"). A bare number is
a year only when it is a plausible one (1945-2100) and not a count ("2021 người") or a numbered thing
("Điều 2021", "số 2021", "15/2021/NĐ-CP"). Relative words ("năm nay", "đầu năm nay") need a reference
date: the searcher passes the index's newest article date.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from tracuu.text.normalise import fold, nfc

MENTION_WINDOW = 40  # characters read either side of a year in a passage: the longest time expression fits
FIRST_YEAR = 1800  # with a time word ("năm 1930")
FIRST_BARE_YEAR = 1945  # a number alone is a year only from here
LAST_YEAR = 2100
MAX_FOUND = 8  # time expressions read in one text: a query names a period or two, not hundreds


@dataclass(frozen=True)
class Period:
    """A period named in text: the words that name it and its first and last day."""

    text: str
    start: date
    end: date

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "from": self.start.isoformat(), "to": self.end.isoformat()}

    def overlaps(self, start: date, end: date) -> bool:
        return self.start <= end and start <= self.end


_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "first": 1, "second": 2, "third": 3, "fourth": 4}
_QUARTERS |= {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_COUNTS = {"sau": 6, "chin": 9, "ba": 3}  # "sáu tháng đầu năm"

# Words typed with marks must be these (by their folded form); unmarked, any of them may be meant.
_MARKED = {
    "thang": {"tháng"}, "quy": {"quý"}, "dau": {"đầu"}, "cuoi": {"cuối"}, "giua": {"giữa"}, "nua": {"nửa"},
    "nam": {"năm"}, "ngay": {"ngày"}, "nay": {"này"}, "ngoai": {"ngoái"}, "truoc": {"trước"}, "roi": {"rồi"},
    "toi": {"tới"}, "sau": {"sáu"}, "tu": {"từ"}, "den": {"đến"}, "doan": {"đoạn"}, "thoi": {"thời"},
    "ky": {"kỳ", "kì"}, "nhiem": {"nhiệm"}, "hoc": {"học"}, "khoa": {"khoá", "khóa"}, "cac": {"các"},
    "chin": {"chín"}, "ke": {"kể"},
    "ba": set(), "giai": set(), "may": set(), "to": set(), "the": set(), "bay": {"bây"}, "gio": {"giờ"},
    "hien": {"hiện"}, "nhung": {"những"},
}  # fmt: skip

_Y = r"(?:1[89]\d\d|20\d\d|2100)"
# A year as a part of a longer expression: a number, or relative to the reference ("năm nay", "last year").
_YX = r"(?P<yx>(?:nam\s+)?" + _Y + r"(?!\d)|nam\s+(?:nay|ngoai|truoc|roi|toi|sau)\b|(?:this|last|next)\s+year\b)"
# "6 tháng đầu năm" alone is this year's; "lần đầu năm mấy" (in which year?) is a question, not a period.
_YX_OR_THIS = r"(?:" + _YX + r"|nam\b(?!\s*(?:\d|may\b|nao\b)))"
_BARE_BEFORE = {  # a number after these is a numbered thing, not a year
    "dieu", "khoan", "so", "ma", "phong", "trang", "muc", "chuong", "can", "hang", "top", "tap", "bai", "cau",
    "lo", "duong", "xe", "bien", "hotline", "no", "number", "article", "room", "page", "item", "code", "route",
    "version", "phien", "ban", "ky", "kho", "tuyen",
}  # fmt: skip
_BARE_AFTER = {  # a number before these counts them
    "nguoi", "dong", "d", "ha", "hecta", "km", "m", "m2", "m3", "km2", "tan", "kg", "trieu", "ty", "nghin",
    "ngan", "ho", "con", "chiec", "cai", "luot", "vu", "ca", "usd", "vnd", "people", "persons", "members",
    "dollars", "cases", "tons", "students", "households", "vehicles", "dang", "hoc", "sinh", "lao", "doanh",
    "can", "thanh", "hoi", "cong", "nha", "ban", "bo", "don", "phieu", "tre", "em", "benh", "gia", "xa",
}  # fmt: skip
_CONNECTOR = re.compile(r"\s*(?:-|–|—|,|den|toi|va|and|to|or|hoac|through|until)?\s*")


class _Groups:
    """A match's groups, with the alternative spellings of one group merged (q, q2, q3 -> q)."""

    def __init__(self, match: re.Match[str]) -> None:
        self._groups = match.groupdict()
        self._match = match
        for name, alternatives in (("q", ("q2", "q3")), ("side", ("side2", "side3", "side4")), ("rel", ("erel",))):
            if self._groups.get(name) is None:
                self._groups[name] = next((self._groups[a] for a in alternatives if self._groups.get(a)), None)
        if self._groups.get("edge") is None:
            self._groups["edge"] = self._groups.get("edge2") or self._groups.get("edge3")
        side = self._groups.get("side")
        if side in ("sau", "second", "h2"):
            self._groups["side"] = "cuoi"
        elif side in ("first", "h1"):
            self._groups["side"] = "dau"

    def __getitem__(self, name: str) -> str | None:
        return self._groups.get(name)

    def group(self) -> str:
        return self._match.group()

    def start(self) -> int:
        return self._match.start()

    def end(self) -> int:
        return self._match.end()


def _year_of(text: str | None, reference: date | None) -> int | None:
    """The year a `_YX` group names; None when it is relative and there is no reference."""
    if text is None:  # "6 tháng đầu năm": this year
        return reference.year if reference else None
    digits = re.search(r"\d{4}", text)
    if digits:
        return int(digits.group())
    if reference is None:
        return None
    if re.search(r"nay|this", text):
        return reference.year
    if re.search(r"ngoai|truoc|roi|last", text):
        return reference.year - 1
    return reference.year + 1  # toi, sau, next


def _month(year: int, month: int) -> tuple[date, date] | None:
    if not (1 <= month <= 12):
        return None
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _months(year: int, first: int, last: int) -> tuple[date, date]:
    return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


def _day(year: int, month: int, day: int) -> tuple[date, date] | None:
    try:
        return date(year, month, day), date(year, month, day)
    except ValueError:
        return None


def _years(first: int, last: int, lowest: int = FIRST_YEAR) -> tuple[date, date] | None:
    if lowest <= first <= last <= LAST_YEAR and last - first <= 100:
        return date(first, 1, 1), date(last, 12, 31)
    return None


Span = tuple[date, date] | None
Reader = Callable[[_Groups, date | None, str], Span]


def _iso_day(m: _Groups, ref: date | None, folded: str) -> Span:
    return _day(int(m["y"]), int(m["m"]), int(m["d"]))


def _numeric_day(m: _Groups, ref: date | None, folded: str) -> Span:
    day, month = int(m["d"]), int(m["m"])
    if month > 12 and day <= 12:  # 3/15/2022, written the American way
        day, month = month, day
    return _day(int(m["y"]), month, day) if FIRST_YEAR <= int(m["y"]) <= LAST_YEAR else None


def _worded_day(m: _Groups, ref: date | None, folded: str) -> Span:
    year = _year_of(m["yx"], ref)
    return _day(year, int(m["m"]), int(m["d"])) if year else None


def _english_day(m: _Groups, ref: date | None, folded: str) -> Span:
    return _day(int(m["y"]), _MONTHS[m["mon"]], int(m["d"]))


def _range(m: _Groups, ref: date | None, folded: str) -> Span:
    return _years(int(m["y1"]), int(m["y2"]))


def _since(m: _Groups, ref: date | None, folded: str) -> Span:
    year = int(m["y"])
    return _years(year, max(ref.year, year) if ref else LAST_YEAR)


def _quarter(m: _Groups, ref: date | None, folded: str) -> Span:
    year = _year_of(m["yx"], ref)
    quarter = _QUARTERS[m["q"]]
    return _months(year, 3 * quarter - 2, 3 * quarter) if year else None


def _part(m: _Groups, ref: date | None, folded: str) -> Span:
    """'6 tháng đầu năm 2022', 'nửa cuối năm nay', 'first half of 2022'."""
    year = _year_of(m["yx"], ref)
    count = m["n"]
    months = 6 if count is None else int(count) if count.isdigit() else _COUNTS.get(count, 0)
    if not year or not (1 <= months <= 12):
        return None
    first_part = m["side"] in ("dau", "first", "h1")
    return _months(year, 1, months) if first_part else _months(year, 13 - months, 12)


def _edge(m: _Groups, ref: date | None, folded: str) -> Span:
    """'đầu năm nay', 'cuối năm 2021', 'early 2022', 'end of 2021'."""
    year = _year_of(m["yx"], ref)
    if not year:
        return None
    edge = m["edge"]
    if edge in ("dau", "early", "beginning", "start"):
        return _months(year, 1, 3)
    if edge in ("giua", "mid", "middle"):
        return _months(year, 5, 8)
    return _months(year, 10, 12)


def _worded_month(m: _Groups, ref: date | None, folded: str) -> Span:
    year = _year_of(m["yx"], ref)
    return _month(year, int(m["m"])) if year else None


def _numeric_month(m: _Groups, ref: date | None, folded: str) -> Span:
    before = folded[max(0, m.start() - 20) : m.start()].split()
    if before and before[-1] in _BARE_BEFORE:  # "số 3/2022": a numbered document
        return None
    return _month(int(m["y"]), int(m["m"])) if FIRST_YEAR <= int(m["y"]) <= LAST_YEAR else None


def _english_month(m: _Groups, ref: date | None, folded: str) -> Span:
    year = _year_of(m["yx"], ref)
    return _month(year, _MONTHS[m["mon"]]) if year else None


def _relative_month(m: _Groups, ref: date | None, folded: str) -> Span:
    if ref is None:
        return None
    year, month = ref.year, ref.month
    if m["rel"] in ("truoc", "roi", "last"):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return _month(year, month)


def _year(m: _Groups, ref: date | None, folded: str) -> Span:
    year = int(m["y"])
    return _years(year, year)


def _relative_year(m: _Groups, ref: date | None, folded: str) -> Span:
    year = _year_of(m.group(), ref)
    return _years(year, year) if year else None


def _bare_year(m: _Groups, ref: date | None, folded: str) -> Span:
    """A number alone: a year only when plausible and neither numbering nor counting something."""
    year = int(m["y"])
    before = folded[max(0, m.start() - 20) : m.start()].split()
    after = folded[m.end() : m.end() + 20].split()
    if before and before[-1].strip(".:") in _BARE_BEFORE:
        return None
    if after and after[0].strip(".,;:") in _BARE_AFTER:
        return None
    return _years(year, year, FIRST_BARE_YEAR)


_RANGE_WORDS = r"tu|giai\s+doan|thoi\s+ky|nhiem\s+ky|nam\s+hoc|khoa|between|from|in|during"
_PATTERNS: list[tuple[re.Pattern[str], Reader, bool]] = [  # (pattern, reader, needs a reference)
    (re.compile(r"(?<![\d/.-])(?P<y>" + _Y + r")-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d/-])"), _iso_day, False),
    (
        re.compile(r"(?:\bngay\s+)?(?<![\d/.,])(?P<d>\d{1,2})\s+thang\s+(?P<m>\d{1,2})\s*,?\s*" + _YX),
        _worded_day,
        False,
    ),
    (
        re.compile(
            r"(?:\bngay\s+)?(?<![\d/.,])(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})(?![\d/]|-\w)"
        ),
        _numeric_day,
        False,
    ),
    (
        re.compile(r"\b(?P<mon>" + _MONTH_NAMES + r")\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>" + _Y + r")\b"),
        _english_day,
        False,
    ),
    (
        re.compile(
            r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>" + _MONTH_NAMES + r")\.?,?\s+(?P<y>" + _Y + r")\b"
        ),
        _english_day,
        False,
    ),
    (
        re.compile(
            r"(?:\b(?:" + _RANGE_WORDS + r")\s+)?(?:(?:nam|cac\s+nam|nhung\s+nam|years?)\s+)?(?<![\d/.,-])"
            r"(?P<y1>" + _Y + r")\s*(?:-|–|—|den|toi|and|to|until|through)\s*(?:nam\s+)?(?P<y2>" + _Y + r")"
            r"(?![\d/])(?:\s+(?:term|period))?"
        ),
        _range,
        False,
    ),
    (
        re.compile(
            r"\b(?:tu|ke\s+tu|since)\s+(?:nam\s+)?(?P<y>" + _Y + r")(?![\d/])"
            r"(?:\s+(?:den|toi)\s+(?:nay|bay\s+gio|hien\s+nay))?"
        ),
        _since,
        False,
    ),
    (
        re.compile(
            r"\b(?:quy\s+(?P<q>iv|iii|ii|i|[1-4])\b|q(?P<q2>[1-4])\b|(?P<q3>first|second|third|fourth|1st|2nd|3rd|4th)"
            r"\s+quarter(?:\s+of)?)\s*[/-]?\s*(?:(?:of|the|in)\s+)?" + _YX
        ),
        _quarter,
        False,
    ),
    (
        re.compile(
            r"\b(?:(?P<n>\d{1,2}|sau|chin|ba)\s+thang\s+(?P<side>dau|cuoi)|nua\s+(?P<side2>dau|cuoi|sau)"
            r"|(?P<side3>first|second)\s+half(?:\s+of)?|(?P<side4>h1|h2))\s+(?:of\s+)?" + _YX_OR_THIS
        ),
        _part,
        False,
    ),
    (
        re.compile(
            r"\b(?:(?P<edge>dau|cuoi|giua)|(?P<edge2>early|mid|late)-?|(?:the\s+)?(?P<edge3>beginning|start|end|middle)"
            r"\s+of)\s*" + _YX
        ),
        _edge,
        False,
    ),
    (re.compile(r"\bthang\s+(?P<m>\d{1,2})\b\s*(?:[/.-]\s*|,?\s*)" + _YX), _worded_month, False),
    (re.compile(r"(?<![\d/.,])(?P<m>\d{1,2})/(?P<y>\d{4})(?![\d/]|-\w)"), _numeric_month, False),
    (re.compile(r"(?<![\d/.-])(?P<y>" + _Y + r")-(?P<m>0[1-9]|1[0-2])(?![\d/-])"), _numeric_month, False),
    (re.compile(r"\b(?P<mon>" + _MONTH_NAMES + r")\.?,?\s+(?:of\s+)?" + _YX), _english_month, False),
    (re.compile(r"\bthang\s+(?P<rel>nay|truoc|roi)\b|\b(?P<erel>this|last)\s+month\b"), _relative_month, True),
    (
        re.compile(r"\b(?:nam|in|during|year|by)\s+(?:the\s+year\s+)?(?P<y>" + _Y + r")(?![\d/]|[.,]\d)"),
        _year,
        False,
    ),
    (
        re.compile(r"(?<!\d\s)\bnam\s+(?:nay|ngoai|truoc|roi|toi|sau)\b|\b(?:this|last|next)\s+year\b"),
        _relative_year,
        True,
    ),
    (re.compile(r"(?<![\w.,/-])(?P<y>\d{4})(?![\w]|[.,/-]\d)"), _bare_year, False),
]
_ANY_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")


def _typed_as_time_words(original: str) -> bool:
    """False when a word typed with marks only folds to a time word ("dầu" is not "đầu")."""
    for word in re.findall(r"\w+", original.lower()):
        allowed = _MARKED.get(fold(word))
        if allowed is not None and word != fold(word) and word not in allowed:
            return False
    return True


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    first: date
    last: date


def _find(text: str, reference: date | None) -> tuple[str, list[_Found]]:
    """Every period named in `text`, left to right, none overlapping another (longer expressions first)."""
    original = " ".join(nfc(text).split())  # one space between words: no pattern backtracks over long runs
    folded = fold(original).lower()
    if len(folded) != len(original):  # folding changed the length: show the folded words
        original = folded
    taken: list[_Found] = []
    for pattern, reader, relative in _PATTERNS:
        if relative and reference is None:
            continue
        for match in pattern.finditer(folded):
            if len(taken) == MAX_FOUND:
                break
            start, end = match.start(), match.end()
            if any(start < f.end and f.start < end for f in taken):
                continue
            if not _typed_as_time_words(original[start:end]):
                continue
            span = reader(_Groups(match), reference, folded)
            if span is not None:
                taken.append(_Found(start, end, span[0], span[1]))
    return original, sorted(taken, key=lambda f: f.start)


def interpret_time(query: str, reference: date | None) -> Period | None:
    """The period a query names, or None. Several expressions ("tháng 3/2022 đến tháng 6/2022", "2019 và
    2021") make one period from the first's start to the last's end; `reference` is 'now' for "năm nay"."""
    original, found = _find(query, reference)
    if not found:
        return None
    pieces = [original[found[0].start : found[0].end]]
    for before, after in zip(found, found[1:], strict=False):
        gap = original[before.end : after.start]
        if _CONNECTOR.fullmatch(fold(gap).lower()):
            pieces[-1] += gap + original[after.start : after.end]
        else:
            pieces.append(original[after.start : after.end])
    first = min(f.first for f in found)
    last = max(f.last for f in found)
    return Period(", ".join(p.strip() for p in pieces), first, last)


def mentions(text: str, period: Period) -> bool:
    """Whether `text` (a passage, a title) names a date, month, year or span within `period`: "năm 2021" is in
    "nhiệm kỳ 2020-2025", but "nhiệm kỳ 2020-2025" is not in "năm 2021", nor "năm 2021" in "tháng 6/2021".

    Every such mention names one of the period's years, so only the words around those are read (a passage
    is read in a tenth of the time).
    """
    length = period.end - period.start
    for year in _ANY_YEAR.finditer(text):
        if not period.start.year <= int(year.group()) <= period.end.year:
            continue
        window = text[max(0, year.start() - MENTION_WINDOW) : year.end() + MENTION_WINDOW]
        for found in _find(window, None)[1]:
            if period.overlaps(found.first, found.last) and found.last - found.first <= length:
                return True
    return False
