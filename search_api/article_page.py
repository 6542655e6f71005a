"""Server-rendered article page (`/a/{doc_id}`). Jinja2 autoescapes everything; only the body's pieces,
escaped here (and marked by retrieval.highlight), are marked safe.

The page scrolls to a passage without script: each passage's start carries `id="p{chunk_no}"`, so links
to the article end in `#p{n}`; the best matching passage also carries `id="best"` and is linked from
the top of the page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from retrieval.contract import ArticleView
from retrieval.highlight import highlight

_ENV = Environment(loader=PackageLoader("search_api", "templates"), autoescape=select_autoescape(default=True))


@dataclass
class Piece:
    """A run of a paragraph that lies in the same passages: anchors before it, its class, its HTML."""

    html: Markup
    anchors: list[int] = field(default_factory=list)
    css: str = ""
    best_start: bool = False


def article_link(doc_id: str, query: str | None = None) -> str:
    """The page of `doc_id` (any characters: "/" and spaces too are percent-encoded)."""
    return f"/a/{quote(doc_id, safe='')}" + (f"?{urlencode({'q': query})}" if query else "")


def _vi_date(iso: str | None) -> str:
    """2021-12-31 -> 31/12/2021, the way Vietnamese readers write dates."""
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def _web_url(url: str | None) -> str | None:
    """Only http(s) links: a `javascript:` or `data:` URL from a source is shown as no link at all."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def paragraphs(view: ArticleView, marked: str | None) -> list[list[Piece]]:
    """The text as paragraphs (one a line) of pieces, cut wherever a passage or a highlight starts or ends.

    Query words are marked inside the highlighted passages only; the best one has the class `best`.
    """
    text = view.text
    starts: dict[int, list[int]] = {}
    for passage in view.passages:
        starts.setdefault(passage.start, []).append(int(passage.chunk_id.rsplit("#", 1)[1]))
    spans = [(m.start, m.end) for m in view.highlights or []]
    best = spans[0] if spans else None
    cuts = {0, len(text), *starts, *(i for span in spans for i in span)}
    cuts.update(i for i, char in enumerate(text) if char == "\n")
    cuts.update(i + 1 for i, char in enumerate(text) if char == "\n")
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    result: list[list[Piece]] = [[]]
    for a, b in zip(points, points[1:], strict=False):
        chunk = text[a:b]
        if chunk == "\n":
            result.append([])
            continue
        matched = any(s <= a < e for s, e in spans)
        css = ("match best" if best and best[0] <= a < best[1] else "match") if matched else ""
        shown = highlight(chunk, marked) if matched and marked else html.escape(chunk)
        result[-1].append(Piece(Markup(shown), starts.get(a, []), css, best is not None and a == best[0]))
    return [p for p in result if any(piece.anchors or piece.html.strip() for piece in p)]


def render_article(
    view: ArticleView | None, query: str | None, marked: str | None = None, error: str | None = None
) -> str:
    """The article's page, or the page saying `error` or, when `view` is None, that there is no such article;
    `query` is the q it was opened with."""
    back = "/?" + urlencode({"q": query}) if query else "/"
    if view is None or error:
        return _ENV.get_template("article.html").render(article=None, query=query, back=back, error=error)
    best = view.highlights[0] if view.highlights else None
    return _ENV.get_template("article.html").render(
        article=view,
        query=query,
        back=back,
        date_vi=_vi_date(view.published),
        url=_web_url(view.url),
        copies=[
            {"link": article_link(c.doc_id, query), "name": c.source or c.doc_id, "date_vi": _vi_date(c.published)}
            for c in view.also_published
        ],
        paragraphs=paragraphs(view, marked),
        best_anchor=f"p{best.chunk_id.rsplit('#', 1)[1]}" if best else None,
        json_link=f"/api/articles/{quote(view.doc_id, safe='')}" + (f"?{urlencode({'q': query})}" if query else ""),
    )
