"""Server-rendered search page. Jinja2 autoescapes everything; only snippets, which the
highlighter has already escaped, are marked safe."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from retrieval.contract import SearchResult

_ENV = Environment(loader=PackageLoader("search_api", "templates"), autoescape=select_autoescape(default=True))


def _vi_date(iso: str | None) -> str:
    """2021-12-31 -> 31/12/2021, the way Vietnamese readers write dates."""
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def _web_url(url: str | None) -> str | None:
    """Only http(s) links: a `javascript:` or `data:` URL from a source is shown as no link at all."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


FORM_FIELDS = ("q", "source", "from", "to", "mode", "k")  # kept in the page's links; the rest is dropped


def render_page(query: Mapping[str, str], result: SearchResult | None, error: str | None, sources: list[str]) -> str:
    """The page for the URL's parameters `query` (as typed, shown back in the form) and its result or error."""
    form = {name: query.get(name, "") for name in FORM_FIELDS}
    active = {k: v for k, v in form.items() if v}
    json_link = "/api/search?" + urlencode(active) if form["q"] else None
    exact_link = "/?" + urlencode({**active, "exact": "true"}) if result and result.interpreted_query else None
    hits = []
    for hit in result.hits if result else []:
        shown = {"url": _web_url(hit.url), "snippet": Markup(hit.snippet), "date_vi": _vi_date(hit.published)}
        hits.append({**hit.model_dump(), **shown})
    return _ENV.get_template("index.html").render(
        form=form, result=result, hits=hits, error=error, sources=sources, json_link=json_link, exact_link=exact_link
    )
