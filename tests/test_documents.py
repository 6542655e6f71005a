"""HTML pages, PDF files and Word documents as sources (indexer.documents): text, metadata, page
offsets, ids, a scanned PDF refused with a warning, and end to end through an index and a search.
The fixtures are made here: HTML by hand, PDF with fpdf2 (a Unicode TTF font), DOCX with python-docx."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from indexer.documents import read_document
from indexer.readers import SourceError, read_articles
from indexer.source_warnings import SourceWarnings

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
needs_font = pytest.mark.skipif(not FONT.exists(), reason=f"no Unicode TTF font at {FONT} (apt: fonts-dejavu-core)")

HTML_PAGE = """<!DOCTYPE html>
<html lang="vi"><head>
<meta charset="utf-8">
<title>Quảng Trị khánh thành cầu treo qua sông Thạch Hãn - Báo Quảng Trị Thử Nghiệm</title>
<meta property="og:site_name" content="Báo Quảng Trị Thử Nghiệm">
<meta property="og:title" content="Quảng Trị khánh thành cầu treo qua sông Thạch Hãn">
<meta name="author" content="Lê Thị Hoa">
<meta property="article:published_time" content="2023-11-23T08:15:00+07:00">
<link rel="canonical" href="https://baoquangtri.example.vn/xa-hoi/khanh-thanh-cau-treo-123.htm">
<link rel="stylesheet" href="/static/site.css">
<script>var ads = {slot: "top"};</script>
</head><body>
<header><div class="logo">Báo Quảng Trị Thử Nghiệm</div>
<nav><ul><li><a href="/">Trang chủ</a></li><li><a href="/thoi-su">Thời sự</a></li>
<li><a href="/kinh-te">Kinh tế</a></li><li><a href="/xa-hoi">Xã hội</a></li>
<li><a href="/the-thao">Thể thao</a></li></ul></nav>
</header>
<div class="breadcrumb"><a href="/">Trang chủ</a> » <a href="/xa-hoi">Xã hội</a></div>
<main><article>
<h1>Quảng Trị khánh thành cầu treo qua sông Thạch Hãn</h1>
<div class="meta">Thứ Năm, 23/11/2023 08:15 (GMT+7)</div>
<p>Sáng nay, UBND huyện Triệu Phong tổ chức lễ khánh thành cầu treo dân sinh bắc qua sông Thạch Hãn,
nối liền hai xã Triệu Thành và Triệu Đông sau hơn một năm thi công.</p>
<p>Cây cầu dài 180 mét, rộng 2,5 mét, có tổng mức đầu tư gần 9 tỷ đồng từ nguồn vốn ngân sách tỉnh
và xã hội hóa. Trước đây, người dân hai bờ phải đi đò ngang, rất nguy hiểm vào mùa mưa lũ.</p>
<p>Phát biểu tại buổi lễ, Chủ tịch UBND huyện nhấn mạnh công trình giúp học sinh đến trường an toàn
và thúc đẩy giao thương nông sản giữa hai xã.</p>
</article>
<aside><h3>Tin liên quan</h3><ul><li><a href="/a">Giá xăng giảm lần thứ ba liên tiếp</a></li>
<li><a href="/b">Thời tiết miền Trung chuyển mưa rét</a></li></ul></aside>
</main>
<footer><p>© Bản quyền thuộc Báo Quảng Trị Thử Nghiệm. Giấy phép số 123/GP-BTTTT.</p>
<p>Liên hệ quảng cáo: 0233 123 456</p></footer>
</body></html>
"""

HTML_NO_META_DATE = """<html><head><title>Trồng rừng ngập mặn ở Cà Mau</title></head><body>
<nav><a href="/">Trang chủ</a> | <a href="/moi-truong">Môi trường</a></nav>
<div id="content"><h1>Trồng rừng ngập mặn ở Cà Mau</h1>
<p>Ngày đăng: 05/03/2022</p>
<p>Tỉnh Cà Mau vừa phát động chương trình trồng mới 500 héc-ta rừng ngập mặn ven biển nhằm chống sạt lở
bờ biển và bảo vệ sinh kế của người dân nuôi tôm trong vùng.</p>
<p>Theo Sở Nông nghiệp, các cây đước và mắm sẽ được trồng tại những đoạn bờ biển bị xói lở nặng nhất
ở huyện Ngọc Hiển và huyện Đầm Dơi.</p></div>
<footer>Cổng thông tin điện tử thử nghiệm</footer></body></html>
"""

PDF_PAGES = [
    "Hà Nội, ngày 12 tháng 3 năm 2022\n"
    "Kế hoạch phát triển du lịch cộng đồng tại vùng cao phía Bắc giai đoạn 2022 - 2025 tập trung vào "
    "các bản làng dân tộc Thái, Mông và Dao ở Sơn La, Lào Cai và Hà Giang.",
    "Trang hai nói về đào tạo nghề: mỗi năm tổ chức 40 lớp tập huấn homestay, nấu ăn và hướng dẫn viên "
    "cho thanh niên địa phương.",
    "Nguồn kinh phí thực hiện kế hoạch gồm ngân sách trung ương 120 tỷ đồng và vốn xã hội hóa.",
]
PDF_TITLE = "Kế hoạch phát triển du lịch cộng đồng vùng cao"


def write_html(path: Path, html: str = HTML_PAGE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def write_pdf(path: Path, pages: list[str] = PDF_PAGES, title: str | None = PDF_TITLE) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=11)
    if title:
        pdf.set_title(title)
    pdf.set_author("Sở Văn hóa Thử Nghiệm")
    pdf.set_creation_date(datetime(2022, 3, 14, 9, 30))
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def write_scanned_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(120, 120, 120)
    pdf.rect(20, 20, 170, 250, style="F")  # ink, but no text: what a scanner's page looks like to a parser
    pdf.add_page()
    pdf.output(str(path))
    return path


def write_docx(path: Path, with_props: bool = True) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Báo cáo tình hình cấp nước sạch nông thôn năm 2023", level=1)
    document.add_paragraph(
        "Năm 2023, tỷ lệ hộ dân nông thôn được sử dụng nước sạch đạt 62%, tăng 4% so với năm trước "
        "nhờ 35 công trình cấp nước tập trung mới được đưa vào vận hành."
    )
    document.add_heading("Kết quả theo huyện", level=2)
    table = document.add_table(rows=3, cols=2)
    values = [("Huyện", "Tỷ lệ"), ("Gio Linh", "70%"), ("Hải Lăng", "58%")]
    for row, (name, share) in zip(table.rows, values, strict=True):
        row.cells[0].text, row.cells[1].text = name, share
    document.add_paragraph("Năm 2024 cần thêm 200 tỷ đồng để nâng cấp các nhà máy nước xuống cấp.")
    props = document.core_properties
    if with_props:
        props.title = "Báo cáo cấp nước sạch nông thôn 2023"
        props.author = "Trung tâm Nước sạch Thử Nghiệm"
        props.created = datetime(2023, 12, 20, 10, 0)
    else:
        props.title, props.author = "", ""
    document.save(str(path))
    return path


def test_html_page_main_text_and_metadata(tmp_path: Path) -> None:
    article = read_document(write_html(tmp_path / "cau-treo.html"))
    assert article.id == "cau-treo"
    assert article.title == "Quảng Trị khánh thành cầu treo qua sông Thạch Hãn"
    assert article.published == "2023-11-23"
    assert article.author == "Lê Thị Hoa"
    assert article.source == "Báo Quảng Trị Thử Nghiệm"
    assert article.url == "https://baoquangtri.example.vn/xa-hoi/khanh-thanh-cau-treo-123.htm"
    assert article.text.startswith("Sáng nay, UBND huyện Triệu Phong")
    assert "9 tỷ đồng" in article.text and "học sinh đến trường" in article.text
    for clutter in ("Trang chủ", "Thể thao", "Bản quyền", "quảng cáo", "Giá xăng", "GMT+7", "Quảng Trị khánh thành"):
        assert clutter not in article.text, clutter


def test_html_date_from_tracuu_rules_when_no_metadata_date(tmp_path: Path) -> None:
    article = read_document(write_html(tmp_path / "rung.htm", HTML_NO_META_DATE))
    assert article.title == "Trồng rừng ngập mặn ở Cà Mau"
    assert article.published == "2022-03-05"
    assert article.text.startswith("Tỉnh Cà Mau vừa phát động")
    assert "Ngày đăng" not in article.text and "Trang chủ" not in article.text


def test_html_date_quoted_in_the_body_is_not_the_publication_date(tmp_path: Path) -> None:
    page = HTML_NO_META_DATE.replace("<p>Ngày đăng: 05/03/2022</p>", "").replace(
        "Theo Sở Nông nghiệp,", "Theo Nghị quyết ban hành ngày 11/11/2021 của tỉnh,"
    )
    article = read_document(write_html(tmp_path / "rung.html", page))
    assert "ngày 11/11/2021" in article.text
    assert article.published is None


def test_html_crawl_directory_ids_are_relative_paths(tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    write_html(crawl / "baoquangtri.example.vn" / "xa-hoi" / "index.html")
    write_html(crawl / "baoquangtri.example.vn" / "moi-truong" / "index.html", HTML_NO_META_DATE)
    (crawl / "baoquangtri.example.vn" / "robots.txt.css").write_text("body {}", encoding="utf-8")
    ids = [a.id for a in read_articles([crawl])]
    assert ids == ["baoquangtri.example.vn/moi-truong/index", "baoquangtri.example.vn/xa-hoi/index"]


def test_html_without_article_text_is_a_warning(tmp_path: Path) -> None:
    bad = write_html(tmp_path / "empty.html", "<html><body><nav><a href='/'>Trang chủ</a></nav></body></html>")
    warnings = SourceWarnings()
    assert list(read_articles([bad], warnings)) == []
    assert len(warnings) == 1 and warnings.messages[0].startswith(str(bad))
    assert "no article text" in warnings.messages[0]


@needs_font
def test_pdf_text_layer_pages_and_properties(tmp_path: Path) -> None:
    article = read_document(write_pdf(tmp_path / "du-lich.pdf"))
    assert article.id == "du-lich"
    assert article.title == PDF_TITLE
    assert article.author == "Sở Văn hóa Thử Nghiệm"
    assert article.published == "2022-03-14"  # /CreationDate
    assert "du lịch cộng đồng tại vùng cao" in " ".join(article.text.split())
    pages = article.extra["pages"]
    assert [page for _, page in pages] == [1, 2, 3] and pages[0][0] == 0
    for (start, page_no), expected in zip(pages, ("Hà Nội, ngày 12", "Trang hai", "Nguồn kinh phí"), strict=True):
        assert article.text[start:].startswith(expected), page_no
    assert article.text[pages[1][0] - 2 : pages[1][0]] == "\n\n"  # pages are joined with a blank line


@needs_font
def test_pdf_without_properties_takes_title_and_date_from_its_first_lines(tmp_path: Path) -> None:
    from fpdf import FPDF
    from pypdf import PdfWriter

    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Thông báo lịch tiếp công dân\nĐà Nẵng, ngày 2 tháng 8 năm 2021\nLãnh đạo thành phố tiếp dân.")
    pdf.output(str(tmp_path / "generated.pdf"))
    writer = PdfWriter(clone_from=str(tmp_path / "generated.pdf"))
    writer.metadata = None  # no /Info: no /Title, /Author or /CreationDate
    writer.write(str(tmp_path / "thong-bao.pdf"))
    article = read_document(tmp_path / "thong-bao.pdf")
    assert article.title == "Thông báo lịch tiếp công dân"
    assert article.published == "2021-08-02"
    assert article.text.startswith("Đà Nẵng, ngày 2 tháng 8 năm 2021")
    assert article.extra["pages"] == [[0, 1]]


@needs_font
def test_upper_case_suffixes_are_read(tmp_path: Path) -> None:
    write_pdf(tmp_path / "DU-LICH.PDF")
    write_html(tmp_path / "Trang.HTM")
    assert sorted(a.id for a in read_articles([tmp_path])) == ["DU-LICH", "Trang"]


@needs_font
def test_pdf_tool_placeholder_title_is_not_the_title(tmp_path: Path) -> None:
    pages = ["Báo cáo tổng kết năm 2022\nNăm 2022, toàn tỉnh đón 2 triệu lượt khách du lịch."]
    article = read_document(write_pdf(tmp_path / "bc.pdf", pages, title="Microsoft Word - bc_2022.docx"))
    assert article.title == "Báo cáo tổng kết năm 2022"
    assert article.text == "Năm 2022, toàn tỉnh đón 2 triệu lượt khách du lịch."


def test_scanned_pdf_is_a_warning_that_it_needs_ocr(tmp_path: Path) -> None:
    scanned = write_scanned_pdf(tmp_path / "scan.pdf")
    warnings = SourceWarnings()
    assert list(read_articles([scanned], warnings)) == []
    assert len(warnings) == 1, warnings.messages
    message = warnings.messages[0]
    assert message.startswith(str(scanned)) and "no text layer" in message and "OCR" in message
    with pytest.raises(SourceError, match="no text layer"):
        list(read_articles([scanned]))


def test_damaged_pdf_and_docx_are_warnings(tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> garbage")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    warnings = SourceWarnings()
    assert list(read_articles([tmp_path], warnings)) == []
    assert len(warnings) == 2, warnings.messages
    assert "broken.docx" in warnings.messages[0] and "not a readable Word" in warnings.messages[0]
    assert "broken.pdf" in warnings.messages[1]


def test_docx_paragraphs_headings_and_tables_in_order(tmp_path: Path) -> None:
    article = read_document(write_docx(tmp_path / "nuoc-sach.docx"))
    assert article.id == "nuoc-sach"
    assert article.title == "Báo cáo cấp nước sạch nông thôn 2023"
    assert article.author == "Trung tâm Nước sạch Thử Nghiệm"
    assert article.published == "2023-12-20"
    lines = article.text.split("\n")
    assert lines[0] == "Báo cáo tình hình cấp nước sạch nông thôn năm 2023"  # the heading: not the title here
    assert lines[1].startswith("Năm 2023, tỷ lệ hộ dân")
    assert lines[2:] == [
        "Kết quả theo huyện",
        "Huyện | Tỷ lệ",
        "Gio Linh | 70%",
        "Hải Lăng | 58%",
        "Năm 2024 cần thêm 200 tỷ đồng để nâng cấp các nhà máy nước xuống cấp.",
    ]


def test_docx_without_a_title_property_takes_its_first_heading(tmp_path: Path) -> None:
    article = read_document(write_docx(tmp_path / "nuoc-sach.docx", with_props=False))
    assert article.title == "Báo cáo tình hình cấp nước sạch nông thôn năm 2023"
    assert article.text.startswith("Năm 2023, tỷ lệ hộ dân")
    assert article.author is None


@needs_font
def test_end_to_end_index_and_search_each_format(tmp_path: Path, embedder, capsys: pytest.CaptureFixture[str]) -> None:
    from indexer.build import build_index
    from retrieval.contract import SearchParams
    from retrieval.searcher import Searcher

    sources = tmp_path / "sources"
    write_html(sources / "web" / "cau-treo.html")
    write_pdf(sources / "du-lich.pdf")
    write_docx(sources / "nuoc-sach.docx")
    write_scanned_pdf(sources / "scan.pdf")
    (sources / "tin.jsonl").write_text(
        '{"id": "gia-lua", "title": "Giá lúa tăng", "text": "Giá lúa gạo xuất khẩu tăng mạnh trong tháng 9."}\n',
        encoding="utf-8",
    )
    index_dir = tmp_path / "index"
    summary = build_index([sources], index_dir, embedder)
    assert summary.articles == 4 and summary.skipped == 1
    stderr = capsys.readouterr().err
    assert "warning: " in stderr and "scan.pdf: the PDF has no text layer" in stderr and "OCR" in stderr

    searcher = Searcher(index_dir, embedder=embedder)
    expected = {  # id: (question, title, published, author, source)
        "web/cau-treo": (
            "cầu treo qua sông Thạch Hãn dài bao nhiêu mét",
            "Quảng Trị khánh thành cầu treo qua sông Thạch Hãn",
            "2023-11-23",
            "Lê Thị Hoa",
            "Báo Quảng Trị Thử Nghiệm",
        ),
        "du-lich": ("du lịch cộng đồng và homestay ở vùng cao", PDF_TITLE, "2022-03-14", "Sở Văn hóa Thử Nghiệm", None),
        "nuoc-sach": (
            "tỷ lệ hộ dân nông thôn được dùng nước sạch",
            "Báo cáo cấp nước sạch nông thôn 2023",
            "2023-12-20",
            "Trung tâm Nước sạch Thử Nghiệm",
            None,
        ),
    }
    for doc_id, (question, title, published, author, source) in expected.items():
        hits = searcher.search(SearchParams(q=question, k=3)).hits
        assert hits and hits[0].doc_id == doc_id, (question, [h.doc_id for h in hits])
        top = hits[0]
        assert (top.title, top.published, top.author, top.source) == (title, published, author, source)
    assert "scan" not in {h.doc_id for h in searcher.search(SearchParams(q="kế hoạch", k=10)).hits}
