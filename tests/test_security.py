"""Web security, against a real `tracuu serve` of an index holding a hostile article: everything
from an article or the query is shown as text (checked in Chromium: no script runs), security
headers on every response, loopback by default, CORS off unless configured, and the one
state-changing endpoint is POST-only behind a configured token. Also SIGHUP and /admin/reload."""

from __future__ import annotations

import functools
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from conftest import CORPUS, LiveServer, copy_index
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from indexer.build import build_index
from indexer.format import layout
from search_api.app import create_app
from tracuu.settings import Settings
from tracuu_cli.main import build_parser

TOKEN = "s3cret-token-for-tests"
XSS_TITLE = '<script>alert("title")</script> Cầu "><img src=x onerror=alert(1)> Bến Hải'
XSS_TEXT = (
    "Nội dung về cầu treo sông Bến Hải <script>alert('body')</script> và "
    '"><img src=x onerror=alert(2)> cùng <svg onload=alert(3)> kết thúc.'
)
EVIL = {
    "id": "evil-1",
    "title": XSS_TITLE,
    "text": XSS_TEXT,
    "source": "<b>Nguồn</b><script>alert(4)</script>",
    "author": '"><iframe src=javascript:alert(5)>',
    "url": "javascript:alert(6)",
    "published": "2024-05-06",
}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


class HTTP:
    """httpx's one-shot calls with a timeout for a busy machine (slow, not wrong): not the default 5 s."""

    get = staticmethod(functools.partial(httpx.get, timeout=120))
    post = staticmethod(functools.partial(httpx.post, timeout=120))
    options = staticmethod(functools.partial(httpx.options, timeout=120))
    request = staticmethod(functools.partial(httpx.request, timeout=120))


def publish(index_dir: Path, sources_dir: Path, embedder, article: dict) -> str:
    """Add `article` to the sources and publish a new version (in this process: the model is loaded)."""
    (sources_dir / f"{article['id']}.jsonl").write_text(json.dumps(article, ensure_ascii=False) + "\n")
    return build_index([CORPUS, sources_dir], index_dir, embedder).version


@pytest.fixture(scope="module")
def evil_site(tmp_path_factory: pytest.TempPathFactory, sample_index: Path, embedder) -> Iterator[tuple]:
    root = tmp_path_factory.mktemp("security")
    index_dir = copy_index(sample_index, root / "index")
    sources = root / "extra"
    sources.mkdir()
    publish(index_dir, sources, embedder, EVIL)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRACUU_RELOAD_INTERVAL_S", "0")  # only SIGHUP or POST /admin/reload switch versions
        mp.setenv("TRACUU_ADMIN_TOKEN", TOKEN)
        mp.setenv("TRACUU_THREADS", "1")
        server = LiveServer(index_dir)
    try:
        server.wait_ready()
        yield server, index_dir, sources
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser_page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context().new_page()
        yield page
        browser.close()


def test_hostile_article_shows_as_text_and_runs_no_script(evil_site, browser_page) -> None:
    server, _, _ = evil_site
    page = browser_page
    dialogs: list[str] = []
    console: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: console.append(m.text))
    query = 'cầu treo Bến Hải "><img src=x onerror=alert(7)> <script>alert(8)</script>'
    page.goto(server.url + "/?" + httpx.QueryParams({"q": query, "exact": "true"}).__str__())
    page.wait_for_load_state("load")
    hit = page.locator(".hit", has_text="cầu treo sông Bến Hải").first
    assert hit.locator(".title").inner_text() == XSS_TITLE
    snippet = hit.locator(".snippet").inner_text()
    assert "<script>alert('body')</script>" in snippet and '"><img src=x onerror=alert(2)>' in snippet
    assert "<svg onload=alert(3)>" in snippet
    assert hit.locator(".source").inner_text() == EVIL["source"]
    assert hit.locator(".author").inner_text() == EVIL["author"]
    assert page.locator("input[name=q]").input_value() == query
    assert query in page.title()
    # Nothing from the article or the query became markup, and nothing ran.
    assert page.locator("script:not([src='/static/search.js']), img, svg, iframe").count() == 0  # the page's own
    assert page.locator(".hit .title a").count() == 0 or all(
        not (href or "").lower().startswith("javascript:")
        for href in page.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    )
    assert page.evaluate("() => document.querySelectorAll('[onerror],[onload]').length") == 0
    assert dialogs == []
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console

    page.goto(server.url + "/api/search?" + str(httpx.QueryParams({"q": query})))  # JSON is never HTML
    assert page.locator("script, img, svg, iframe").count() == 0 and dialogs == []


SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/?q=c%E1%BA%A7u"),
        ("GET", "/?q=x&k=0"),
        ("GET", "/api/search?q=c%E1%BA%A7u"),
        ("GET", "/api/search?q="),
        ("GET", "/api/search?q=%FF"),
        ("GET", "/api/search?q=" + "a" * 40_000),
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("GET", "/static/style.css"),
        ("GET", "/nope"),
        ("DELETE", "/api/search"),
        ("POST", "/admin/reload"),
    ],
)
def test_security_headers_on_every_response(evil_site, method: str, path: str) -> None:
    server, _, _ = evil_site
    r = HTTP.request(method, server.url + path, timeout=60)
    assert r.status_code < 500
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, (path, name)
    csp = r.headers["content-security-policy"]
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives or "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in csp and directives.get("frame-ancestors") == "'none'"
    assert "access-control-allow-origin" not in r.headers


def test_server_listens_on_loopback_only_by_default(evil_site) -> None:
    server, _, _ = evil_site
    assert build_parser().parse_args(["serve", "--index", "x"]).host == "127.0.0.1"
    listening = [c.laddr for c in psutil.Process(server.proc.pid).net_connections() if c.status == "LISTEN"]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening


def test_cors_is_off_unless_configured(evil_site, searcher) -> None:
    server, _, _ = evil_site
    evil = {"Origin": "https://evil.example"}
    r = HTTP.get(server.url + "/api/search?q=x", headers=evil)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    preflight = {**evil, "Access-Control-Request-Method": "GET"}
    r = HTTP.options(server.url + "/api/search", headers=preflight)
    assert r.status_code == 405 and "access-control-allow-origin" not in r.headers

    settings = Settings(cors_origins="https://ok.example")
    with TestClient(create_app(searcher.index_dir, searcher=searcher, settings=settings)) as client:
        ok = client.get("/api/search?q=x", headers={"Origin": "https://ok.example"})
        assert ok.headers["access-control-allow-origin"] == "https://ok.example"
        assert "access-control-allow-origin" not in client.get("/api/search?q=x", headers=evil).headers
        post = {"Origin": "https://ok.example", "Access-Control-Request-Method": "POST"}
        assert client.options("/admin/reload", headers=post).status_code == 400  # only GET is shared


def test_state_changing_endpoints_are_post_only_behind_a_token(evil_site, searcher) -> None:
    app = create_app(searcher.index_dir, searcher=searcher)
    changing = {
        (method, route.path)
        for route in app.routes
        for method in getattr(route, "methods", ())
        if method not in ("GET", "HEAD")
    }
    assert changing == {
        ("POST", "/admin/reload"),
        ("POST", "/api/articles"),
        ("DELETE", "/api/articles/{doc_id:path}"),
    }, changing

    server, _, _ = evil_site
    url = server.url + "/admin/reload"
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        assert HTTP.request(method, url).status_code == 405
    assert HTTP.post(url).status_code == 401
    assert HTTP.post(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert HTTP.post(url, headers={"Authorization": TOKEN[:-1]}).status_code == 401
    assert HTTP.post(url, headers={"Authorization": f"Bearer {TOKEN}"}).json()["reloaded"] is False
    for method, path in (("POST", "/api/articles"), ("DELETE", "/api/articles/x")):  # the writes: token first
        assert HTTP.request(method, server.url + path, json={"id": "x", "title": "t", "text": "x"}).status_code == 401
    with TestClient(create_app(searcher.index_dir, searcher=searcher, settings=Settings())) as client:
        r = client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 403 and "TRACUU_ADMIN_TOKEN" in r.json()["error"]  # no token set: disabled
        for method, path in (("POST", "/api/articles"), ("DELETE", "/api/articles/x")):
            assert client.request(method, path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 403


def served_version(server: LiveServer) -> str:
    return HTTP.get(server.url + "/health", timeout=30).json()["version"]


def test_sighup_and_admin_reload_switch_to_the_new_version(evil_site, embedder) -> None:
    server, index_dir, sources = evil_site
    before = served_version(server)
    assert before == layout.current_version(index_dir).name

    after_hup = publish(index_dir, sources, embedder, {"id": "hup", "title": "Tin mới", "text": "Một bài mới."})
    assert served_version(server) == before  # polling is off in this server: nothing moves by itself
    os.kill(server.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 15
    while served_version(server) != after_hup and time.monotonic() < deadline:
        time.sleep(0.1)
    assert served_version(server) == after_hup

    after_post = publish(index_dir, sources, embedder, {"id": "post", "title": "Tin nữa", "text": "Bài khác."})
    assert served_version(server) == after_hup
    r = HTTP.post(server.url + "/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    assert r.status_code == 200 and r.json() == {"reloaded": True, "version": after_post, "error": None}
    assert served_version(server) == after_post
    hits = HTTP.get(server.url + "/api/search", params={"q": "Bài khác", "mode": "lexical"}).json()["hits"]
    assert hits[0]["doc_id"] == "post"


def test_docs_page_csp_allows_only_this_server_and_its_own_inline_script(evil_site, browser_page) -> None:
    server, _, _ = evil_site
    r = HTTP.get(server.url + "/docs")
    assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"
    csp = r.headers["content-security-policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src")).split()[1:]
    inline = [s for s in script_src if s.startswith("'sha256-")]
    assert "'unsafe-inline'" not in script_src and len(inline) == r.text.count("<script>") == 1
    assert set(script_src) - set(inline) == {"'self'"}  # Swagger UI from the fastapi-offline package
    console: list[str] = []
    browser_page.on("console", lambda m: console.append(m.text))
    browser_page.goto(server.url + "/docs", wait_until="networkidle")
    assert not [m for m in console if "Content Security Policy" in m], console
