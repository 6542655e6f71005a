"""Time words read as a period: a table of Vietnamese and English forms, and forms that name no time."""

from __future__ import annotations

from datetime import date

import pytest

from tracuu.text.timewords import interpret_time, mentions

REFERENCE = date(2023, 11, 23)  # the index's newest article: what "năm nay" means

# (query, the words read, first day, last day)
FORMS = [
    ("kết nạp đảng viên năm 2021", "năm 2021", "2021-01-01", "2021-12-31"),
    ("nam 2021", "nam 2021", "2021-01-01", "2021-12-31"),
    ("2017", "2017", "2017-01-01", "2017-12-31"),
    ("Đảng bộ Ba Đồn 2017", "2017", "2017-01-01", "2017-12-31"),
    ("tháng 3/2022", "tháng 3/2022", "2022-03-01", "2022-03-31"),
    ("thang 3/2022", "thang 3/2022", "2022-03-01", "2022-03-31"),
    ("tháng 3 năm 2022", "tháng 3 năm 2022", "2022-03-01", "2022-03-31"),
    ("tháng 12-2021", "tháng 12-2021", "2021-12-01", "2021-12-31"),
    ("họp 3/2022", "3/2022", "2022-03-01", "2022-03-31"),
    ("tháng 2 năm 2024", "tháng 2 năm 2024", "2024-02-01", "2024-02-29"),
    ("ngày 15/3/2022", "ngày 15/3/2022", "2022-03-15", "2022-03-15"),
    ("15 tháng 3 năm 2022", "15 tháng 3 năm 2022", "2022-03-15", "2022-03-15"),
    ("2022-03-15", "2022-03-15", "2022-03-15", "2022-03-15"),
    ("quý I/2023", "quý I/2023", "2023-01-01", "2023-03-31"),
    ("quy 2 nam 2022", "quy 2 nam 2022", "2022-04-01", "2022-06-30"),
    ("quý IV năm 2021", "quý IV năm 2021", "2021-10-01", "2021-12-31"),
    ("quý 2 năm ngoái", "quý 2 năm ngoái", "2022-04-01", "2022-06-30"),
    ("nhiệm kỳ 2020-2025", "nhiệm kỳ 2020-2025", "2020-01-01", "2025-12-31"),
    ("nhiem ky 2020 - 2025", "nhiem ky 2020 - 2025", "2020-01-01", "2025-12-31"),
    ("giai đoạn 2016-2020", "giai đoạn 2016-2020", "2016-01-01", "2020-12-31"),
    ("từ 2019 đến 2021", "từ 2019 đến 2021", "2019-01-01", "2021-12-31"),
    ("từ năm 2019 đến năm 2021", "từ năm 2019 đến năm 2021", "2019-01-01", "2021-12-31"),
    ("năm học 2021-2022", "năm học 2021-2022", "2021-01-01", "2022-12-31"),
    ("từ năm 2019 đến nay", "từ năm 2019 đến nay", "2019-01-01", "2023-12-31"),
    ("tháng 3/2022 đến tháng 6/2022", "tháng 3/2022 đến tháng 6/2022", "2022-03-01", "2022-06-30"),
    ("so sánh 2019 và 2021", "2019 và 2021", "2019-01-01", "2021-12-31"),
    ("6 tháng đầu năm 2022", "6 tháng đầu năm 2022", "2022-01-01", "2022-06-30"),
    ("sáu tháng đầu năm", "sáu tháng đầu năm", "2023-01-01", "2023-06-30"),
    ("nửa đầu năm nay", "nửa đầu năm nay", "2023-01-01", "2023-06-30"),
    ("đầu năm nay", "đầu năm nay", "2023-01-01", "2023-03-31"),
    ("cuối năm 2021", "cuối năm 2021", "2021-10-01", "2021-12-31"),
    ("năm nay", "năm nay", "2023-01-01", "2023-12-31"),
    ("nam nay", "nam nay", "2023-01-01", "2023-12-31"),
    ("năm ngoái", "năm ngoái", "2022-01-01", "2022-12-31"),
    ("nam ngoai", "nam ngoai", "2022-01-01", "2022-12-31"),
    ("năm trước", "năm trước", "2022-01-01", "2022-12-31"),
    ("tháng trước", "tháng trước", "2023-10-01", "2023-10-31"),
    ("năm 1930", "năm 1930", "1930-01-01", "1930-12-31"),
    ("in 2021", "in 2021", "2021-01-01", "2021-12-31"),
    ("Vietnam public debt in 2021", "in 2021", "2021-01-01", "2021-12-31"),
    ("March 2022", "March 2022", "2022-03-01", "2022-03-31"),
    ("Sept. 2020", "Sept. 2020", "2020-09-01", "2020-09-30"),
    ("March 15, 2022", "March 15, 2022", "2022-03-15", "2022-03-15"),
    ("15 March 2022", "15 March 2022", "2022-03-15", "2022-03-15"),
    ("between 2019 and 2021", "between 2019 and 2021", "2019-01-01", "2021-12-31"),
    ("from 2019 to 2021", "from 2019 to 2021", "2019-01-01", "2021-12-31"),
    ("the 2020-2025 term", "2020-2025 term", "2020-01-01", "2025-12-31"),
    ("since 2019", "since 2019", "2019-01-01", "2023-12-31"),
    ("last year", "last year", "2022-01-01", "2022-12-31"),
    ("this year", "this year", "2023-01-01", "2023-12-31"),
    ("Q1 2023", "Q1 2023", "2023-01-01", "2023-03-31"),
    ("first quarter of 2023", "first quarter of 2023", "2023-01-01", "2023-03-31"),
    ("first half of 2022", "first half of 2022", "2022-01-01", "2022-06-30"),
    ("early 2022", "early 2022", "2022-01-01", "2022-03-31"),
    ("mid-2021", "mid-2021", "2021-05-01", "2021-08-31"),
    ("late last year", "late last year", "2022-10-01", "2022-12-31"),
]

NO_TIME = [
    "kết nạp đảng viên mới",
    "Vinh Bao co bao nhieu dang vien",
    "2.000 người",
    "kết nạp 2021 đảng viên",
    "2021 người tham gia",
    "Điều 2021",
    "khoản 2019 của luật",
    "Nghị định 15/2021/NĐ-CP",
    "số 3/2022",
    "Vĩnh Bảo 9.295 đảng viên",
    "1930",
    "3000",
    "quỹ I",
    "5 năm trước",
    "xyzzqw blorft",
    "Việt Nam",
    "đầu tư công",
    "World Cup được tổ chức lần đầu năm mấy",
    "thành lập năm nào",
    "thắng lợi",
    "",
]


@pytest.mark.parametrize(("query", "text", "first", "last"), FORMS)
def test_a_time_form_reads_as_its_period(query: str, text: str, first: str, last: str) -> None:
    period = interpret_time(query, REFERENCE)
    assert period is not None, query
    assert period.as_dict() == {"text": text, "from": first, "to": last}


@pytest.mark.parametrize("query", NO_TIME)
def test_numbers_and_words_that_name_no_time_are_not_read_as_one(query: str) -> None:
    assert interpret_time(query, REFERENCE) is None


def test_marked_words_must_be_the_time_words_themselves() -> None:
    assert interpret_time("giá dầu năm 2022", REFERENCE).as_dict()["text"] == "năm 2022"  # dầu (oil), not đầu
    assert interpret_time("giá đầu năm 2022", REFERENCE).as_dict()["to"] == "2022-03-31"
    assert interpret_time("quỹ 2 năm 2022", REFERENCE).as_dict()["text"] == "năm 2022"  # quỹ (fund), not quý


def test_relative_words_need_a_reference() -> None:
    assert interpret_time("năm nay", None) is None
    assert interpret_time("năm nay", date(2019, 5, 1)).as_dict()["from"] == "2019-01-01"


def test_a_passage_mentions_a_date_or_year_inside_the_period() -> None:
    year_2021 = interpret_time("năm 2021", REFERENCE)
    assert mentions("Năm 2021, Đảng bộ huyện kết nạp 185 đảng viên.", year_2021)
    assert mentions("Hội nghị ngày 17/01/2021 đã thông qua", year_2021)
    assert not mentions("Kết nạp 2021 đảng viên mới", year_2021)  # a count
    assert not mentions("trong năm 2022", year_2021)
    assert not mentions("giai đoạn 1945-2025", year_2021)  # a long span does not name each of its years
    term = interpret_time("nhiệm kỳ 2020-2025", REFERENCE)
    assert mentions("Năm 2021 là năm đầu thực hiện", term) and mentions("nhiệm kỳ 2020 - 2025", term)
