"""The web page in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, sync_playwright

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


@pytest.fixture(scope="module")
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context()
        page = context.new_page()
        yield page
        browser.close()


def search(page: Page, base: str, query: str) -> None:
    page.goto(base + "/")
    page.fill("input[name=q]", query)
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state("domcontentloaded")


def test_type_query_press_enter_see_results(page: Page, live_server) -> None:
    search(page, live_server.url, "Thị ủy Ba Đồn thi hành kỷ luật bao nhiêu đảng viên")
    titles = page.locator(".hit .title").all_inner_texts()
    assert titles and "Ba Đồn" in titles[0]
    dates = page.locator(".hit time.date").all_inner_texts()
    assert "17/01/2018" in dates
    marks = page.locator(".hit .snippet mark").all_inner_texts()
    assert any(m.lower() in {"kỷ", "luật", "đảng", "viên", "ba", "đồn"} for m in marks)
    assert page.locator("#json-link").get_attribute("href").startswith("/api/search?")


def test_script_in_query_is_shown_as_text(page: Page, live_server) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    query = "<script>alert('x')</script> đảng viên"
    search(page, live_server.url, query)
    assert page.locator("input[name=q]").input_value() == query
    assert "<script>alert('x')</script>" in page.title()
    assert page.locator("script").count() == 0
    assert dialogs == []
