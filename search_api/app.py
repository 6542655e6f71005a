"""The HTTP face of a Searcher: JSON API, web page, health, OpenAPI docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from search_api.page import render_page
from search_api.params import QueryError, make_request
from search_api.schemas import ErrorBody, Health, SearchResult
from search_api.searcher import Searcher

STATIC_DIR = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": ErrorBody, "description": "a bad parameter"}}

Q = Annotated[str | None, Query(description="the query, in Vietnamese (with or without tone marks) or English")]
K = Annotated[str | None, Query(description="number of passages, 1..100 (default 10)")]
SOURCE = Annotated[str | None, Query(description="only articles from this source")]
FROM = Annotated[str | None, Query(alias="from", description="published on or after, YYYY-MM-DD")]
TO = Annotated[str | None, Query(description="published on or before, YYYY-MM-DD")]
LANG = Annotated[str | None, Query(description="only articles in this language (ISO 639-1)")]
MODE = Annotated[str | None, Query(description="hybrid (default), dense or lexical")]
EXACT = Annotated[bool, Query(description="search the query exactly as typed (no tone-mark restoration)")]


def _error(status: int, message: str, param: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "param": param}, status_code=status)


def create_app(index_dir: Path, searcher: Searcher | None = None, model: str | None = None) -> FastAPI:
    """An app serving `index_dir`; the index is loaded at start-up, not at import."""
    state: dict[str, Searcher] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["searcher"] = searcher or Searcher(index_dir, model=model)
        yield
        state["searcher"].close()

    app = FastAPI(title="tracuu", summary="Semantic search over Vietnamese report articles", lifespan=lifespan)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(QueryError)
    async def on_query_error(request: Request, exc: QueryError) -> JSONResponse:
        return _error(400, str(exc), exc.param)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        param = str(first.get("loc", ["", "?"])[-1])
        return _error(400, f"{param}: {first.get('msg', 'invalid value')}", param)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.get("/api/search", response_model=SearchResult, responses=ERRORS, summary="Top-k passages for a query")
    def api_search(
        q: Q = None,
        k: K = None,
        source: SOURCE = None,
        date_from: FROM = None,
        to: TO = None,
        lang: LANG = None,
        mode: MODE = None,
        exact: EXACT = False,
    ) -> dict[str, Any]:
        request = make_request(q, k, source, date_from, to, lang, mode, exact)
        return state["searcher"].search(request)

    @app.get("/", response_class=HTMLResponse, summary="The web search page")
    def page(
        q: Q = None,
        k: K = None,
        source: SOURCE = None,
        date_from: FROM = None,
        to: TO = None,
        lang: LANG = None,
        mode: MODE = None,
        exact: EXACT = False,
    ) -> HTMLResponse:
        searcher_ = state["searcher"]
        form = {
            "q": q or "",
            "source": source or "",
            "from": date_from or "",
            "to": to or "",
            "mode": mode or "",
            "k": k or "",
        }
        result, error = None, None
        if q is not None and q.strip():
            try:
                result = searcher_.search(make_request(q, k, source, date_from, to, lang, mode, exact))
            except QueryError as exc:
                error = str(exc)
        html = render_page(form, result, error, [s for s, _ in searcher_.store.sources()])
        return HTMLResponse(html, status_code=400 if error else 200)

    @app.get("/health", response_model=Health, summary="Index status")
    def health() -> dict[str, Any]:
        s = state["searcher"]
        articles, passages = s.store.counts()
        return {
            "status": "ok",
            "version": s.version,
            "articles": articles,
            "passages": passages,
            "model": s.manifest["model"]["name"],
        }

    @app.get("/static/style.css", include_in_schema=False)
    def stylesheet() -> FileResponse:
        return FileResponse(STATIC_DIR / "style.css", media_type="text/css")

    return app
