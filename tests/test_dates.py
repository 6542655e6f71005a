"""Date forms found on Vietnamese news pages and in feeds, and the ones that must be refused."""

from __future__ import annotations

import pytest

from indexer.dates import dateline_date, parse_vietnamese_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # datelines as the sample pages print them
        ("17:15, Thứ Năm, 23-11-2023", "2023-11-23"),
        ("09:29, Thứ Tư, 17/01/2018 (GMT+7)", "2018-01-17"),
        ("Thứ Hai, 05/03/2018", "2018-03-05"),
        ("Chủ nhật, 5/3/2023 - 10:15", "2023-03-05"),
        ("Thứ 5, 23/11/2023, 08:00 GMT+7", "2023-11-23"),
        ("23/11/2023 17:15", "2023-11-23"),
        ("23.11.2023", "2023-11-23"),
        ("Cập nhật lúc 10h30 ngày 23/11/2023", "2023-11-23"),
        # written out in words
        ("ngày 12 tháng 3 năm 2022", "2022-03-12"),
        ("Ngày 12 Tháng 03, 2022", "2022-03-12"),
        ("Quảng Trị, ngày 1 tháng 12 năm 2021", "2021-12-01"),
        # ISO 8601, with and without a time and offset
        ("2023-11-23", "2023-11-23"),
        ("2023-11-23T10:00:00+07:00", "2023-11-23"),
        ("2023-11-23T10:00:00Z", "2023-11-23"),
        ("2023-11-23 10:00", "2023-11-23"),
        ("2023/11/23", "2023-11-23"),
        # leap days
        ("29/02/2024", "2024-02-29"),
        ("2000-02-29", "2000-02-29"),
        # the first possible date wins; impossible ones are skipped
        ("30/02/2023 hoặc 01/03/2023", "2023-03-01"),
    ],
)
def test_parse_vietnamese_date(text: str, expected: str) -> None:
    assert parse_vietnamese_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-30",  # no 30 February
        "30/02/2023",
        "29/02/2023",  # 2023 is no leap year
        "1900-02-29",  # nor is 1900
        "31/04/2023",  # April has 30 days
        "2023-13-01",  # no month 13
        "00/01/2023",  # no day 0
        "ngày 32 tháng 1 năm 2023",
        "01/01/1800",  # outside the plausible years
        "23/11/23",  # two-digit years are ambiguous
        "2023-11",  # no day
        "tháng 12-2021",
        "Năm 2023",
        "23/11-2023",  # mixed separators
        "1.312 đảng viên",
        "",
        "không có ngày",
    ],
)
def test_impossible_or_partial_dates_give_none(text: str) -> None:
    assert parse_vietnamese_date(text) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("17:15, Thứ Năm, 23-11-2023", "2023-11-23"),
        ("09:29, Thứ Tư, 17/01/2018 (GMT+7)", "2018-01-17"),
        ("Cập nhật: 08:00, 24/11/2023", "2023-11-24"),
        ("Ngày đăng: 23/11/2023 | Lượt xem: 1.234", "2023-11-23"),
        ("Đăng lúc 10:15 ngày 12 tháng 3 năm 2022", "2022-03-12"),
        ("2023-11-23T10:00:00+07:00", "2023-11-23"),
    ],
)
def test_dateline_date_accepts_lines_that_are_only_a_date(line: str, expected: str) -> None:
    assert dateline_date(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        # a related-article entry carries a title besides its date
        "- Thị xã Quảng Trị tổ chức giải kéo co - đẩy gậy năm 2022 (22/03/2022)",
        # a date quoted in a body sentence
        "Đồng thời đã ban hành Nghị quyết số 01 –NQ/TU ngày 11/11/2021 của Thị ủy về xây dựng nếp sống.",
        "Tính đến tháng 12-2021, Đảng bộ huyện Vĩnh Bảo có 75 chi, đảng bộ trực thuộc",
        "Thứ Năm, 30/02/2023",  # impossible
        "Thứ Năm",  # no date at all
    ],
)
def test_dateline_date_refuses_other_lines(line: str) -> None:
    assert dateline_date(line) is None
