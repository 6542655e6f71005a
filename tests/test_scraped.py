"""Scraped pages to clean articles: the five sample pages in corpus/ and synthetic edge cases."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from indexer.format.records import Article
from indexer.scraped import parse_scraped_text

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

# id, title, source, published, author: what a reader of each page would write down.
EXPECTED_METADATA = [
    (
        "000_8120bada2dc3097c",
        "Năm 2021: Công tác xây dựng Đảng của Đảng bộ thị xã Quảng Trị đạt được kết quả toàn diện trên các lĩnh vực",
        "Thị xã Quảng Trị",  # from the "Chi tiết tin - Thị xã Quảng Trị" header
        None,  # no dateline; the related list's "(22/03/2022)" dates are not this article's
        "Ngọc Lan",  # "Bài, ảnh: Ngọc Lan"
    ),
    (
        "001_c81213e13d664aa3",
        "Điểm nhấn công tác xây dựng Đảng ở Quảng Trị",
        "Báo Quảng Trị",  # "QTO - " lead prefix
        None,
        "Chí Nhân",  # bare byline after the last paragraph
    ),
    (
        "002_ec4d3e1a54c06ea6",
        "Xây dựng Đảng bộ Phường 5, thành phố Đông Hà trong sạch, vững mạnh",
        "Báo Quảng Trị",  # "Nguồn: Báo Quảng Trị; Tác giả: Vũ Hoàng" beats the portal header
        "2023-11-23",  # "17:15, Thứ Năm, 23-11-2023"
        "Vũ Hoàng",
    ),
    (
        "003_c32edca671531721",
        "Đảng bộ huyện Vĩnh Bảo (TP. Hải Phòng) nâng cao chất lượng xây dựng, củng cố tổ chức cơ sở đảng",
        None,
        None,
        None,
    ),
    (
        "004_900d24731e0b2397",
        "Đảng bộ thị xã Ba Đồn: Đổi mới toàn diện hệ thống chính trị cơ sở",
        "Báo Quảng Bình",  # "(QBĐT) - " lead prefix
        "2018-01-17",  # "09:29, Thứ Tư, 17/01/2018 (GMT+7)"
        "Hiền Chi",
    ),
]

# The article body of each page as 1-based inclusive line ranges of the raw file.
BODY_LINES = {
    "000_8120bada2dc3097c": (3, 11),
    "001_c81213e13d664aa3": (3, 39),
    "002_ec4d3e1a54c06ea6": (7, 51),
    "003_c32edca671531721": (3, 21),
    "004_900d24731e0b2397": (8, 35),
}
AGENCY_PREFIXES = ("QTO - ", "(QBĐT) - ")

# Real sentences, quoted from the pages: the first and last paragraphs and some in between.
BODY_SENTENCES = {
    "000_8120bada2dc3097c": [
        "Với quyết tâm chính trị cao và nỗ lực lớn, Ban chấp hành Đảng bộ thị xã Quảng Trị",
        "Đồng thời đã ban hành Nghị quyết số 01 –NQ/TU ngày 11/11/2021 của Thị ủy về xây dựng nếp sống "
        "văn minh đô thị.",
        "Chỉ tiêu không đạt là thành lập chi bộ đảng doanh nghiệp ngoài nhà nước.",
        "góp phần xây dựng Đảng bộ thị xã Quảng Trị ngày càng đoàn kết, kỷ cương, vững mạnh.",
    ],
    "001_c81213e13d664aa3": [
        "Từ đầu nhiệm kỳ đến nay, Quảng Trị đã thực hiện đồng bộ nhiều giải pháp",
        "Công tác chính trị, tư tưởng được đổi mới, nâng cao chất lượng",
        "Thống nhất về tư tưởng, ý chí, hành động trong Đảng bộ",
        "Đã tổ chức 14 lớp bồi dưỡng lý luận, cập nhật kiến thức mới cho cán bộ diện BTV Tỉnh ủy quản lý",
        "Nêu cao ý chí tự lực, tự cường, anh hùng, bất khuất trong lao động sản xuất.",
        "xây dựng Quảng Trị trở thành tỉnh phát triển trong khu vực.",
    ],
    "002_ec4d3e1a54c06ea6": [
        "Từ đầu nhiệm kỳ 2020 - 2025 đến nay, Đảng bộ Phường 5, TP. Đông Hà đã có nhiều giải pháp",
        "Năm 2021 có 22/24 chi bộ được xếp loại hoàn thành tốt nhiệm vụ;",
        "Đến ngày 25 họp chi bộ.",
        "Theo Bí thư Đảng ủy, Chủ tịch UBND Phường 5 Lê Quang Việt Sơn, điểm mấu chốt",
        "Đây là nền tảng để Phường 5 vững bước đi lên, hoàn thành các mục tiêu đã được Nghị quyết "
        "Đại hội Đảng bộ phường lần thứ XIII, nhiệm kỳ 2020 - 2025 xác định.",
    ],
    "003_c32edca671531721": [
        "Năm 2021, được sự quan tâm lãnh đạo, chỉ đạo của Thành ủy, HĐND, UBND",
        "Biểu dương, khen thưởng các tổ chức đảng “Hoàn thành xuất sắc nhiệm vụ” năm 2021.",
        "Tính đến tháng 12-2021, Đảng bộ huyện Vĩnh Bảo có 75 chi, đảng bộ trực thuộc với 9.295 đảng viên",
        "100% người đứng đầu cấp ủy các cấp đối thoại trực tiếp với nhân dân theo quy định.",
        "Các đơn vị ký kết Giao ước thi đua năm 2022.",
    ],
    "004_900d24731e0b2397": [
        "Phát huy truyền thống đoàn kết, Đảng bộ thị xã Ba Đồn đã tập trung sự lãnh đạo toàn diện",
        "địa bàn có vụ việc nổi lên... nhằm bảo đảm sự lãnh đạo toàn diện trên các lĩnh vực công tác.",
        "cấp ủy, Ủy ban Kiểm tra Thị uỷ đã thi hành kỷ luật đối với 21 đảng viên.",
        "Việc thi hành kỷ luật được thực hiện kịp thời, chính xác và bảo đảm đúng nguyên tắc nhằm giáo dục, "
        "răn đe, góp phần giữ vững kỷ cương, kỷ luật Đảng.",
    ],
}

# None of these may survive anywhere in a cleaned text.
CLUTTER_PATTERNS = [
    r"Chi tiết tin",
    r"Đang truy cập",
    r"Hôm nay\s*\d",
    r"lượt truy cập",
    r"Thống kê truy cập",
    r"Người trực tuyến",
    r"^Khách",
    r"Thành viên Thành viên",
    r"^Tổng",
    r"Các tin khác",
    r"Tin liên quan",
    r"THĂM DÒ Ý KIẾN",
    r"bình chọn",
    r"VĂN BẢN MỚI",
    r"pageHolder|numberArticle|numberRelation|getNumberObjects",
    r"Go top",
    r"^Phản hồi$",
    r"^Mới nhất$",
    r"^Xem nhiều nhất$",
    r"^\W*$",  # lone punctuation and empty lines
    r"\(\d{1,2}/\d{1,2}/\d{4}\)$",  # related-article entries
    r"^- ",
    r"Bài, ảnh",
    r"^Nguồn:",
    r"Tác giả:",
    r"^QTO -",
    r"^\(QBĐT\)",
    r"GMT\+7",
    r"^\d{1,2}:\d{2}, Thứ",
    r"^(Chí Nhân|Hiền Chi|Ngọc Lan)$",
    r"\u00a0|\r|\ufeff",
]


def _read(doc_id: str) -> str:
    return (CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def articles() -> dict[str, Article]:
    return {doc_id: parse_scraped_text(_read(doc_id), doc_id, origin=doc_id) for doc_id in BODY_LINES}


def test_every_sample_is_covered() -> None:
    assert sorted(p.stem for p in CORPUS.glob("*.txt")) == sorted(BODY_LINES)


@pytest.mark.parametrize(("doc_id", "title", "source", "published", "author"), EXPECTED_METADATA)
def test_sample_metadata(
    articles: dict[str, Article],
    doc_id: str,
    title: str,
    source: str | None,
    published: str | None,
    author: str | None,
) -> None:
    article = articles[doc_id]
    assert (article.id, article.title, article.source, article.published, article.author) == (
        doc_id,
        title,
        source,
        published,
        author,
    )
    assert article.lang is None  # set later by the language detector
    assert article.origin == doc_id


def _expected_body(doc_id: str) -> list[str]:
    """The body lines of the raw page: spaces collapsed, agency prefix dropped, repeats once."""
    first, last = BODY_LINES[doc_id]
    lines = [" ".join(line.split()) for line in _read(doc_id).split("\n")[first - 1 : last]]
    lines = [line for line in lines if line]
    for prefix in AGENCY_PREFIXES:
        lines[0] = lines[0].removeprefix(prefix)
    return list(dict.fromkeys(lines))


@pytest.mark.parametrize("doc_id", sorted(BODY_LINES))
def test_text_is_exactly_the_body_paragraphs(articles: dict[str, Article], doc_id: str) -> None:
    assert articles[doc_id].text.split("\n") == _expected_body(doc_id)


@pytest.mark.parametrize(("doc_id", "sentence"), [(d, s) for d, ss in BODY_SENTENCES.items() for s in ss])
def test_body_sentences_survive(articles: dict[str, Article], doc_id: str, sentence: str) -> None:
    assert sentence in articles[doc_id].text


@pytest.mark.parametrize("pattern", CLUTTER_PATTERNS)
def test_no_clutter_survives(articles: dict[str, Article], pattern: str) -> None:
    for article in articles.values():
        for line in article.text.split("\n"):
            assert not re.search(pattern, line, re.IGNORECASE), (article.id, line)


def test_title_is_not_repeated_in_text(articles: dict[str, Article]) -> None:
    for article in articles.values():
        assert article.title not in article.text.split("\n")


def test_duplicated_caption_is_kept_once(articles: dict[str, Article]) -> None:
    caption = (
        "Đồng chí Bí thư Thị uỷ Ba Đồn Trần Thắng trao quyết định công nhận tổ chức cơ sở đảng "
        "đạt trong sạch vững mạnh năm 2017 cho các tập thể."
    )
    assert _read("004_900d24731e0b2397").count(caption) == 2
    assert articles["004_900d24731e0b2397"].text.count(caption) == 1


def test_related_list_dates_are_not_the_publication_date(articles: dict[str, Article]) -> None:
    article = articles["000_8120bada2dc3097c"]
    assert "(22/03/2022)" in _read(article.id)
    assert article.published is None
    assert "22/03/2022" not in article.text


def test_portal_that_republished_is_kept_as_site(articles: dict[str, Article]) -> None:
    assert articles["002_ec4d3e1a54c06ea6"].extra == {"site": "Phường 5 - Đông Hà"}
    assert articles["000_8120bada2dc3097c"].extra == {"site": "Thị xã Quảng Trị"}
    assert articles["004_900d24731e0b2397"].extra == {}


# Synthetic pages ---------------------------------------------------------------------------

LEAD = "Hôm nay, Ủy ban nhân dân tỉnh tổ chức hội nghị tổng kết công tác năm 2023 với nhiều đại biểu."
SECOND = "Hội nghị đã thông qua nghị quyết về phát triển kinh tế - xã hội năm 2024 với nhiều chỉ tiêu."


def _page(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def test_article_without_date_gives_none() -> None:
    article = parse_scraped_text(_page("Hội nghị tổng kết", LEAD, SECOND, "Minh Anh"), "x")
    assert article.published is None
    assert (article.title, article.author) == ("Hội nghị tổng kết", "Minh Anh")
    assert article.text == f"{LEAD}\n{SECOND}"


def test_nfd_input_gives_nfc_output() -> None:
    raw = _page("Chi tiết tin - Xã Hải Lệ", "Hội nghị tổng kết", "Thứ Hai, 05/03/2018", LEAD, "Hoàng Nam")
    article = parse_scraped_text(unicodedata.normalize("NFD", raw), "x")
    for value in (article.title, article.text, article.author, article.source):
        assert unicodedata.is_normalized("NFC", value)
    assert (article.title, article.text, article.author, article.source, article.published) == (
        "Hội nghị tổng kết",
        LEAD,
        "Hoàng Nam",
        "Xã Hải Lệ",
        "2018-03-05",
    )


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_bom_input(newline: str) -> None:
    raw = _page("Hội nghị", "17:15, Thứ Năm, 23-11-2023", LEAD, "", SECOND, "Các tin khác", "- A (1/11/2023)")
    expected = parse_scraped_text(raw, "x")
    article = parse_scraped_text("\ufeff" + raw.replace("\n", newline), "x")
    assert article == expected
    assert "\r" not in article.text
    assert (article.title, article.published, article.text) == ("Hội nghị", "2023-11-23", f"{LEAD}\n{SECOND}")


def test_nbsp_and_repeated_spaces_are_collapsed() -> None:
    raw = _page("Tiêu\u00a0đề  bài ", "Đoạn\u00a0 một   có\tkhoảng trắng lạ.\u00a0")
    article = parse_scraped_text(raw, "x")
    assert (article.title, article.text) == ("Tiêu đề bài", "Đoạn một có khoảng trắng lạ.")


@pytest.mark.parametrize(
    "dateline",
    ["Cập nhật: 08:00, 24/11/2023", "Ngày đăng: 24/11/2023 | Lượt xem: 1.234", "ngày 24 tháng 11 năm 2023"],
)
def test_labelled_datelines(dateline: str) -> None:
    article = parse_scraped_text(_page("Hội nghị tổng kết", dateline, LEAD), "x")
    assert (article.published, article.text) == ("2023-11-24", LEAD)


def test_dateline_wins_over_related_list_and_body_dates() -> None:
    raw = _page(
        "Hội nghị tổng kết",
        "Thứ Hai, 05/03/2018",
        "Nghị quyết số 01-NQ/TU ngày 11/11/2017 của Tỉnh ủy được quán triệt sâu rộng tới cán bộ.",
        "Tin cùng chuyên mục",
        "- Hội nghị khác (22/03/2022)",
    )
    assert parse_scraped_text(raw, "x").published == "2018-03-05"


def test_related_list_alone_gives_no_date() -> None:
    raw = _page("Hội nghị", LEAD, "Tin liên quan", "- Hội nghị A (22/03/2022)", "- Hội nghị B (21/03/2022)")
    article = parse_scraped_text(raw, "x")
    assert (article.published, article.text) == (None, LEAD)


def test_clutter_box_inside_the_article_keeps_later_paragraphs() -> None:
    raw = _page("Hội nghị tổng kết", LEAD, "Tin liên quan", "- Hội nghị A (22/03/2022)", SECOND, "Xem thêm")
    assert parse_scraped_text(raw, "x").text == f"{LEAD}\n{SECOND}"


def test_everything_after_the_trailing_clutter_block_goes() -> None:
    raw = _page(
        "Hội nghị tổng kết",
        LEAD,
        "Minh Anh",
        "Các tin khác",
        "Hội nghị tổng kết ngành giáo dục",  # an undated related title no pattern knows
        "Liên kết website",
        "Trang thông tin điện tử xã",
        "Tổng lượt truy cập: 81746591",
    )
    article = parse_scraped_text(raw, "x")
    assert (article.text, article.author) == (LEAD, "Minh Anh")


@pytest.mark.parametrize(
    "sentence",
    [
        "Hôm nay, tỉnh tổ chức lễ ra quân với sự tham gia của hàng nghìn đoàn viên thanh niên.",
        "Tổng lượt truy cập cổng dịch vụ công của tỉnh tăng mạnh trong năm 2023 so với năm trước.",
        "Khách du lịch đến Quảng Trị năm nay tăng gấp đôi so với cùng kỳ năm trước.",
        "Theo Bí thư Tỉnh ủy, công tác xây dựng Đảng là nhiệm vụ then chốt.",
        "Chương trình thu hút 5.000 lượt bình chọn của người dân trên địa bàn tỉnh.",
    ],
)
def test_sentences_that_start_like_clutter_survive(sentence: str) -> None:
    article = parse_scraped_text(_page("Tiêu đề", LEAD, sentence, "Các tin khác"), "x")
    assert article.text == f"{LEAD}\n{sentence}"


@pytest.mark.parametrize(
    ("credit", "source", "author"),
    [
        ("Theo TTXVN", "Thông tấn xã Việt Nam", None),
        ("Theo Báo Nhân Dân", "Báo Nhân Dân", None),
        ("Hoàng Nam (TTXVN)", "Thông tấn xã Việt Nam", "Hoàng Nam"),
        ("Bài và ảnh: Thu Hà", None, "Thu Hà"),
        ("Tác giả: Vũ Hoàng", None, "Vũ Hoàng"),
        ("Nguồn: Báo Quảng Trị; Tác giả: Vũ Hoàng", "Báo Quảng Trị", "Vũ Hoàng"),
        ("Thu Hà - Minh Anh", None, "Thu Hà - Minh Anh"),
        ("T.Hà", None, None),  # one token is too little to call a byline
    ],
)
def test_closing_credits(credit: str, source: str | None, author: str | None) -> None:
    article = parse_scraped_text(_page("Tiêu đề", LEAD, credit), "x")
    assert (article.source, article.author) == (source, author)
    assert article.text == (LEAD if source or author else f"{LEAD}\n{credit}")


def test_lowercase_closing_line_is_body_not_byline() -> None:
    article = parse_scraped_text(_page("Tiêu đề", LEAD, "Kết quả nổi bật"), "x")
    assert (article.author, article.text) == (None, f"{LEAD}\nKết quả nổi bật")


def test_author_label_under_the_title() -> None:
    article = parse_scraped_text(_page("Tiêu đề", "Tác giả: Vũ Hoàng", "Cập nhật: 24/11/2023", LEAD), "x")
    assert (article.author, article.published, article.text) == ("Vũ Hoàng", "2023-11-24", LEAD)


@pytest.mark.parametrize(
    ("lead", "source"),
    [
        ("QTO - " + LEAD, "Báo Quảng Trị"),
        ("(QBĐT) - " + LEAD, "Báo Quảng Bình"),
        ("(TTXVN) – " + LEAD, "Thông tấn xã Việt Nam"),
        ("(Chinhphu.vn) - " + LEAD, "Chinhphu.vn"),
    ],
)
def test_agency_prefix_names_the_source_and_is_stripped(lead: str, source: str) -> None:
    article = parse_scraped_text(_page("Tiêu đề", lead), "x")
    assert (article.source, article.text) == (source, LEAD)


def test_unknown_bare_prefix_is_body_text() -> None:
    lead = "HĐND - UBND tỉnh đã thống nhất kế hoạch phát triển kinh tế năm 2024."
    article = parse_scraped_text(_page("Tiêu đề", lead), "x")
    assert (article.source, article.text) == (None, lead)


def test_page_without_headline_keeps_the_paragraph_in_the_text() -> None:
    paragraph = " ".join(["Hội nghị diễn ra sáng nay.", LEAD, SECOND, LEAD])
    article = parse_scraped_text(_page(paragraph), "x")
    assert (article.title, article.text) == ("Hội nghị diễn ra sáng nay.", paragraph)


def test_empty_page() -> None:
    article = parse_scraped_text(" \n\u00a0\n.\n", "x")
    assert (article.title, article.text) == ("", "")
