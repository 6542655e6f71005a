"""Dates as Vietnamese news pages print them, turned into ISO dates (YYYY-MM-DD).

Vietnamese pages write the day first ("23/11/2023", "23-11-2023", "ngày 23 tháng 11 năm 2023"),
usually wrapped in a time, a weekday and a time zone ("17:15, Thứ Năm, 23-11-2023 (GMT+7)").
Feeds and JSON exports use ISO 8601 instead. Two-digit years are not accepted: "05/03/18"
is too ambiguous to publish as a date. The weekday is never checked against the date, since
a wrong weekday on a page is far likelier than a wrong day.
"""

from __future__ import annotations

import re
from datetime import date

_YEAR_MIN, _YEAR_MAX = 1900, 2100

# Year first, as in ISO 8601; an optional time and offset belong to the same match.
_YMD = re.compile(
    r"(?<![\d/.-])(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
# Day first with one separator used twice: "23/11/2023", "23-11-2023", "23.11.2023".
_DMY = re.compile(r"(?<![\d/.-])(?P<d>\d{1,2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})(?![\d/.-]?\d)")
# Written out: "ngày 12 tháng 3 năm 2022", "12 tháng 03, 2022".
_WORDS = re.compile(
    r"(?:ngày\s+)?(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s*,?\s*(?:năm\s+)?(?P<y>\d{4})(?!\d)",
    re.IGNORECASE,
)

# What may surround the date on a dateline: labels, weekday, time, time zone, view counter.
_DATELINE_NOISE = re.compile(
    r"ngày\s*(?:đăng|cập\s*nhật|xuất\s*bản)|cập\s*nhật(?:\s*lúc)?|đăng\s*(?:lúc|ngày|tải)?"
    r"|xuất\s*bản|thời\s*gian(?:\s*đăng)?|lúc|ngày|published|updated|posted|date"
    r"|thứ\s*(?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s*nhật|\bcn\b"
    r"|\d{1,2}\s*[:hg]\s*\d{2}(?:\s*:\s*\d{2})?(?:\s*(?:am|pm|sa|ch)\b)?"
    r"|\d{1,2}\s*giờ(?:\s*\d{1,2}(?:\s*phút)?)?"
    r"|(?:gmt|utc)\s*(?:[+-]\s*\d{1,2}(?::?\d{2})?)?"
    r"|(?:lượt\s*(?:xem|đọc)|views?)\s*:?\s*[\d.,]*",
    re.IGNORECASE,
)
_DATELINE_MAX_CHARS = 100


def _to_iso(year: int, month: int, day: int) -> str | None:
    """ISO date, or None for impossible dates (30 February) and implausible years."""
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _date_matches(text: str) -> list[tuple[int, int, str | None]]:
    """Every date-shaped span as (start, end, iso or None when impossible), in text order."""
    found = []
    for pattern in (_YMD, _DMY, _WORDS):
        for match in pattern.finditer(text):
            iso = _to_iso(int(match["y"]), int(match["m"]), int(match["d"]))
            found.append((match.start(), match.end(), iso))
    return sorted(found)


def parse_vietnamese_date(text: str) -> str | None:
    """The first possible date written in `text` as YYYY-MM-DD, or None.

    Date-shaped but impossible spans ("30/02/2023") are skipped, so a text holding only
    those gives None.
    """
    return next((iso for _, _, iso in _date_matches(text) if iso), None)


def dateline_date(line: str) -> str | None:
    """The date of a line that is nothing but a dateline, else None.

    A dateline holds a date plus only labels ("Cập nhật", "Ngày đăng"), a weekday, a time,
    a time zone or a view counter. Requiring that nothing else is left keeps dates quoted in
    body sentences ("Nghị quyết ... ngày 11/11/2021") and related-article lines
    ("- Title (22/03/2022)") from being taken as the publication date.
    """
    if len(line) > _DATELINE_MAX_CHARS:
        return None
    matches = _date_matches(line)
    first = next((iso for _, _, iso in matches if iso), None)
    if first is None:
        return None
    rest, cursor = [], 0
    for start, end, _ in matches:
        rest.append(line[cursor:start])
        cursor = max(cursor, end)
    rest.append(line[cursor:])
    leftover = _DATELINE_NOISE.sub(" ", " ".join(rest))
    return None if any(ch.isalnum() for ch in leftover) else first
