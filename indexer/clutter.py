"""Recognise the page clutter that scraping Vietnamese news portals leaves around an article.

Provincial portals share a handful of templates: a "Chi tiết tin - <site>" header, related
article lists ("Các tin khác", "- Title (22/03/2022)"), visit counters, polls, "Go top" links
and template debris such as "pageHolder.getStart() - 0". Patterns are anchored at the start
of the line (after a list bullet) and most must match the *whole* line, case-insensitively and
tolerant of missing spaces ("Hôm nay590"); the few prefix patterns (footer labels with a colon,
"Tags:") are ones no body sentence starts with. So a sentence that merely mentions these words
("Hôm nay, tỉnh tổ chức ...") is never dropped.
"""

from __future__ import annotations

import re

_BULLET = re.compile(r"^[-–—•·▪●◦*+»›>]+\s*")

_HEADER = re.compile(r"^chi\s*tiết\s*(?:tin(?:\s*tức)?|bài(?:\s*viết)?)\s*(?:[-–—:|]\s*(?P<site>.*))?$", re.I)

# Section and widget headings that only ever stand alone on a line.
_HEADINGS = (
    r"(?:các\s*)?tin\s*(?:khác|liên\s*quan|đã\s*đưa|mới\s*hơn|cũ\s*hơn)",
    r"(?:tin|bài)\s*cùng\s*(?:chuyên\s*mục|loại|danh\s*mục)",
    r"(?:các\s*)?bài\s*(?:viết\s*)?(?:khác|liên\s*quan|đã\s*đăng)",
    r"tin\s*bài\s*(?:liên\s*quan|khác)",
    r"(?:tin\s*)?(?:mới\s*nhất|mới\s*cập\s*nhật|nổi\s*bật|tiêu\s*điểm)",
    r"(?:tin\s*)?(?:xem|đọc)\s*nhiều(?:\s*nhất)?",
    r"xem\s*thêm|tin\s*tức(?:\s*[-–]?\s*sự\s*kiện)?",
    r"văn\s*bản\s*(?:mới(?:\s*ban\s*hành)?|chỉ\s*đạo(?:\s*điều\s*hành)?)",
    r"thăm\s*dò\s*ý\s*kiến|bình\s*chọn|(?:xem\s*)?kết\s*quả\s*bình\s*chọn|xem\s*kết\s*quả|biểu\s*quyết",
    r"liên\s*kết\s*(?:web(?:site)?|trang)|thư\s*viện\s*(?:ảnh|video)|video\s*clip",
    r"(?:gửi\s*)?(?:phản\s*hồi|bình\s*luận)|ý\s*kiến\s*bạn\s*đọc",
    r"chia\s*sẻ|in\s*bài(?:\s*viết)?|in\s*trang|bản\s*in|gửi\s*email|quay\s*lại|trở\s*về|lưu\s*bài",
    r"thống\s*kê\s*truy\s*cập|lượt\s*truy\s*cập",
)
_HEADING = re.compile(rf"^(?:{'|'.join(_HEADINGS)})\s*(?:\(\d+\))?\s*[:.»>…]*$", re.I)
# A widget title followed by another widget's name: "Thống kê truy cập - Thông tin hướng dẫn".
_STATS_TITLE = re.compile(r"^thống\s*kê\s*truy\s*cập\s*[-–—:|]", re.I)

_COUNTER_LABEL = (
    r"(?:đang\s*(?:truy\s*cập|online)|(?:người\s*)?trực\s*tuyến|hôm\s*(?:nay|qua)"
    r"|(?:tuần|tháng)\s*(?:này|trước)|(?:tổng\s*)?(?:số\s*)?lượt\s*(?:truy\s*cập|xem)|truy\s*cập"
    r"|tổng|khách|thành\s*viên|online|visitors?)"
)
# The whole line is one or more counter labels and at most a number: "Khách Khách 1164".
_COUNTER = re.compile(rf"^(?:{_COUNTER_LABEL}\s*:?\s*)+[\d.,]*$", re.I)

_POLL = re.compile(
    r"^(?:[\d.,]*\s*người\s*đã\s*tham\s*gia\s*bình\s*chọn|[\d.,]*\s*lượt\s*bình\s*chọn"
    r"|(?:hiện\s*tại\s*)?không\s*có\s*bình\s*chọn\s*nào(?:\s*đang\s*hoạt\s*động)?)\s*[.!]?$",
    re.I,
)
_GO_TOP = re.compile(r"^\d*\s*(?:go\s*top|back\s*to\s*top|(?:về|lên)?\s*đầu\s*trang|top)$", re.I)
# Template variables printed as text: "pageHolder.getStart() - 0", "numberArticle - 3".
_DEBRIS = re.compile(r"^[a-z]+(?:[A-Z][A-Za-z0-9]*)+(?:\.[a-z]\w*\(\))*\s*[-:=]\s*[\d.,]+$")
_CODE = re.compile(r"^(?:\{\{.*\}\}|\$\{.*\}|<%.*%>|javascript:.*|undefined|null|nan)$", re.I)
_FOOTER = re.compile(
    r"^(?:©|copyright\b|bản\s*quyền\s*(?:thuộc|©|\d)|cơ\s*quan\s*chủ\s*quản\s*:|giấy\s*phép\b.{0,40}\d+/gp"
    r"|chịu\s*trách\s*nhiệm\s*(?:chính|nội\s*dung|xuất\s*bản)\s*:|(?:phát\s*triển|thiết\s*kế)\s*bởi\b)",
    re.I,
)
_TAGS = re.compile(r"^(?:tags?|từ\s*khóa|từ\s*khoá)\s*:", re.I)
_BREADCRUMB = re.compile(r"^(?:trang\s*chủ|home)\s*[>»/|›]", re.I)
# A related-article entry: a title ending in its date, "- Title (22/03/2022)".
_RELATED_ITEM = re.compile(r"^.{3,300}?\(\s*\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?(?:\s+\d{1,2}:\d{2})?\s*\)$")

_BLOCK_PATTERNS = (
    _HEADING,
    _STATS_TITLE,
    _COUNTER,
    _POLL,
    _GO_TOP,
    _CODE,
    _FOOTER,
    _TAGS,
    _BREADCRUMB,
    _RELATED_ITEM,
)


def _core(line: str) -> str:
    """The line without surrounding spaces and a leading list bullet ("•", "-")."""
    return _BULLET.sub("", line.strip()).strip()


def site_from_header(line: str) -> str | None:
    """The site named by a "Chi tiết tin - <site>" page header, else None."""
    match = _HEADER.match(line.strip())
    if not match:
        return None
    return (match["site"] or "").strip() or None


def is_lone_punctuation(line: str) -> bool:
    """A line with no letter or digit: stray ".", ",", "•" left between page blocks."""
    return not any(ch.isalnum() for ch in line)


def starts_clutter_block(line: str) -> bool:
    """A line typical of the blocks after an article: related lists, counters, polls, footers."""
    core = _core(line)
    if not core:
        return False
    if _DEBRIS.match(core):
        return True
    return any(pattern.search(core) for pattern in _BLOCK_PATTERNS)


def is_clutter(line: str) -> bool:
    """A line that is never article text, wherever it appears on the page."""
    return is_lone_punctuation(line) or site_from_header(line) is not None or starts_clutter_block(line)
