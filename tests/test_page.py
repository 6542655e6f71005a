"""The results page as HTML: what a row shows (title linking to the article view, source · date · author, the
answer marked in the snippet, two more passages, copies), facets and active filters as links, sort, pages,
Vietnamese error messages, the home page, the instant-search fragment, and the offline /docs and /redoc.

Rendering is checked on made-up results (every field under control) and on the real sample index."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from retrieval.contract import (
    AlsoPublished,
    Answer,
    ArticleHit,
    ArticlePassage,
    Facets,
    FacetValue,
    PageParams,
    QueryError,
    SearchResult,
)
from search_api.app import create_app
from search_api.page import INSTANT_HEADER, INSTANT_VALUE, error_message, marked_answer, page_link, render_page

INSTANT = {INSTANT_HEADER: INSTANT_VALUE}


class Links(HTMLParser):
    """Every <a>'s href and text, and the text of elements by class."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open.append([dict(attrs).get("href") or "", ""])

    def handle_data(self, data: str) -> None:
        for link in self._open:
            link[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, " ".join(text.split())))


def links(html: str) -> dict[str, str]:
    parser = Links()
    parser.feed(html)
    return {text: href for href, text in parser.links}


def params_of(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


# --- The answer sentence in a snippet --------------------------------------------------------------------------


def test_the_answer_is_wrapped_where_it_is_in_the_snippet() -> None:
    snippet = "Mở đầu. Năm 2021 kết nạp 35 <mark>đảng viên</mark> mới. Câu sau &amp; hết."
    out = marked_answer(snippet, "Năm 2021 kết nạp 35 đảng viên mới.")
    marked = '<span class="answer">Năm 2021 kết nạp 35 <mark>đảng viên</mark> mới.</span>'
    assert out == f"Mở đầu. {marked} Câu sau &amp; hết."


def test_an_answer_starting_or_ending_inside_a_mark_keeps_the_markup_nested() -> None:
    snippet = "Trước <mark>đảng viên</mark> mới được kết nạp là 35 người. Sau."
    out = marked_answer(snippet, "viên mới được kết nạp là 35 người.")
    assert out == 'Trước <span class="answer"><mark>đảng viên</mark> mới được kết nạp là 35 người.</span> Sau.'


def test_a_cropped_answer_is_marked_as_far_as_it_shows() -> None:
    answer = "Trong năm, các tổ chức Đảng đã thi hành kỷ luật 34 đảng viên vi phạm."
    start_cut = "…đã thi hành kỷ luật 34 <mark>đảng viên</mark> vi phạm. Câu khác tiếp theo."
    assert marked_answer(start_cut, answer).startswith('…<span class="answer">đã thi hành kỷ luật 34 <mark>')
    end_cut = "Câu trước đó. Trong năm, các tổ chức Đảng đã thi hành kỷ luật…"
    assert marked_answer(end_cut, answer) == (
        'Câu trước đó. <span class="answer">Trong năm, các tổ chức Đảng đã thi hành kỷ luật</span>…'
    )


def test_white_space_and_escaping_do_not_hide_the_answer() -> None:
    snippet = "A.\nGiá &lt;b&gt; là\n  5 &amp; 6 đồng. B."
    out = marked_answer(snippet, "Giá <b> là 5 & 6 đồng.")
    assert out == 'A.\n<span class="answer">Giá &lt;b&gt; là\n  5 &amp; 6 đồng.</span> B.'


@pytest.mark.parametrize(
    ("snippet", "answer"),
    [
        ('Có <b class="answer">câu trả lời</b> sẵn.', "câu trả lời"),  # the searcher marked it: left alone
        ("Không có câu ấy ở đây.", "Một câu hoàn toàn khác hẳn những gì hiển thị."),
        ("Không có câu ấy ở đây.", None),
    ],
)
def test_a_snippet_is_left_as_it_is_when_the_answer_is_marked_or_absent(snippet: str, answer: str | None) -> None:
    assert marked_answer(snippet, answer) == snippet


# --- Links ------------------------------------------------------------------------------------------------------


def test_links_change_one_thing_and_go_back_to_the_first_page() -> None:
    state = {"q": "đảng viên", "k": "2", "offset": "4", "sort": "date"}
    assert params_of(page_link(state, source="Báo Quảng Trị")) == {
        "q": "đảng viên",
        "k": "2",
        "sort": "date",
        "source": "Báo Quảng Trị",
    }
    assert "sort" not in params_of(page_link(state, sort="relevance"))  # the default is not written
    assert params_of(page_link(state, offset=6))["offset"] == "6"
    assert "offset" not in params_of(page_link(state, offset=0))
    assert page_link({}) == "/"


# --- A made-up result, rendered ---------------------------------------------------------------------------------

ANSWER = "Năm 2021 kết nạp 35 đảng viên mới."


def article(doc_id: str, url: str | None = None, **fields) -> ArticleHit:
    passages = [
        ArticlePassage(
            chunk_id=f"{doc_id}#{n}",
            score=1 - n / 10,
            text=f"đoạn {n}",
            snippet=f"Đoạn {n} của bài &lt;{doc_id}&gt;",
            start=n * 100,
            end=n * 100 + 50,
        )
        for n in (4, 1, 7)
    ]
    best = passages[0]
    passages[0] = best.model_copy(
        update={"snippet": "Mở đầu. Năm 2021 kết nạp 35 <mark>đảng viên</mark> mới. Hết.", "text": ANSWER}
    )
    return ArticleHit(
        rank=1,
        score=0.9,
        doc_id=doc_id,
        chunk_id=best.chunk_id,
        title=fields.pop("title", f"Bài {doc_id}"),
        source=fields.pop("source", "Báo Quảng Trị"),
        url=url,
        published=fields.pop("published", "2023-11-23"),
        author=fields.pop("author", "Vũ Hoàng"),
        lang="vi",
        text=ANSWER,
        snippet=passages[0].snippet,
        start=400,
        end=450,
        answer=Answer(start=408, end=442, text=ANSWER),
        passages=passages,
        **fields,
    )


def made_up(**changes) -> SearchResult:
    result = SearchResult(
        query="ket nap dang vien",
        interpreted_query="kết nạp đảng viên",
        mode="hybrid",
        took_ms=12.4,
        total=23,
        returned=2,
        hits=[
            article("doc/1", url="https://baoquangtri.vn/bai-1.htm"),
            article(
                "doc2",
                url="javascript:alert(1)",
                source=None,
                published=None,
                author=None,
                also_published=[AlsoPublished(doc_id="doc3", source="Báo Quảng Bình", published="2023-11-25")],
            ),
        ],
        facets=Facets(
            source=[FacetValue(value="Báo Quảng Trị", count=20), FacetValue(value=None, count=3)],
            year=[FacetValue(value=2023, count=15), FacetValue(value=2018, count=2), FacetValue(value=None, count=6)],
        ),
        undated_excluded=0,
    )
    return result.model_copy(update=changes)


def render(query: dict[str, str], result: SearchResult | None = None, **kw) -> str:
    return render_page(query, PageParams.model_validate(query), result or made_up(), None, **kw)


def test_a_row_is_an_article_with_its_answer_passages_and_copies() -> None:
    html = render({"q": "ket nap dang vien", "k": "2"})
    found = links(html)
    assert found["Bài doc/1"] == "/a/doc%2F1?q=ket+nap+dang+vien#p4"  # the best passage's anchor
    assert found["Bài gốc"] == "https://baoquangtri.vn/bai-1.htm"
    assert "javascript:" not in html  # a link that is not http(s) is not a link
    assert list(found.values()).count("https://baoquangtri.vn/bai-1.htm") == 1
    assert '<span class="source">Báo Quảng Trị</span><time class="date" datetime="2023-11-23">23/11/2023</time>' in html
    assert '<span class="answer">Năm 2021 kết nạp 35 <mark>đảng viên</mark> mới.</span>' in html
    assert found["Đoạn 1 của bài <doc/1>"] == "/a/doc%2F1?q=ket+nap+dang+vien#p1"  # two more passages, escaped
    assert found["Đoạn 7 của bài <doc/1>"] == "/a/doc%2F1?q=ket+nap+dang+vien#p7"
    assert "Đoạn 4 của bài" not in html  # the best passage is the snippet, not a third line
    assert "Cũng đăng trên:" in html and found["Báo Quảng Bình (25/11/2023)"] == "/a/doc3?q=ket+nap+dang+vien"
    assert "Khoảng 23 bài viết (12 ms)" in html
    assert "Kết quả cho: <strong>kết nạp đảng viên</strong>" in html
    assert params_of(found["ket nap dang vien"]) == {"q": "ket nap dang vien", "k": "2", "exact": "true"}
    assert params_of(found["JSON"])["group"] == "article"  # the API's default is passages


def test_facets_are_filters_with_counts_and_active_ones_can_be_removed() -> None:
    found = links(render({"q": "đảng", "offset": "10"}))
    assert params_of(found["Báo Quảng Trị 20"]) == {"q": "đảng", "source": "Báo Quảng Trị"}  # no offset
    assert params_of(found["2023 15"]) == {"q": "đảng", "from": "2023-01-01", "to": "2023-12-31"}
    assert "Không rõ ngày 6" not in found  # no parameter selects undated articles: a count, not a link

    query = {"q": "đảng", "source": "báo quảng trị", "from": "2023-01-01", "to": "2023-12-31", "sort": "date"}
    html = render(query)
    found = links(html)
    assert "Báo Quảng Trị 20" not in found and "2023 15" not in found  # active: shown, not links
    assert re.search(r'<li class="active"><span class="label">Báo Quảng Trị</span>', html)
    without_source = {"q": "đảng", "from": "2023-01-01", "to": "2023-12-31", "sort": "date"}
    assert params_of(found["Nguồn: báo quảng trị ×"]) == without_source
    assert params_of(found["Năm 2023 ×"]) == {"q": "đảng", "source": "báo quảng trị", "sort": "date"}
    html = render({"q": "đảng", "from": "2023-03-01"})
    assert params_of(links(html)["Từ 01/03/2023 ×"]) == {"q": "đảng"}


def test_sort_links_and_pages() -> None:
    found = links(render({"q": "đảng", "k": "2", "offset": "8"}))  # page 5 of 12
    assert params_of(found["Mới nhất"]) == {"q": "đảng", "k": "2", "sort": "date"}
    assert "Liên quan nhất" not in found  # the current sort
    pages = {text: params_of(href).get("offset", "0") for text, href in found.items() if text.isdigit()}
    assert pages == {"1": "0", "3": "4", "4": "6", "6": "10", "7": "12", "12": "22"}
    assert params_of(found["Sau ›"])["offset"] == "10" and params_of(found["‹ Trước"])["offset"] == "6"
    html = render({"q": "đảng", "k": "2", "offset": "8"})
    assert '<strong aria-current="page">5</strong>' in html and html.count('<span class="gap">…</span>') == 2
    found = links(render({"q": "đảng", "sort": "date"}))
    assert params_of(found["Liên quan nhất"]) == {"q": "đảng"} and "Mới nhất" not in found
    assert 'class="pages"' not in render({"q": "đảng"}, made_up(total=2))  # one page: no page links


def test_undated_articles_left_out_by_a_date_filter_can_be_brought_back() -> None:
    query = {"q": "đảng", "from": "2020-01-01"}
    found = links(render(query, made_up(undated_excluded=6)))
    assert "6 bài viết không rõ ngày đăng đã bị loại bởi bộ lọc ngày" in render(query, made_up(undated_excluded=6))
    assert params_of(found["Hiển thị cả các bài này"]) == {**query, "include_undated": "true"}
    assert "không rõ ngày đăng đã bị loại" not in render(query)


def test_a_time_preference_is_said_with_a_link_that_searches_without_it() -> None:
    period = {"text": "năm 2021", "from": "2021-01-01", "to": "2021-12-31"}
    html = render({"q": "kết nạp năm 2021", "source": "Báo Quảng Trị"}, made_up(interpreted_time=period))
    assert "Ưu tiên thời gian: <strong" in html and ">năm 2021</strong>" in html
    assert params_of(links(html)["Tìm không theo thời gian"]) == {
        "q": "kết nạp năm 2021",
        "source": "Báo Quảng Trị",
        "time": "off",
    }
    off = render({"q": "kết nạp năm 2021", "time": "off"})  # no period read: no line, a chip that turns it back on
    assert "Ưu tiên thời gian" not in off and params_of(links(off)["Không ưu tiên thời gian ×"]) == {
        "q": "kết nạp năm 2021"
    }
    assert "Ưu tiên thời gian" not in render({"q": "kết nạp"})  # a query without time words


def test_nonsense_says_nothing_matches_with_a_link_to_the_nearest_anyway() -> None:
    html = render({"q": "xyzzqw blorft"}, made_up(hits=[], total=0, returned=0, below_floor=True))
    assert "Không tìm thấy kết quả phù hợp." in html
    assert params_of(links(html)["Xem các kết quả gần nhất"]) == {"q": "xyzzqw blorft", "floor": "off"}
    assert "Khoảng 0" not in html and "Liên quan nhất" not in html  # no count or sort above "no match"
    assert "Không tìm thấy kết quả phù hợp" not in render({"q": "xyzzqw blorft"}, made_up(hits=[], total=0))


def test_the_instant_fragment_is_the_inside_of_main() -> None:
    whole = render({"q": "đảng"})
    fragment = render({"q": "đảng"}, fragment=True)
    assert "<html" not in fragment and "<form" not in fragment and "<script" not in fragment
    inside = whole.split('<main id="results">', 1)[1].split("</main>", 1)[0]
    assert fragment.strip() == inside.strip()


# --- Errors in Vietnamese ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(searcher):
    with TestClient(create_app(searcher.index_dir, searcher=searcher)) as c:
        yield c


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=x&k=0", "Số kết quả mỗi trang (k) phải là một số nguyên từ 1 đến 100."),
        ("q=x&k=abc", "Số kết quả mỗi trang (k) phải là một số nguyên."),
        ("q=x&offset=-1", "Vị trí bắt đầu của trang (offset) phải là một số nguyên từ 0 đến 10.000."),
        ("q=x&from=2023-02-30", "Ngày bắt đầu (from) không có trên lịch."),
        ("q=x&to=h%C3%B4m+qua", "Ngày kết thúc (to) phải có dạng năm-tháng-ngày, ví dụ 2023-12-31."),
        ("q=x&from=2024-01-01&to=2023-01-01", "Ngày bắt đầu (từ ngày) đang sau ngày kết thúc (đến ngày)."),
        ("q=x&mode=magic", "Chế độ tìm (mode) phải là hybrid, dense hoặc lexical."),
        ("q=x&sort=old", "Cách sắp xếp (sort) phải là relevance (liên quan nhất) hoặc date (mới nhất)."),
        ("q=x&group=page", "Cách nhóm kết quả (group) phải là article (theo bài) hoặc passage (theo đoạn)."),
        ("q=x&exact=yes", "Tham số “exact” chỉ nhận true hoặc false."),
        ("q=x&include_undated=1", "Tham số “include_undated” chỉ nhận true hoặc false."),
        ("q=x&lang=vietnamese", "Mã ngôn ngữ (lang) không hợp lệ; ví dụ: vi hoặc en."),
        ("q=x&q=y", "Tham số “q” xuất hiện nhiều lần trong địa chỉ; mỗi tham số chỉ được dùng một lần."),
        ("q=" + "x" * 2001, "Câu tìm kiếm quá dài: tối đa 2.000 ký tự."),
    ],
)
def test_bad_parameters_are_explained_in_vietnamese(client, query: str, expected: str) -> None:
    r = client.get("/?" + query)
    assert r.status_code == 400
    assert f'<p class="error" role="alert">Lỗi: {expected}</p>' in r.text
    api = client.get("/api/search?" + query)
    assert api.status_code == 400 and expected not in api.text and api.json()["param"] in api.json()["error"]


def test_every_error_code_has_a_sentence_of_its_own() -> None:
    codes = ["invalid_search_" + name for name in ("q", "k", "offset", "from", "to", "mode", "sort", "group")]
    codes += ["invalid_search_exact", "invalid_search_lang", "invalid_search_source", "unknown_search_param"]
    codes += ["invalid_search_time"]
    sentences = {error_message(QueryError("p", "message", code)) for code in codes}
    assert len(sentences) == len(codes)
    assert error_message(QueryError("zzz", "odd", "something_new")) == "Giá trị của tham số “zzz” không hợp lệ."


def test_a_bad_value_is_not_kept_in_the_form(client) -> None:
    html = client.get("/?q=x&k=0&sort=date").text
    assert '<input type="hidden" name="sort" value="date">' in html and 'name="k"' not in html


# --- The real index ---------------------------------------------------------------------------------------------


def test_home_page_says_what_is_indexed_with_examples(client) -> None:
    r = client.get("/")
    assert r.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", r.text).split())
    assert "Đang tra cứu 5 bài viết" in text and "từ 3 nguồn, đăng từ 17/01/2018 đến 23/11/2023" in text
    assert "3 bài không rõ ngày đăng" in text
    examples = [href for text_, href in links(r.text).items() if href.startswith("/?q=")]
    assert len(examples) == 3
    for href in examples:
        assert client.get(href).text.count('<li class="hit">') > 0


def test_the_page_lists_articles_with_facets_that_filter(client) -> None:
    r = client.get("/", params={"q": "kết nạp đảng viên mới"})
    assert r.status_code == 200 and r.headers["vary"] == INSTANT_HEADER
    doc_ids = re.findall(r'<h2 class="title"><a href="/a/([^?"#]+)', r.text)
    assert len(doc_ids) == len(set(doc_ids)) == 5
    assert "Khoảng 5 bài viết" in r.text
    facet = next((t, h) for t, h in links(r.text).items() if t.startswith("Báo Quảng Trị "))
    filtered = client.get(facet[1]).text
    assert filtered.count('<li class="hit">') == int(facet[0].rsplit(" ", 1)[1])
    assert "Nguồn: Báo Quảng Trị ×" in links(filtered)


def test_instant_search_gets_the_fragment(client) -> None:
    r = client.get("/", params={"q": "Ba Đồn"}, headers=INSTANT)
    assert r.status_code == 200 and r.text.lstrip().startswith(("<p", "<div"))
    assert "<html" not in r.text and "Ba Đồn" in r.text
    bad = client.get("/?q=x&k=0", headers=INSTANT)
    assert bad.status_code == 400 and bad.text.strip().startswith('<p class="error"')
    home = client.get("/", headers=INSTANT)
    assert home.text.strip().startswith('<section class="home">')


def test_the_script_and_the_csp_that_lets_it_run(client) -> None:
    r = client.get("/static/search.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert INSTANT_VALUE in r.text and "X-Requested-With" in r.text
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp and "unsafe" not in csp
    assert client.get("/static/nope.js").status_code == 404
    assert client.get("/static/..%2Fapp.py").status_code == 404


@pytest.mark.parametrize(("path", "asset"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
def test_api_docs_work_offline(client, path: str, asset: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert "cdn.jsdelivr.net" not in r.text and "fonts.googleapis.com" not in r.text
    src = re.search(r'<script src="([^"]+)"', r.text).group(1)
    assert src.endswith(asset) and client.get(src).status_code == 200
    csp = r.headers["content-security-policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src")).split()[1:]
    assert script_src[0] == "'self'" and all(s.startswith("'sha256-") for s in script_src[1:])
    assert "http" not in csp and "'unsafe-inline'" not in script_src


def test_a_corrected_query_is_offered_with_a_link_to_it_and_to_the_query_as_typed() -> None:
    """A search whose unknown words were corrected says "Bạn có muốn tìm: ..." linking to the corrected search,
    and offers the query as typed (exact=true); a search with nothing corrected says neither."""
    result = made_up(query="Vinh Baoo dang vien", interpreted_query=None, corrected_query="Vinh Bao dang vien")
    html = render({"q": "Vinh Baoo dang vien", "sort": "date"}, result)
    found = links(html)
    assert "Bạn có muốn tìm:" in html
    assert params_of(found["Vinh Bao dang vien"]) == {"q": "Vinh Bao dang vien", "sort": "date"}
    assert params_of(found["Vinh Baoo dang vien"]) == {"q": "Vinh Baoo dang vien", "sort": "date", "exact": "true"}
    assert "Bạn có muốn tìm:" not in render({"q": "ket nap dang vien"})
