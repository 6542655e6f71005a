"""The article view: `GET /api/articles/{doc_id}` and the page `/a/{doc_id}`, on the real sample index.

The whole cleaned text comes from the store (rebuilt from the passages in a store written before it held
the text), with every passage at its offsets; with `q`, the passage a search shows for the article is the
best highlight, at the same score. Ids of any characters work, and everything from an article or the query
is shown as text."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from conftest import CORPUS, copy_index
from fastapi.testclient import TestClient

from indexer.build import build_index, collect_articles
from indexer.format.segments import Snapshot
from indexer.format.store import STORE_FILE, text_from_passages
from retrieval.contract import SearchParams
from retrieval.searcher import Searcher
from search_api.app import create_app

QUERY = "kết nạp đảng viên mới"
KEYS = {"doc_id", "title", "source", "published", "author", "url", "lang", "text", "passages", "also_published"}
KEYS |= {"highlights"}
ODD_ID = "báo cáo/2024 số 1 ?#x ở Đông Hà"  # "%" too works served, but TestClient decodes paths twice
COPY_ID = "bản sao/Quảng Trị"
ODD_TEXT = (
    "Sáng nay, tại thành phố Đông Hà, Ban Thường vụ Tỉnh ủy tổ chức hội nghị tổng kết công tác phòng chống lụt bão "
    "năm 2024.\nCác đại biểu thống nhất tăng cường kiểm tra hồ đập, di dời dân khỏi vùng nguy cơ sạt lở trước mùa mưa."
)
HOSTILE_TITLE = '<script>alert(1)</script> Cầu Hiền Lương " onerror="alert(2)'
HOSTILE_TEXT = (
    "Cầu Hiền Lương bắc qua sông Bến Hải <script>alert(3)</script> được tu bổ.\n"
    'Người dân đến thăm " onerror="alert(4)" <img src=x onerror=alert(5)> rất đông.'
)
SOURCES = [
    {"id": ODD_ID, "title": "Hội nghị phòng chống lụt bão", "text": ODD_TEXT, "source": "Báo Quảng Trị",
     "published": "2024-10-01", "url": "https://baoquangtri.vn/hoi-nghi.htm"},
    {"id": COPY_ID, "title": "Hội nghị phòng chống lụt bão", "text": ODD_TEXT, "source": "Cổng TTĐT Đông Hà",
     "published": "2024-10-03"},
    {"id": "hostile", "title": HOSTILE_TITLE, "text": HOSTILE_TEXT, "source": '<b>Nguồn</b>" onerror="alert(6)',
     "author": '"><iframe src=javascript:alert(7)>', "url": "javascript:alert(8)", "published": "2024-05-06"},
]  # fmt: skip


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def article_url(doc_id: str, query: str | None = None, api: bool = True) -> str:
    path = ("/api/articles/" if api else "/a/") + quote(doc_id, safe="")
    return path + (f"?{urlencode({'q': query})}" if query else "")


@pytest.fixture(scope="module")
def client(sample_index: Path, searcher: Searcher) -> Iterator[TestClient]:
    with TestClient(create_app(sample_index, searcher=searcher)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def odd_site(tmp_path_factory: pytest.TempPathFactory, sample_index: Path, embedder) -> Iterator[TestClient]:
    """The sample index plus an article with an odd id, its syndicated copy and a hostile article."""
    root = tmp_path_factory.mktemp("articles")
    index_dir = copy_index(sample_index, root / "index")
    extra = root / "extra.jsonl"
    extra.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in SOURCES), encoding="utf-8")
    summary = build_index([CORPUS, extra], index_dir, embedder)
    assert summary.reused_articles == 5 and summary.embedded_articles == 3
    odd = Searcher(index_dir, embedder=embedder)
    with TestClient(create_app(index_dir, searcher=odd)) as test_client:
        yield test_client
    odd.close()


def test_article_json_is_the_whole_text_with_every_passage_at_its_offsets(client, searcher) -> None:
    sources = {a.id: a for a in collect_articles([CORPUS])}
    for doc_id, source in sources.items():
        r = client.get(article_url(doc_id))
        assert r.status_code == 200 and r.headers["x-tracuu-version"] == searcher.version
        body = r.json()
        assert set(body) == KEYS and body["highlights"] is None
        assert body["doc_id"] == doc_id and body["title"] == source.title and body["text"] == source.text
        assert (body["source"], body["published"], body["author"]) == (source.source, source.published, source.author)
        stored = searcher.store.passages_of(doc_id)
        assert [p["chunk_id"] for p in body["passages"]] == [f"{doc_id}#{no}" for _, no, _, _, _ in stored]
        for passage, (_, _, text, start, end) in zip(body["passages"], stored, strict=True):
            assert set(passage) == {"chunk_id", "start", "end"}
            assert (passage["start"], passage["end"]) == (start, end)
            assert body["text"][start:end] == text


def test_q_highlights_the_passage_the_search_shows_for_the_article(client, searcher) -> None:
    hits = searcher.search(SearchParams(q=QUERY, k=10)).hits
    best: dict[str, tuple[str, float]] = {}
    for hit in hits:
        best.setdefault(hit.doc_id, (hit.chunk_id, hit.score))
    assert len(best) >= 2
    for doc_id, (chunk_id, score) in best.items():
        body = client.get(article_url(doc_id, QUERY)).json()
        highlights = body["highlights"]
        assert 1 <= len(highlights) <= 3 and all(set(h) == {"chunk_id", "start", "end", "score"} for h in highlights)
        assert (highlights[0]["chunk_id"], highlights[0]["score"]) == (chunk_id, score)
        scores = [h["score"] for h in highlights]
        assert scores == sorted(scores, reverse=True) and scores[-1] >= 0.75 * scores[0]
        spans = {p["chunk_id"]: (p["start"], p["end"]) for p in body["passages"]}
        assert all(spans[h["chunk_id"]] == (h["start"], h["end"]) for h in highlights)
    # The best passage of the first hit's article: "kết nạp" and "đảng viên" in it.
    first = client.get(article_url(hits[0].doc_id, QUERY)).json()["highlights"][0]
    assert first["chunk_id"] == hits[0].chunk_id and "kết nạp" in hits[0].text.lower()


def test_article_page_marks_and_anchors_the_best_passage(client, searcher) -> None:
    hit = searcher.search(SearchParams(q=QUERY, k=1)).hits[0]
    number = hit.chunk_id.rsplit("#", 1)[1]
    r = client.get(article_url(hit.doc_id, QUERY, api=False))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    tags = Tags(page).tags
    ids = [attrs.get("id") for _, attrs in tags if attrs.get("id")]
    passages = searcher.store.passages_of(hit.doc_id)
    assert [f"p{no}" for _, no, _, _, _ in passages] == [i for i in ids if re.fullmatch(r"p\d+", i)]
    assert f'<span class="anchor" id="p{number}"></span><span class="match best" id="best">' in page
    assert ("a", {"id": "best-link", "href": f"#p{number}"}) in tags
    assert ("a", {"id": "back-link", "href": "/?" + urlencode({"q": QUERY})}) in tags
    best_text = "".join(re.findall(r'<span class="match best"[^>]*>(.*?)</span>', page))
    assert text_of(best_text) == hit.text.replace("\n", "")
    assert "<mark>" in best_text  # the query's words, marked as in a snippet
    assert html.escape(hit.title, quote=False) in page
    # The whole text, as paragraphs: every line of the article is on the page.
    article = searcher.store.article(hit.doc_id)
    shown = text_of("".join(re.findall(r"<p>(.*?)</p>", page, re.S)))
    assert all(line.strip() in shown for line in article["text"].split("\n"))
    plain = client.get(article_url(hit.doc_id, api=False)).text  # without q: nothing marked, no way back to results
    assert "match" not in plain and "<mark>" not in plain and 'href="/"' in plain


def test_unknown_articles_are_404_in_json_and_in_vietnamese(client) -> None:
    r = client.get(article_url("no such article"))
    assert r.status_code == 404
    body = r.json()
    assert set(body) == {"error", "param", "code"}
    assert (body["param"], body["code"]) == ("doc_id", "article_not_found")
    page = client.get(article_url("no such article", QUERY, api=False))
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Không tìm thấy bài viết" in page.text and "default-src 'none'" in page.headers["content-security-policy"]
    assert client.get("/a/").status_code == 404 and client.get("/api/articles/").status_code == 404


def test_a_query_the_search_refuses_is_refused_by_the_api_and_ignored_by_the_page(client) -> None:
    doc_id = next(iter(collect_articles([CORPUS]))).id
    long = "cầu " * 600  # over the query limit (2000 characters) but within the request line's
    r = client.get(article_url(doc_id, long))
    assert r.status_code == 400 and r.json()["code"] == "invalid_search_q"
    page = client.get(article_url(doc_id, long, api=False))
    assert page.status_code == 200 and "match" not in page.text
    assert client.get(article_url(doc_id, "  ")).json()["highlights"] is None  # blank: no query
    twice = client.get(article_url(doc_id) + "?q=a&q=b")
    assert twice.status_code == 400 and twice.json()["code"] == "repeated_search_param"
    twice = client.get(article_url(doc_id, api=False) + "?q=a&q=b")
    assert twice.status_code == 400 and "Lỗi: q: given 2 times" in twice.text
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/articles/{doc_id}", "/a/{doc_id}"} <= set(paths)


def test_ids_with_spaces_slashes_and_vietnamese_letters(odd_site) -> None:
    for doc_id in (ODD_ID, COPY_ID):
        body = odd_site.get(article_url(doc_id)).json()
        assert body["doc_id"] == doc_id and body["text"] == ODD_TEXT
    canonical = odd_site.get(article_url(ODD_ID)).json()
    assert canonical["also_published"] == [
        {"doc_id": COPY_ID, "source": "Cổng TTĐT Đông Hà", "published": "2024-10-03"}
    ]
    page = odd_site.get(article_url(COPY_ID, "lụt bão", api=False))
    assert page.status_code == 200
    links = [attrs["href"] for tag, attrs in Tags(page.text).tags if tag == "a"]
    back_to_original = article_url(ODD_ID, "lụt bão", api=False)
    assert back_to_original in links  # "Cũng đăng trên" links to the original, the query kept
    assert odd_site.get(back_to_original).status_code == 200
    assert "Cũng đăng trên" in page.text and "03/10/2024" in page.text and "(01/10/2024)" in page.text
    original = odd_site.get(article_url(ODD_ID, api=False)).text
    assert (
        "a",
        {"class": "original", "href": "https://baoquangtri.vn/hoi-nghi.htm", "rel": "noopener noreferrer"},
    ) in (Tags(original).tags)
    assert "Bài gốc" in original and "01/10/2024" in original


def test_hostile_article_is_shown_as_text(odd_site) -> None:
    query = 'Hiền Lương " onerror="alert(9)" <script>alert(10)</script>'
    for q in (None, query):
        r = odd_site.get(article_url("hostile", q, api=False))
        assert r.status_code == 200
        page = r.text
        tags = Tags(page).tags
        assert not [t for t, _ in tags if t in ("script", "img", "iframe", "svg")]
        assert not [(t, a) for t, a in tags if any(name.startswith("on") for name in a)]
        assert not [a["href"] for t, a in tags if t == "a" and a["href"].lower().startswith("javascript")]
        assert "Bài gốc" not in page  # a javascript: URL is no link
        assert text_of(re.search(r'<h1 class="title">(.*?)</h1>', page).group(1)) == HOSTILE_TITLE
        body = text_of("".join(re.findall(r"<p>(.*?)</p>", page, re.S)))
        assert "<script>alert(3)</script>" in body and '" onerror="alert(4)" <img src=x onerror=alert(5)>' in body
        assert text_of(re.search(r'<span class="author">(.*?)</span>', page).group(1)) == SOURCES[2]["author"]
    assert "<script>alert(10)</script>" in text_of(page)  # the query, shown back as text
    assert odd_site.get(article_url("hostile", query)).json()["highlights"]


@pytest.fixture
def old_index(tmp_path: Path, sample_index: Path) -> Path:
    """The sample index with its store as written before the articles table held the text."""
    index_dir = copy_index(sample_index, tmp_path / "index")
    store = Snapshot.current(index_dir).segments[0] / STORE_FILE
    store.chmod(0o644)
    with sqlite3.connect(store) as conn:
        conn.execute("ALTER TABLE articles DROP COLUMN text")
    return index_dir


def test_a_store_without_the_text_column_still_serves_articles(old_index, searcher, embedder) -> None:
    old = Searcher(old_index, embedder=embedder)
    try:
        columns = [row[1] for row in old.store.parts[0].store.conn.execute("PRAGMA table_info(articles)")]
        assert "text" not in columns
        with TestClient(create_app(old_index, searcher=old)) as client:
            for doc_id, _ in searcher.store.article_hashes().items():
                original = searcher.store.article(doc_id)["text"]
                body = client.get(article_url(doc_id, QUERY)).json()
                stored = old.store.passages_of(doc_id)
                assert all(body["text"][start:end] == text for _, _, text, start, end in stored)
                assert len(body["text"]) == stored[-1][4]  # up to the last passage: trailing whitespace is lost
                assert re.sub(r"\s", " ", body["text"]) == re.sub(r"\s", " ", original[: stored[-1][4]])
                assert body["highlights"]
                assert client.get(article_url(doc_id, QUERY, api=False)).status_code == 200
    finally:
        old.close()


def test_text_from_passages_fills_gaps_with_whitespace() -> None:
    text = "Mở đầu bài.\nCâu hai rất dài, cắt ở giữa\nvà tiếp.  Đoạn ba."
    pieces = ["Mở đầu bài.", "Câu hai rất dài, cắt ở giữa", "và tiếp.", "Đoạn ba."]
    passages = [(text.index(p), text.index(p) + len(p), p) for p in pieces]
    rebuilt = text_from_passages(passages)
    assert rebuilt == "Mở đầu bài.\nCâu hai rất dài, cắt ở giữa và tiếp.\n\nĐoạn ba."
    assert all(rebuilt[start:end] == passage for start, end, passage in passages)
    overlapping = [(0, 20, text[0:20]), (12, 48, text[12:48]), (40, len(text), text[40:])]
    assert text_from_passages(overlapping) == text
    assert text_from_passages([]) == ""
