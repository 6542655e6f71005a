"""The web page in a real browser: Debian's chromium driven by Playwright, against a real `tracuu serve` of the
sample index (5 articles). Results grouped by article, the article view, facets, pages, sort, instant search
(typing shows results, Enter opens the first, Escape clears), the page without JavaScript, a phone's width,
a script typed as a query, and /docs and /redoc working offline.

Screenshots (desktop 1280 px, phone 390 px) are saved to a temporary folder, printed at the end of the run."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
QUERY = "kết nạp đảng viên mới"
INSTANT = "tracuu-instant"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    taken = ", ".join(sorted(p.name for p in folder.iterdir()))
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\nscreenshots of the page in {folder}: {taken}")


def new_page(browser: Browser, viewport: dict[str, int] = DESKTOP, **options) -> tuple[BrowserContext, Page, list[str]]:
    """A page of its own, and the console messages it logs (a CSP refusal would be one)."""
    context = browser.new_context(viewport=viewport, locale="vi-VN", **options)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    return context, page, console


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context, page, console = new_page(browser)
    yield page
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console
    context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context, page, console = new_page(browser, PHONE, is_mobile=True, has_touch=True)
    yield page
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console
    context.close()


@pytest.fixture
def no_script(browser: Browser) -> Iterator[Page]:
    context, page, _ = new_page(browser, java_script_enabled=False)
    yield page
    context.close()


def url_params(page: Page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def open_results(page: Page, base: str, **params: str) -> None:
    query = "&".join(f"{k}={v}" for k, v in {"q": QUERY, **params}.items())
    page.goto(f"{base}/?{query}")
    expect(page.locator(".summary")).to_be_visible()


def doc_ids(page: Page) -> list[str]:
    hrefs = page.locator(".hit .title a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    return [re.match(r"/a/([^?#]+)", href).group(1) for href in hrefs]


def test_without_javascript_the_form_searches(no_script: Page, live_server, shots: Path) -> None:
    page = no_script
    page.goto(live_server.url + "/")
    expect(page.locator(".home .indexed")).to_contain_text("5 bài viết")
    page.fill("input[name=q]", "Thị ủy Ba Đồn thi hành kỷ luật bao nhiêu đảng viên")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/\?q="))
    titles = page.locator(".hit .title").all_inner_texts()
    assert titles and "Ba Đồn" in titles[0]
    assert "17/01/2018" in page.locator(".hit time.date").all_inner_texts()
    marks = " ".join(page.locator(".hit .snippet mark").all_inner_texts()).lower()
    assert any(word in marks for word in ("kỷ luật", "đảng viên", "ba đồn"))
    assert page.locator("#json-link").get_attribute("href").startswith("/api/search?")
    page.locator(".facet a").first.click()  # links work without a script
    page.wait_for_url(re.compile(r"source=|from="))
    expect(page.locator(".chips .chip").first).to_be_visible()
    page.screenshot(path=shots / "no-javascript-1280.png")


def test_one_row_per_article(desktop: Page, live_server, shots: Path) -> None:
    open_results(desktop, live_server.url)
    ids = doc_ids(desktop)
    assert len(ids) == len(set(ids)) == 5
    expect(desktop.locator(".summary")).to_contain_text("Khoảng 5 bài viết")
    dated = desktop.locator(".hit", has=desktop.locator("time.date")).first
    expect(dated.locator(".meta .source")).to_be_visible()
    assert all(desktop.locator(".hit").nth(i).locator(".passages li").count() <= 2 for i in range(5))
    desktop.screenshot(path=shots / "results-1280.png", full_page=True)


def test_clicking_a_result_opens_the_article_at_its_passage(desktop: Page, live_server) -> None:
    open_results(desktop, live_server.url)
    link = desktop.locator(".hit .title a").first
    title, href = link.inner_text(), link.get_attribute("href")
    assert re.fullmatch(r"/a/[^?#]+\?q=[^#]+#p\d+", href), href
    link.click()
    desktop.wait_for_url(re.compile(r"/a/"))
    anchor = href.rsplit("#", 1)[1]
    assert urlsplit(desktop.url).fragment == anchor
    expect(desktop.locator("h1", has_text=title)).to_have_count(1)
    expect(desktop.locator(f"#{anchor}")).to_have_count(1)


def test_a_facet_filters_to_as_many_articles_as_it_counts(desktop: Page, live_server, shots: Path) -> None:
    open_results(desktop, live_server.url)
    facet = desktop.locator(".facet[data-facet=source] a").first
    source = facet.locator(".label").inner_text()
    count = int(facet.locator(".count").inner_text())
    facet.click()
    desktop.wait_for_url(re.compile(r"source="))
    assert url_params(desktop)["source"] == source
    expect(desktop.locator(".hit")).to_have_count(count)
    assert set(desktop.locator(".hit .source").all_inner_texts()) == {source}
    desktop.screenshot(path=shots / "facet-1280.png", full_page=True)
    desktop.locator(".chips .chip", has_text=source).click()  # the active filter, removed
    desktop.wait_for_url(lambda url: "source=" not in url)
    expect(desktop.locator(".hit")).to_have_count(5)


def test_year_facet_and_undated_articles(desktop: Page, live_server) -> None:
    open_results(desktop, live_server.url)
    year = desktop.locator(".facet[data-facet=year] a").first
    count = int(year.locator(".count").inner_text())
    year.click()
    desktop.wait_for_url(re.compile(r"from=\d{4}-01-01&to=\d{4}-12-31"))
    expect(desktop.locator(".hit")).to_have_count(count)
    expect(desktop.locator(".undated")).to_contain_text("không rõ ngày đăng")
    desktop.locator("#include-undated").click()
    desktop.wait_for_url(re.compile(r"include_undated=true"))
    assert desktop.locator(".hit").count() > count


def test_page_two(desktop: Page, live_server) -> None:
    open_results(desktop, live_server.url, k="2")
    first = doc_ids(desktop)
    expect(desktop.locator(".pages strong[aria-current=page]")).to_have_text("1")
    desktop.locator(".pages a", has_text=re.compile(r"^2$")).click()
    desktop.wait_for_url(re.compile(r"offset=2"))
    second = doc_ids(desktop)
    assert len(second) == 2 and not set(first) & set(second)
    expect(desktop.locator(".pages strong[aria-current=page]")).to_have_text("2")
    desktop.locator("#next-page").click()
    desktop.wait_for_url(re.compile(r"offset=4"))
    assert len(doc_ids(desktop)) == 1 and desktop.locator("#next-page").count() == 0


def test_sort_by_date_puts_the_newest_first(desktop: Page, live_server) -> None:
    open_results(desktop, live_server.url)
    desktop.locator("#sort-date").click()
    desktop.wait_for_url(re.compile(r"sort=date"))
    expect(desktop.locator(".sort strong")).to_have_text("Mới nhất")
    dates = [
        desktop.locator(".hit").nth(i).locator("time.date").get_attribute("datetime")
        if desktop.locator(".hit").nth(i).locator("time.date").count()
        else None
        for i in range(desktop.locator(".hit").count())
    ]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True) and len(dated) >= 2
    assert dates[: len(dated)] == dated  # undated last


def test_instant_results_as_you_type(desktop: Page, live_server, shots: Path) -> None:
    page = desktop
    page.goto(live_server.url + "/")
    page.screenshot(path=shots / "home-1280.png")
    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded
    page.locator("#q").press_sequentially("Vĩnh Bảo", delay=30)
    expect(page.locator(".hit .title").first).to_contain_text("Vĩnh Bảo")
    expect(page).to_have_url(re.compile(r"/\?q=V%C4%A9nh\+B%E1%BA%A3o$"))
    assert page.evaluate("window.sameDocument") is True
    assert page.title().startswith("Vĩnh Bảo")
    page.screenshot(path=shots / "instant-1280.png")

    page.reload()  # the URL kept in step gives the same page
    expect(page.locator(".hit .title").first).to_contain_text("Vĩnh Bảo")

    page.locator("#q").press("Escape")  # clears the box, back to the home page
    expect(page.locator("#q")).to_have_value("")
    expect(page.locator(".home")).to_be_visible()
    expect(page).to_have_url(live_server.url + "/")

    page.locator("#q").fill("Ba Đồn")
    expect(page.locator(".hit .title").first).to_contain_text("Ba Đồn")
    first = page.locator(".hit .title a").first.get_attribute("href")
    page.locator("#q").press("Enter")  # opens the first result
    page.wait_for_url(re.compile(r"/a/"))
    assert page.url.endswith(first)


def test_one_request_at_a_time_and_stale_answers_dropped(desktop: Page, live_server) -> None:
    page = desktop
    page.goto(live_server.url + "/")
    held, asked = [], []

    def hold_the_first(route) -> None:
        asked.append(parse_qs(urlsplit(route.request.url).query).get("q", [""])[0])
        if len(asked) == 1:
            held.append(route)  # answered only when the test says
        else:
            route.continue_()

    page.route(lambda url: urlsplit(url).path == "/" and "q=" in url, hold_the_first)
    page.evaluate(
        """() => { window.shown = [];
        new MutationObserver(() => { const t = document.querySelector('.hit .title');
            if (t) window.shown.push(t.textContent); })
          .observe(document.getElementById('results'), {childList: true, subtree: true}); }"""
    )
    with page.expect_request(lambda r: r.headers.get("x-requested-with") == INSTANT):
        page.locator("#q").fill("Ba Đồn")
    page.locator("#q").fill("Vĩnh Bảo")
    expect(page.locator("#results")).to_have_attribute("data-wanted", re.compile("V%C4%A9nh"))
    assert asked == ["Ba Đồn"]  # the second waits for the first
    held[0].continue_()
    expect(page.locator(".hit .title").first).to_contain_text("Vĩnh Bảo")
    assert asked == ["Ba Đồn", "Vĩnh Bảo"]
    assert not [t for t in page.evaluate("window.shown") if "Ba Đồn" in t]  # the stale answer was never shown
    assert url_params(page)["q"] == "Vĩnh Bảo"


def test_a_phone_shows_rows_without_sideways_scrolling(phone: Page, live_server, shots: Path) -> None:
    phone.goto(live_server.url + "/")
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=shots / "home-390.png")
    open_results(phone, live_server.url)
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    heights = phone.locator(".hit").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert len(heights) == 5 and max(heights) <= PHONE["height"] / 3, heights
    phone.screenshot(path=shots / "results-390.png")
    phone.screenshot(path=shots / "results-390-full.png", full_page=True)
    open_results(phone, live_server.url, k="2", sort="date", **{"from": "2018-01-01"})
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=shots / "filtered-390.png", full_page=True)


def test_a_script_in_the_query_is_shown_as_text(desktop: Page, live_server) -> None:
    page = desktop
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    query = "<script>alert('x')</script> Đảng bộ thị xã Ba Đồn"  # markup and a question the index answers
    page.goto(live_server.url + "/?" + f"q={query.replace('&', '%26')}")
    expect(page.locator(".summary")).to_be_visible()
    assert page.locator("input[name=q]").input_value() == query
    assert "<script>alert('x')</script>" in page.title()
    page.locator("#q").fill(query + " <img src=x onerror=alert(1)>")  # and through instant search
    expect(page).to_have_url(re.compile("onerror"))
    expect(page.locator("main")).not_to_have_attribute("aria-busy", "true")
    assert page.locator("script:not([src='/static/search.js']), img").count() == 0
    assert dialogs == []


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_api_docs_render_offline(browser: Browser, live_server, path: str, rendered: str) -> None:
    context, page, _ = new_page(browser)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.goto(live_server.url + path)
    expect(page.locator(rendered).first).to_contain_text("tracuu")
    # Only ReDoc's "API docs by Redocly" logo is asked of a CDN (and refused by the CSP: the page works without).
    assert [u for u in outside if not u.startswith(("data:", "blob:", "https://cdn.redoc.ly/"))] == []
    context.close()
