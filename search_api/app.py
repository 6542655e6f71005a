"""The HTTP face of a Searcher: JSON API, web page, health, OpenAPI docs."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.embedder import available_cpus
from search_api.hardening import RequestLimits, check_page_params, check_params, precise_openapi, with_docs_csp
from search_api.metrics import install as install_metrics
from search_api.page import render_page
from search_api.params import QueryError, make_request
from search_api.reload import LiveSearcher
from search_api.schemas import ErrorBody, Health, ReloadResult, SearchResult
from search_api.searcher import Searcher
from tracuu.settings import SETTINGS, Settings

STATIC_DIR = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": ErrorBody, "description": "a bad parameter"}}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing or wrong token (Authorization: Bearer TRACUU_ADMIN_TOKEN)"},
    403: {"model": ErrorBody, "description": "admin endpoints are off: TRACUU_ADMIN_TOKEN is not set"},
}

Q = Annotated[str | None, Query(description="the query, in Vietnamese (with or without tone marks) or English")]
K = Annotated[str | None, Query(description="number of passages, 1..100 (default 10)")]
SOURCE = Annotated[str | None, Query(description="only articles from this source")]
FROM = Annotated[str | None, Query(alias="from", description="published on or after, YYYY-MM-DD")]
TO = Annotated[str | None, Query(description="published on or before, YYYY-MM-DD")]
LANG = Annotated[str | None, Query(description="only articles in this language (ISO 639-1)")]
MODE = Annotated[str | None, Query(description="hybrid (default), dense or lexical")]
EXACT = Annotated[bool, Query(description="search the query exactly as typed (no tone-mark restoration)")]


def limit_request_threads(threads: int) -> int:
    """Let at most `threads` requests (0: one per CPU) run at once; the rest wait their turn, first come first served.

    Every route is a plain function that FastAPI runs on a thread. With the default 40 threads, 16 clients
    meant 16 searches sharing 2 cores: each took 8 times longer and the unluckiest waited longest.
    Working on as many requests as there are cores, in order of arrival, serves each one at full speed.
    """
    if threads <= 0:
        threads = available_cpus()
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    return threads


def _error(status: int, message: str, param: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "param": param}, status_code=status)


def create_app(
    index_dir: Path, searcher: Searcher | None = None, model: str | None = None, settings: Settings | None = None
) -> FastAPI:
    """An app serving `index_dir`; the index is loaded at start-up, not at import.

    A newly published version is picked up while serving (see search_api.reload).
    """
    settings = settings or SETTINGS
    state: dict[str, LiveSearcher] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        live = LiveSearcher(index_dir, searcher or Searcher(index_dir, model=model), model, settings.reload_interval_s)
        state["live"] = live
        limit_request_threads(settings.request_threads)
        live.start()
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # main thread only
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, live.wake)
        yield
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        live.stop()
        if live.get() is not searcher:  # a Searcher given by the caller stays theirs to close
            live.get().close()

    def current() -> Searcher:
        return state["live"].get()

    app = FastAPI(title="tracuu", summary="Semantic search over Vietnamese report articles", lifespan=lifespan)
    app.add_middleware(RequestLimits, max_bytes=settings.max_request_bytes)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # CORS is off unless TRACUU_CORS_ORIGINS names the origins allowed to read the API
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET"], allow_credentials=False)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        if request.url.path == app.docs_url:  # Swagger UI: its CDN and its one inline script, by hash
            response = await with_docs_csp(response)
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
        response = _error(exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return response

    @app.exception_handler(Exception)
    async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # Logged with its traceback by the server; the client gets no internals.
        return _error(500, "internal error")

    @app.get("/api/search", response_model=SearchResult, responses=ERRORS, summary="Top-k passages for a query")
    def api_search(
        request: Request,
        response: Response,
        q: Q = None,
        k: K = None,
        source: SOURCE = None,
        date_from: FROM = None,
        to: TO = None,
        lang: LANG = None,
        mode: MODE = None,
        exact: EXACT = False,
    ) -> dict[str, Any]:
        check_params(request.query_params)
        searcher_ = current()  # one Searcher for the whole request, even if a new version is swapped in
        result = searcher_.search(make_request(q, k, source, date_from, to, lang, mode, exact))
        response.headers["X-Tracuu-Version"] = searcher_.version
        return result

    @app.get("/", response_class=HTMLResponse, summary="The web search page")
    def page(
        request: Request,
        q: Q = None,
        k: K = None,
        source: SOURCE = None,
        date_from: FROM = None,
        to: TO = None,
        lang: LANG = None,
        mode: MODE = None,
        exact: EXACT = False,
    ) -> HTMLResponse:
        searcher_ = current()
        form = {
            "q": q or "",
            "source": source or "",
            "from": date_from or "",
            "to": to or "",
            "mode": mode or "",
            "k": k or "",
        }
        result, error = None, None
        try:
            check_params(request.query_params, unknown_ok=True)  # tracking parameters are no error here
            if q is not None and q.strip():
                result = searcher_.search(make_request(q, k, source, date_from, to, lang, mode, exact))
            else:  # no search, yet the rest of the URL is checked all the same
                check_page_params(q, k, source, date_from, to, lang, mode)
        except QueryError as exc:
            error = str(exc)
        html = render_page(form, result, error, [s for s, _ in searcher_.store.sources()])
        return HTMLResponse(html, status_code=400 if error else 200)

    @app.get("/health", response_model=Health, summary="Index status")
    def health() -> dict[str, Any]:
        s = current()
        articles, passages = s.store.counts()
        return {
            "status": "ok",
            "version": s.version,
            "articles": articles,
            "passages": passages,
            "model": s.manifest["model"]["name"],
        }

    @app.post("/admin/reload", response_model=ReloadResult, responses=ADMIN_ERRORS, summary="Serve the newest version")
    def admin_reload(authorization: Annotated[str | None, Header()] = None) -> Any:
        """Switch to the published version now (it is also picked up within TRACUU_RELOAD_INTERVAL_S)."""
        if not settings.admin_token:
            return _error(403, "admin endpoints are off: set TRACUU_ADMIN_TOKEN to enable them")
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), settings.admin_token.encode()):
            return _error(401, "authorization: missing or wrong token (send 'Authorization: Bearer <token>')")
        live = state["live"]
        reloaded = live.reload()
        return {"reloaded": reloaded, "version": live.get().version, "error": live.last_error}

    @app.get("/static/style.css", include_in_schema=False)
    def stylesheet() -> FileResponse:
        return FileResponse(STATIC_DIR / "style.css", media_type="text/css")

    install_metrics(app)  # outermost middleware: times every request; GET /metrics
    precise_openapi(app, settings)
    return app
