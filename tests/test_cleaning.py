"""JSON Lines body cleaning (indexer.cleaning): real lines quoted from the vi-news corpus.

Each case gives the raw text, the text that must remain (every real sentence), and the author /
source credit that must be found. The vi-news bodies are one long line, so captions and credits
run into the sentences around them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.cleaning import clean_body
from indexer.readers import read_articles, read_jsonl
from indexer.scraped import parse_scraped_text
from tracuu.text.sentences import sentence_spans

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

# (raw text, kept text, author, source credit, rule that fired)
CASES = [
    (  # photo credit run into the next sentence
        "Một điểm trông giữ xe ở đền Cờn. Ảnh: Thu Huyền Tại các điểm vui chơi giải trí như công viên.",
        "Một điểm trông giữ xe ở đền Cờn. Tại các điểm vui chơi giải trí như công viên.",
        None, None, "photo_credit",
    ),
    (
        "Lấn lấy lộc, xin lộc ngày đầu năm tại chùa Đại Tuệ, Nam Đàn. Ảnh: Thành Cường. Do lượng khách đầu năm đổ về.",
        "Lấn lấy lộc, xin lộc ngày đầu năm tại chùa Đại Tuệ, Nam Đàn. Do lượng khách đầu năm đổ về.",
        None, None, "photo_credit",
    ),
    (  # a credit with an agency, then a sentence starting with a capitalised word
        "Thủ tướng phát biểu. Ảnh: VGP/Quang Hiếu Phát biểu tại Hội nghị, các đại biểu nhất trí.",
        "Thủ tướng phát biểu. Phát biểu tại Hội nghị, các đại biểu nhất trí.",
        None, None, "photo_credit",
    ),
    (
        "Người dân vẫn phải mua thịt với giá cao Ảnh: Quang Tấn Giá lợn hơi thấp kỷ lục.",
        "Người dân vẫn phải mua thịt với giá cao Giá lợn hơi thấp kỷ lục.",
        None, None, "photo_credit",
    ),
    (
        "Thi thể nằm trong quan tài. Ảnh: news.com.au. Thi thể sẽ được đưa vào lò.",
        "Thi thể nằm trong quan tài. Thi thể sẽ được đưa vào lò.",
        None, None, "photo_credit",
    ),
    (  # unsure where the credit ends: only the label goes, rather than eat a word of the sentence
        "Hai đối tượng bị thu giữ - Ảnh: Sài Gòn giải phóng Anh Khang xông vào khống chế.",
        "Hai đối tượng bị thu giữ - Sài Gòn giải phóng Anh Khang xông vào khống chế.",
        None, None, "photo_label",
    ),
    (  # captions in brackets
        "Nhiều thủ tục đất đai được rút ngắn trong năm 2017 (Ảnh minh họa). Thời gian thực hiện giảm.",
        "Nhiều thủ tục đất đai được rút ngắn trong năm 2017. Thời gian thực hiện giảm.",
        None, None, "photo_caption",
    ),
    (
        "Nhật Bản bị cho là thiếu các điều kiện (Ảnh: Tomohiro Ohsumi/Bloomberg) Nền kinh tế còn nhiều khó khăn.",
        "Nhật Bản bị cho là thiếu các điều kiện Nền kinh tế còn nhiều khó khăn.",
        None, None, "photo_caption",
    ),
    (
        "Người lao động đã trở lại làm việc. Ảnh minh họa Sau Tết là thời điểm sôi động nhất.",
        "Người lao động đã trở lại làm việc. Sau Tết là thời điểm sôi động nhất.",
        None, None, "photo_caption",
    ),
    (  # "(Tổng hợp)" and a trailing byline
        "Thông tin trong bài chỉ mang tính tham khảo. M.Anh (Tổng hợp)",
        "Thông tin trong bài chỉ mang tính tham khảo.",
        "M.Anh", None, "compiled",
    ),
    (
        "Cơ quan điều tra nhanh chóng phá án. Tri Thu (t/h) Theo Đời sống Plus",
        "Cơ quan điều tra nhanh chóng phá án.",
        "Tri Thu", "Đời sống Plus", "compiled",
    ),
    (  # source credits
        "Bác sĩ xác định được loại độc để có hướng xử lý kịp thời và chính xác. (Theo VNExpress)",
        "Bác sĩ xác định được loại độc để có hướng xử lý kịp thời và chính xác.",
        None, "VNExpress", "source_credit",
    ),
    (
        '"Cậu ấy vẫn giống y như hồi trước", Karima nói. VnExpress',
        '"Cậu ấy vẫn giống y như hồi trước", Karima nói.',
        None, "VnExpress", "source_credit",
    ),
    (
        "Tỉnh Kanagawa cam kết sẽ hỗ trợ tối đa các doanh nghiệp này. TTXVN/Tin Tức",
        "Tỉnh Kanagawa cam kết sẽ hỗ trợ tối đa các doanh nghiệp này.",
        None, "TTXVN/Tin Tức", "source_credit",
    ),
    (
        "Nga đáp trả bằng hành động quân sự nếu cần. Thùy Dương/Báo Tin Tức",
        "Nga đáp trả bằng hành động quân sự nếu cần.",
        "Thùy Dương", "Báo Tin Tức", "source_credit",
    ),
    (
        "Nông dân phun tiếp đợt 2 với độ bao phủ rộng hơn. Tin, ảnh: Huyền Trang (TTXVN)",
        "Nông dân phun tiếp đợt 2 với độ bao phủ rộng hơn.",
        "Huyền Trang", "TTXVN", "photo_credit",
    ),
    (  # personal-name bylines, also doubled
        "Pháp vẫn duy trì báo động an ninh ở mức độ khẩn cấp./. Tuyết Mai",
        "Pháp vẫn duy trì báo động an ninh ở mức độ khẩn cấp./.",
        "Tuyết Mai", None, "byline",
    ),
    (
        "Nguyên nhân đang được cơ quan chức năng điều tra, làm rõ. Phan Thương Phan Thương",
        "Nguyên nhân đang được cơ quan chức năng điều tra, làm rõ.",
        "Phan Thương", None, "byline",
    ),
    (
        "Việc này đã được giải quyết theo quy định của pháp luật. Chu Quốc Hùng (TTXVN)",
        "Việc này đã được giải quyết theo quy định của pháp luật.",
        "Chu Quốc Hùng", "TTXVN", "byline",
    ),
    (
        "Cô dâu rạng rỡ trong ngày cưới. Ảnh: Minh Anh Sau đó, cặp đôi đi hưởng tuần trăng mật.",
        "Cô dâu rạng rỡ trong ngày cưới. Sau đó, cặp đôi đi hưởng tuần trăng mật.",
        None, None, "photo_credit",
    ),
    (  # boilerplate: video labels, see-also arrows, related lists
        "Vây quanh ông toàn là nam giới. Video: Fox News Trong cuộc tranh luận trực tiếp.",
        "Vây quanh ông toàn là nam giới. Fox News Trong cuộc tranh luận trực tiếp.",
        None, None, "video_label",
    ),
    (
        "Nguyên liệu 350g bột năng. >> Xem thêm: Mẹo làm bánh ướt cuốn thịt nướng",
        "Nguyên liệu 350g bột năng. Mẹo làm bánh ướt cuốn thịt nướng",
        None, None, "see_also",
    ),
    (
        "Chelsea thắng đậm. Phúc Vũ - Thể thao Việt Nam | 07:35 11/02/2017 Tin liên quan Câu chuyện về Man United",
        "Chelsea thắng đậm.",
        None, None, "related",
    ),
    (  # sentences that only look like credits are kept
        "Theo đó, Thứ trưởng yêu cầu báo cáo. Ảnh hưởng của bão rất lớn. Theo bạn, đội bóng nào sẽ vô địch?",
        "Theo đó, Thứ trưởng yêu cầu báo cáo. Ảnh hưởng của bão rất lớn. Theo bạn, đội bóng nào sẽ vô địch?",
        None, None, None,
    ),
    (  # a foreign one-word credit before a capitalised sentence start: the credit goes, the sentence stays
        "Quân đội Syria đã đập tan khủng bố IS. Ảnh: Reuters Báo cáo chiến trường cho biết nhóm khủng bố rút lui.",
        "Quân đội Syria đã đập tan khủng bố IS. Báo cáo chiến trường cho biết nhóm khủng bố rút lui.",
        None, None, "photo_credit",
    ),
    (  # a credit before a quotation
        "Tổng thống Mỹ Donald Trump. Ảnh: Reuters “Tôi đánh giá rất cao cuộc gặp”, ông nói.",
        "Tổng thống Mỹ Donald Trump. “Tôi đánh giá rất cao cuộc gặp”, ông nói.",
        None, None, "photo_credit",
    ),
    (  # a lowercase credit ends where the next sentence starts
        "Thủ tướng Anh phát biểu. Ảnh: reuters Tờ Guardian cho biết bà sẽ từ chức.",
        "Thủ tướng Anh phát biểu. Tờ Guardian cho biết bà sẽ từ chức.",
        None, None, "photo_credit",
    ),
    (  # an agency joined by a hyphen ends the credit
        "Quang cảnh hội nghị. Ảnh: Nhan Sáng-TTXVN Nhân chuyến thăm chính thức, Thủ tướng gặp kiều bào.",
        "Quang cảnh hội nghị. Nhân chuyến thăm chính thức, Thủ tướng gặp kiều bào.",
        None, None, "photo_credit",
    ),
    (  # a lowercase credit phrase
        "Đám đông ép cô gái ngồi lên xe. Ảnh: cắt từ clip Theo hồ sơ sự việc, Biển bị bắt.",
        "Đám đông ép cô gái ngồi lên xe. Theo hồ sơ sự việc, Biển bị bắt.",
        None, None, "photo_credit",
    ),
    (  # unsure where the credit ends (a Vietnamese word that may start the sentence): only the label goes
        "Anh ấy là bạn trai chị. Ảnh: Liu kể, có lần chị đi dự đám cưới. Tờ báo đưa tin.",
        "Anh ấy là bạn trai chị. Liu kể, có lần chị đi dự đám cưới. Tờ báo đưa tin.",
        None, None, "photo_label",
    ),
    (
        "Dự báo dân số đạt 1,42 tỷ vào năm 2020. Ảnh: Tờ “Thời báo Hoàn Cầu” số ra ngày 5/3 viết.",
        "Dự báo dân số đạt 1,42 tỷ vào năm 2020. Tờ “Thời báo Hoàn Cầu” số ra ngày 5/3 viết.",
        None, None, "photo_label",
    ),
    (
        "Quy tắc được đăng trên trang chủ của Sở, địa chỉ http://sovhtt.hanoi.gov.vn. Theo đó, quy tắc áp dụng.",
        "Quy tắc được đăng trên trang chủ của Sở, địa chỉ http://sovhtt.hanoi.gov.vn. Theo đó, quy tắc áp dụng.",
        None, None, None,
    ),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "kept", "author", "credit", "rule"), CASES)
def test_vi_news_lines(raw: str, kept: str, author: str | None, credit: str | None, rule: str | None) -> None:
    result = clean_body(raw, "Tiêu đề")
    assert result.text == kept
    assert result.author == author
    assert result.source_credit == credit
    if rule is None:
        assert not result.removed
    else:
        assert result.removed[rule] >= 1


def test_whole_paragraph_rules_and_title_repeat() -> None:
    text = (
        "Giá vàng tăng mạnh\n\nGiá vàng hôm nay tăng 200.000 đồng.\n\nhttp://example.com/bai-viet\n\nXem thêm\n\n"
        "Email: toasoan@baomoi.com Hotline: 0912 345 678"
    )
    result = clean_body(text, "Giá vàng tăng mạnh")
    assert result.text == "Giá vàng hôm nay tăng 200.000 đồng."
    assert {"title_repeat", "bare_url", "clutter_line", "contact"} <= set(result.removed)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name)
def test_corpus_sample_sentences_survive(path: Path) -> None:
    """Already-clean bodies from the scraped samples: clean_body keeps every sentence."""
    article = parse_scraped_text(path.read_text(encoding="utf-8"), doc_id=path.stem)
    result = clean_body(article.text, article.title)
    body = [article.text[s.start : s.end].strip() for s in sentence_spans(article.text)]
    lost = [s for s in body if s not in result.text]
    assert not lost, (result.removed_parts, lost)


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_read_jsonl_cleans_unless_raw(tmp_path: Path) -> None:
    text = "Chiếc xe đã được bàn giao. Ảnh: Thành Nhơn. Khách hàng rất hài lòng. Tuyết Mai"
    path = _write(
        tmp_path / "a.jsonl",
        [
            {"id": "a", "title": "t", "text": text, "source": "baomoi.com"},
            {"id": "b", "title": "t", "text": text, "author": "Người Viết"},
            {"id": "c", "title": "t", "text": text, "raw": True},
            {"id": "d", "title": "t", "text": "Câu chuyện kết thúc. (Theo Dân trí)"},
        ],
    )
    a, b, c, d = read_jsonl(path)
    assert a.text == "Chiếc xe đã được bàn giao. Khách hàng rất hài lòng."
    assert a.author == "Tuyết Mai" and a.source == "baomoi.com"
    assert b.author == "Người Viết"  # the JSON author wins over a found byline
    assert c.text == text and c.author is None and "raw" not in c.extra
    assert d.text == "Câu chuyện kết thúc." and d.extra["source_credit"] == "Dân trí"
    assert [x.text for x in read_articles([path], raw=True)] == [
        text,
        text,
        text,
        "Câu chuyện kết thúc. (Theo Dân trí)",
    ]
