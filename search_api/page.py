"""The server-rendered results page: one row per article, facets as filters, sort, pages, answers.

Jinja2 autoescapes everything; only snippets, which the highlighter has already escaped (query words in
<mark>), are marked safe, and the answer sentence is wrapped in them here when the searcher has not marked it.
Every link is the page's own URL with one change (a filter added or removed, another sort, another page), so
the page works without JavaScript and any state can be shared as a URL.

Instant search (static/search.js) asks for the same page with the request header
`X-Requested-With: tracuu-instant` (INSTANT_HEADER, INSTANT_VALUE) and gets only the results fragment, the
part of the page inside <main>, rendered by the same template.
"""

from __future__ import annotations

import html
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from indexer.format.store import SegmentedStore
from retrieval.contract import MAX_OFFSET, PageParams, QueryError, SearchResult

_ENV = Environment(loader=PackageLoader("search_api", "templates"), autoescape=select_autoescape(default=True))

INSTANT_HEADER = "X-Requested-With"
INSTANT_VALUE = "tracuu-instant"  # the page answers with the results fragment only
# The page's parameters, in the order its links write them; anything else in the URL (utm_source...) is dropped.
LINK_PARAMS = (
    "q",
    "source",
    "from",
    "to",
    "lang",
    "mode",
    "exact",
    "group",
    "sort",
    "include_undated",
    "time",
    "floor",
    "k",
    "offset",
)
# Kept as hidden fields when a new query is typed: the filters and settings stay, the page goes back to 1.
KEPT_BY_FORM = ("source", "lang", "mode", "group", "sort", "include_undated", "k")
DEFAULTS = {
    "mode": "hybrid",
    "exact": "false",
    "group": "article",
    "sort": "relevance",
    "include_undated": "false",
    "time": "on",
    "floor": "on",
}
EXAMPLE_QUERIES = (
    "kết nạp đảng viên mới",
    "thi hành kỷ luật đảng viên",
    "củng cố tổ chức cơ sở đảng",
)
FACETS_SHOWN = 8  # values of a facet listed before "more"
PAGE_WINDOW = 2  # pages linked either side of the current one


def _vi_date(iso: str | None) -> str:
    """2021-12-31 -> 31/12/2021, the way Vietnamese readers write dates."""
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def _vi_number(n: int) -> str:
    """12345 -> 12.345: Vietnamese groups thousands with dots."""
    return f"{n:,}".replace(",", ".")


def _web_url(url: str | None) -> str | None:
    """Only http(s) links: a `javascript:` or `data:` URL from a source is shown as no link at all."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


# --- Error messages -------------------------------------------------------------------------------------------

_NUMBERS = re.compile(r"-?\d+")


def error_message(error: QueryError) -> str:
    """A QueryError in Vietnamese, for the page (the JSON API keeps its English message)."""
    code, param, message = error.code, error.param, error.message
    numbers = _NUMBERS.findall(message)
    if code == "repeated_search_param":
        return f"Tham số “{param}” xuất hiện nhiều lần trong địa chỉ; mỗi tham số chỉ được dùng một lần."
    if code == "unknown_search_param":
        return f"Tham số “{param}” không được hỗ trợ."
    if code == "invalid_search_q":
        if "empty" in message:
            return "Hãy nhập nội dung cần tìm."
        if "limit" in message and numbers:
            return f"Câu tìm kiếm quá dài: tối đa {_vi_number(int(numbers[-1]))} ký tự."
        return "Câu tìm kiếm không hợp lệ."
    if code in ("invalid_search_k", "invalid_search_offset"):
        what = "Số kết quả mỗi trang (k)" if code == "invalid_search_k" else "Vị trí bắt đầu của trang (offset)"
        if "between" in message and len(numbers) >= 2:
            low, high = numbers[0], numbers[1]
            return f"{what} phải là một số nguyên từ {_vi_number(int(low))} đến {_vi_number(int(high))}."
        return f"{what} phải là một số nguyên."
    if code in ("invalid_search_from", "invalid_search_to"):
        if "is after" in message:
            return "Ngày bắt đầu (từ ngày) đang sau ngày kết thúc (đến ngày)."
        what = "Ngày bắt đầu (from)" if code == "invalid_search_from" else "Ngày kết thúc (to)"
        if "no such date" in message:
            return f"{what} không có trên lịch."
        return f"{what} phải có dạng năm-tháng-ngày, ví dụ 2023-12-31."
    if code == "invalid_search_mode":
        return "Chế độ tìm (mode) phải là hybrid, dense hoặc lexical."
    if code == "invalid_search_sort":
        return "Cách sắp xếp (sort) phải là relevance (liên quan nhất) hoặc date (mới nhất)."
    if code == "invalid_search_group":
        return "Cách nhóm kết quả (group) phải là article (theo bài) hoặc passage (theo đoạn)."
    if code in ("invalid_search_exact", "invalid_search_include_undated"):
        return f"Tham số “{param}” chỉ nhận true hoặc false."
    if code == "invalid_search_time":
        return "Tham số “time” chỉ nhận on (ưu tiên thời gian trong câu tìm) hoặc off."
    if code == "invalid_search_floor":
        return "Tham số “floor” chỉ nhận on (không trả lời câu tìm vô nghĩa) hoặc off."
    if code == "invalid_search_lang":
        return "Mã ngôn ngữ (lang) không hợp lệ; ví dụ: vi hoặc en."
    if code == "invalid_search_source":
        if "limit" in message and numbers:
            return f"Tên nguồn quá dài: tối đa {_vi_number(int(numbers[-1]))} ký tự."
        return "Tên nguồn không hợp lệ."
    return f"Giá trị của tham số “{param}” không hợp lệ."


# --- The answer sentence, marked in a snippet -----------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_OTHER_THAN_MARK = re.compile(r"<(?!/?mark\b)[a-zA-Z/]")
_MIN_PARTIAL = 20  # characters of a cropped answer worth marking


def _visible(snippet: str) -> tuple[str, list[int], list[int]]:
    """The text a snippet shows, and for each of its characters where it starts and ends in the HTML."""
    text: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    while pos < len(snippet):
        if snippet[pos] == "<":
            tag = _TAG.match(snippet, pos)
            if tag:
                pos = tag.end()
                continue
        entity = _ENTITY.match(snippet, pos) if snippet[pos] == "&" else None
        end = entity.end() if entity else pos + 1
        text.append(html.unescape(snippet[pos:end]))
        starts.append(pos)
        ends.append(end)
        pos = end
    return "".join(text), starts, ends


def _squeezed(text: str) -> tuple[str, list[int]]:
    """`text` with each run of white space as one space, and where each character came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if out and out[-1] == " ":
                continue
            ch = " "
        out.append(ch)
        origin.append(i)
    return "".join(out), origin


_CROP_START = re.compile(r"^(?:\s|…|\.\.\.)*")
_CROP_END = re.compile(r"(?:\s|…|\.\.\.)*$")


def _answer_span(shown: str, answer: str) -> tuple[int, int] | None:
    """Where in `shown` (squeezed) the answer is: whole, or the part of it the crop left (its end or its start)."""
    answer = " ".join(answer.split())
    if not answer:
        return None
    found = shown.find(answer)
    if found >= 0:
        return found, found + len(answer)
    begin = _CROP_START.match(shown).end()  # type: ignore[union-attr]
    end = max(begin, _CROP_END.search(shown).start())  # type: ignore[union-attr]
    core = shown[begin:end]
    if len(core) >= _MIN_PARTIAL and core in answer:  # the snippet is all answer
        return begin, end
    for size in range(min(len(core), len(answer)) - 1, _MIN_PARTIAL - 1, -1):
        if core[:size] == answer[-size:]:  # the crop cut the answer's start
            return begin, begin + size
        if core[-size:] == answer[:size]:  # the crop cut its end
            return end - size, end
    return None


def _outside_marks(snippet: str, pos: int, forward: bool) -> int:
    """`pos` moved out of a <mark> element it falls inside, so that a span around it nests properly."""
    opened = snippet.rfind("<mark>", 0, pos)
    closed = snippet.rfind("</mark>", 0, pos)
    if opened > closed:  # inside a mark
        return snippet.index("</mark>", pos) + len("</mark>") if forward else opened
    return pos


def marked_answer(snippet: str, answer: str | None) -> Markup:
    """The snippet (already escaped HTML) with its answer sentence in <span class="answer">, unless the searcher
    marked it already (any tag other than <mark>) or the sentence is not in it."""
    if not answer or _OTHER_THAN_MARK.search(snippet):
        return Markup(snippet)
    text, starts, ends = _visible(snippet)
    squeezed, origin = _squeezed(text)
    span = _answer_span(squeezed, answer)
    if span is None:
        return Markup(snippet)
    first, last = origin[span[0]], origin[span[1] - 1]
    begin = _outside_marks(snippet, starts[first], forward=False)
    end = _outside_marks(snippet, ends[last], forward=True)
    return Markup(f'{snippet[:begin]}<span class="answer">{snippet[begin:end]}</span>{snippet[end:]}')


# --- Links -----------------------------------------------------------------------------------------------------


def _state(query: Mapping[str, str]) -> dict[str, str]:
    """The page's parameters in the URL, without empty or default values."""
    return {k: query[k] for k in LINK_PARAMS if query.get(k) and DEFAULTS.get(k) != query[k]}


def page_link(state: Mapping[str, str], **changes: str | int | None) -> str:
    """The page's URL with `changes` (None removes a parameter; a filter or sort change goes back to page 1)."""
    new = dict(state)
    changes = {("from" if k == "date_from" else "to" if k == "date_to" else k): v for k, v in changes.items()}
    if "offset" not in changes:
        new.pop("offset", None)
    for name, value in changes.items():
        if value is None or value == "" or DEFAULTS.get(name) == str(value) or (name == "offset" and value == 0):
            new.pop(name, None)
        else:
            new[name] = str(value)
    ordered = {k: new[k] for k in LINK_PARAMS if k in new}
    return "/?" + urlencode(ordered) if ordered else "/"


def article_link(doc_id: str, chunk_id: str | None, query: str | None) -> str:
    """The article view at a passage: /a/{doc_id}?q=...#p{chunk_no}."""
    link = "/a/" + quote(doc_id, safe="")
    if query:
        link += "?" + urlencode({"q": query})
    _, sep, chunk_no = (chunk_id or "").rpartition("#")
    return link + (f"#p{chunk_no}" if sep and chunk_no.isdigit() else "")


# --- The view of a result --------------------------------------------------------------------------------------


@dataclass
class Choice:
    label: str
    count: int | None = None
    href: str | None = None  # None: not a link (the active value, or one that cannot be filtered on)
    active: bool = False


@dataclass
class FacetView:
    name: str
    title: str
    shown: list[Choice]
    more: list[Choice] = field(default_factory=list)


def _year_of(params: PageParams) -> int | None:
    """The year a from/to pair covers exactly (a year facet's filter), else None."""
    f, t = params.date_from, params.date_to
    if f and t and f.year == t.year and (f.month, f.day, t.month, t.day) == (1, 1, 12, 31):
        return f.year
    return None


def _facets(result: SearchResult, params: PageParams, state: Mapping[str, str]) -> list[FacetView]:
    views = []
    sources: list[Choice] = []
    for value in result.facets.source:
        if value.value is None:
            sources.append(Choice("Không rõ nguồn", value.count))
            continue
        name = str(value.value)
        active = bool(params.source) and name.casefold() == (params.source or "").casefold()
        sources.append(Choice(name, value.count, None if active else page_link(state, source=name), active))
    if sources:
        views.append(FacetView("source", "Nguồn", sources[:FACETS_SHOWN], sources[FACETS_SHOWN:]))
    years: list[Choice] = []
    active_year = _year_of(params)
    for value in result.facets.year:
        if value.value is None:
            years.append(Choice("Không rõ ngày", value.count))
            continue
        year = int(value.value)
        href = page_link(state, date_from=f"{year:04d}-01-01", date_to=f"{year:04d}-12-31")
        years.append(Choice(str(year), value.count, None if year == active_year else href, year == active_year))
    if years:
        views.append(FacetView("year", "Năm", years[:FACETS_SHOWN], years[FACETS_SHOWN:]))
    return views


def _active_filters(params: PageParams, state: Mapping[str, str]) -> list[Choice]:
    """The filters in force, each with the link that removes it."""
    chips = []
    if params.source:
        chips.append(Choice(f"Nguồn: {params.source}", href=page_link(state, source=None)))
    year = _year_of(params)
    if year is not None:
        chips.append(Choice(f"Năm {year}", href=page_link(state, date_from=None, date_to=None)))
    else:
        if params.date_from:
            chips.append(Choice(f"Từ {_vi_date(params.date_from.isoformat())}", href=page_link(state, date_from=None)))
        if params.date_to:
            chips.append(Choice(f"Đến {_vi_date(params.date_to.isoformat())}", href=page_link(state, date_to=None)))
    if params.include_undated:
        chips.append(Choice("Gồm cả bài không rõ ngày", href=page_link(state, include_undated=None)))
    if params.lang:
        chips.append(Choice(f"Ngôn ngữ: {params.lang}", href=page_link(state, lang=None)))
    if params.mode != "hybrid":
        chips.append(Choice(f"Chế độ: {params.mode}", href=page_link(state, mode=None)))
    if params.exact:
        chips.append(Choice("Tìm đúng như đã gõ", href=page_link(state, exact=None)))
    if params.time == "off":
        chips.append(Choice("Không ưu tiên thời gian", href=page_link(state, time=None)))
    return chips


def _pages(total: int, k: int, offset: int, state: Mapping[str, str]) -> dict[str, Any] | None:
    """Trang 1 2 3 … Sau: the page links around the current page, or None when all fits on one page."""
    last = min(math.ceil(total / k), MAX_OFFSET // k + 1)
    current = offset // k + 1
    if last <= 1 and offset == 0:
        return None
    numbers = sorted({1, last, *range(max(1, current - PAGE_WINDOW), min(last, current + PAGE_WINDOW) + 1)})
    items: list[Choice | None] = []  # None: a gap (…)
    for previous, n in zip([0, *numbers], numbers, strict=False):
        if n - previous > 1:
            items.append(None)
        items.append(
            Choice(str(n), href=None if n == current else page_link(state, offset=(n - 1) * k), active=n == current)
        )
    return {
        "items": items,
        "previous": page_link(state, offset=(current - 2) * k) if current > 1 else None,
        "next": page_link(state, offset=current * k) if current < last else None,
    }


def _hit_view(hit: Any, query: str) -> dict[str, Any]:
    passages = list(getattr(hit, "passages", None) or [])
    answer = hit.answer.text if hit.answer else None
    more = [
        {
            "href": article_link(hit.doc_id, p.chunk_id, query),
            "snippet": marked_answer(p.snippet, p.answer.text if p.answer else None),
        }
        for p in passages
        if p.chunk_id != hit.chunk_id
    ][:2]
    also = [
        {"href": article_link(c.doc_id, None, query), "source": c.source or c.doc_id, "date_vi": _vi_date(c.published)}
        for c in hit.also_published
    ]
    return {
        "title": hit.title,
        "href": article_link(hit.doc_id, hit.chunk_id, query),
        "url": _web_url(hit.url),
        "source": hit.source,
        "published": hit.published,
        "date_vi": _vi_date(hit.published),
        "author": hit.author,
        "snippet": marked_answer(hit.snippet, answer),
        "more": more,
        "also": also,
    }


# --- What the index holds (the home page) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    articles: int
    passages: int
    sources: int
    top_sources: list[tuple[str, int]]
    first: str | None
    last: str | None
    undated: int


_OVERVIEWS: dict[str, Overview] = {}
_OVERVIEWS_LOCK = threading.Lock()
_OVERVIEWS_KEPT = 4


def index_overview(store: SegmentedStore, version_key: str) -> Overview:
    """Articles, passages, sources and dates of an index version: a few aggregate queries, once per version."""
    with _OVERVIEWS_LOCK:
        cached = _OVERVIEWS.get(version_key)
    if cached is not None:
        return cached
    articles, passages = store.counts()
    sources, first, last, undated = store.overview()
    overview = Overview(articles, passages, len(sources), store.sources()[:5], first, last, undated)
    with _OVERVIEWS_LOCK:
        while len(_OVERVIEWS) >= _OVERVIEWS_KEPT:
            _OVERVIEWS.pop(next(iter(_OVERVIEWS)))
        _OVERVIEWS[version_key] = overview
    return overview


def _overview_view(overview: Overview) -> dict[str, Any]:
    return {
        "articles": _vi_number(overview.articles),
        "passages": _vi_number(overview.passages),
        "sources": _vi_number(overview.sources),
        "top_sources": [(name, _vi_number(count)) for name, count in overview.top_sources],
        "more_sources": overview.sources > len(overview.top_sources),
        "first": _vi_date(overview.first),
        "last": _vi_date(overview.last),
        "undated": _vi_number(overview.undated) if overview.undated else None,
    }


# --- The page --------------------------------------------------------------------------------------------------


def render_page(
    query: Mapping[str, str],
    params: PageParams | None,
    result: SearchResult | None,
    error: QueryError | None,
    overview: Overview | None = None,
    fragment: bool = False,
) -> str:
    """The page for the URL's parameters `query` (as typed, shown back in the form), validated as `params`, with
    its result or error; `overview` for the home page; `fragment`: only what goes inside <main>."""
    form = {name: query.get(name, "") for name in ("q", "from", "to")}
    state = _state(query)
    bad = error.param if error else None  # not kept: the next search would fail the same way
    hidden = {name: state[name] for name in KEPT_BY_FORM if name in state and name != bad}
    view: dict[str, Any] = {
        "form": form,
        "hidden": hidden,
        "error": error_message(error) if error else None,
        "error_param": error.param if error else None,
        "overview": _overview_view(overview) if overview else None,
        "examples": [(q, page_link({}, q=q)) for q in EXAMPLE_QUERIES],
        "dates_open": bool(form["from"] or form["to"]),
        "result": None,
    }
    if result is not None and params is not None:
        shown_query = params.q or ""
        k = params.k
        view.update(
            result=result,
            articles=params.group == "article",
            total=_vi_number(result.total),
            took=f"{result.took_ms:.0f}",
            hits=[_hit_view(hit, shown_query) for hit in result.hits],
            facets=_facets(result, params, state),
            chips=_active_filters(params, state),
            sort=params.sort,
            by_relevance=page_link(state, sort=None),
            by_date=page_link(state, sort="date"),
            pages=_pages(result.total, k, params.offset, state),
            page_number=params.offset // k + 1,
            first_page=page_link(state, offset=None) if params.offset else None,
            include_undated=page_link(state, include_undated="true") if result.undated_excluded else None,
            undated_excluded=_vi_number(result.undated_excluded),
            exact_link=page_link(state, exact="true") if result.interpreted_query or result.corrected_query else None,
            corrected_link=page_link(state, q=result.corrected_query) if result.corrected_query else None,
            timeless_link=page_link(state, time="off") if result.interpreted_time else None,
            weak_link=page_link(state, floor="off") if result.below_floor else None,
            json_link="/api/search?" + urlencode({**state, "group": params.group}),  # the API's default is passage
        )
    template = _ENV.get_template("index.html")
    if fragment:
        context = template.new_context(view)
        return "".join(template.blocks["results"](context))
    return template.render(view)
