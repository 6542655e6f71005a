"""The HTTP face of a Searcher: JSON API, web page, health, OpenAPI docs.

Handlers are thin: FastAPI validates the query string with the search contract's own model
(retrieval.contract.SearchParams, with this deployment's limits), the Searcher answers with a typed
SearchResult, and the page renders that same object.
"""

# No `from __future__ import annotations` here: FastAPI reads the handlers' annotations, and the parameter
# models they name are made per app (with its settings' limits), so they must be evaluated in place.

import asyncio
import contextlib
import functools
import hmac
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from indexer.posted import PostedArticles
from retrieval.articles import article_view, marked_query
from retrieval.contract import ArticleView, PageParams, QueryError, SearchParams, SearchResult, limited, query_error
from retrieval.searcher import Searcher
from search_api.article_page import render_article
from search_api.hardening import (
    RequestLimits,
    SecurityHeaders,
    error_body,
    no_repeated_params,
    refuse_repeated,
    with_docs_csp,
)
from search_api.ingest import BodyError, Publisher, posted_records
from search_api.metrics import install as install_metrics
from search_api.page import INSTANT_HEADER, INSTANT_VALUE, index_overview, render_page
from search_api.reload import LiveSearcher
from search_api.schemas import ArticleChange, ErrorBody, Health, PostedArticle, ReloadResult
from tracuu.settings import Settings
from tracuu.system import available_cpus

STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = {
    "style.css": "text/css; charset=utf-8",
    "article.css": "text/css; charset=utf-8",
    "search.js": "text/javascript; charset=utf-8",
}
# Swagger UI and ReDoc from the fastapi-offline package, not from a CDN: the docs work offline, and their CSP
# allows only this server (hardening.with_docs_csp).
DOCS_ASSETS = Path(str(files("fastapi_offline") / "static"))
DOCS_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
DOCS_PATH, REDOC_PATH, DOCS_STATIC = "/docs", "/redoc", "/static/docs"
PAGE_PATH = "/"
ARTICLES_PATH = "/api/articles"
WaitParam = Annotated[
    str,
    Query(description="`true`: answer 200 once the change is searchable; `false` (default): 202 once it is on disk"),
]
PUBLISH_WAIT_S = 120.0  # the longest `wait=true` holds a request before answering 202 (still written, not yet served)
# One "4XX" entry documents every client error (400, 404, 405, 413, 414) with the one error body, and keeps
# FastAPI from publishing a 422 that this API never answers.
ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "a bad request; `param` names the parameter at fault, if one is"}
}
PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "a bad parameter: the page with the error shown (or a JSON error for 413 and 414)",
        "model": ErrorBody,
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    401: {"model": ErrorBody, "description": "missing or wrong token (Authorization: Bearer TRACUU_ADMIN_TOKEN)"},
    403: {"model": ErrorBody, "description": "admin endpoints are off: TRACUU_ADMIN_TOKEN is not set"},
}


@functools.cache
def query_parameters(model: type[SearchParams]) -> list[dict[str, Any]]:
    """The OpenAPI parameters FastAPI publishes for `model` as a query model, for a route that parses it itself."""
    probe = FastAPI()

    @probe.get("/")
    def documented(params: Annotated[model, Query()]) -> None:  # type: ignore[valid-type]
        """Never called: only its OpenAPI parameters are read."""

    parameters: list[dict[str, Any]] = probe.openapi()["paths"]["/"]["get"]["parameters"]
    return parameters


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


def _error(status: int, message: str, param: str | None = None, code: str = "bad_request") -> JSONResponse:
    return JSONResponse(error_body(message, param, code), status_code=status)


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def _listed_file(directory: Path, files: dict[str, str], name: str) -> FileResponse:
    """One of the files a directory may serve (never a path built from the request), with its media type."""
    if name not in files:
        raise StarletteHTTPException(404, "Not Found")
    return FileResponse(directory / name, media_type=files[name], headers={"Cache-Control": "no-cache"})


def create_app(
    index_dir: Path, searcher: Searcher | None = None, model: str | None = None, settings: Settings | None = None
) -> FastAPI:
    """An app serving `index_dir`; the index is loaded at start-up, not at import.

    A newly published version is picked up while serving (see search_api.reload).
    """
    settings = settings or Settings.from_env()
    api_params = limited(SearchParams, settings)
    page_params = limited(PageParams, settings)
    state: dict[str, Any] = {}
    posted = PostedArticles(index_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = searcher or Searcher(index_dir, model=model, settings=settings)
        live = LiveSearcher(index_dir, opened, model, settings)
        state["live"] = live
        publisher = state["publisher"] = Publisher(index_dir, live)
        publisher.catch_up()  # before serving: what was acknowledged before a crash is searchable once ready
        live.get().warm_up()  # and the first query is as fast as the tenth
        limit_request_threads(settings.request_threads)
        live.start()
        publisher.start()
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # main thread only
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, live.wake)
        yield
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        publisher.stop()
        live.stop()
        if live.get() is not searcher:  # a Searcher given by the caller stays theirs to close
            live.get().close()

    def current() -> Searcher:
        live: LiveSearcher = state["live"]
        return live.get()

    async def search_json(query: QueryParams) -> tuple[bytes, str]:
        """The JSON of a search and the index version that answered it (QueryError: a bad parameter)."""
        refuse_repeated(query)
        params = api_params.parse(dict(query))
        searcher_ = current()  # one Searcher for the whole request, even if a new version is swapped in
        result = await anyio.to_thread.run_sync(searcher_.search, params)
        return result.model_dump_json(by_alias=True).encode(), searcher_.version

    app = FastAPI(
        title="tracuu",
        summary="Semantic search over Vietnamese report articles",
        lifespan=lifespan,
        docs_url=None,  # served below from packaged assets, not from a CDN
        redoc_url=None,
    )
    # Starlette runs the middleware added last first: the fast path is innermost, so every other one sees its requests.
    app.add_middleware(FastSearch, answer=search_json, router=app.router, path="/api/search")
    app.add_middleware(
        RequestLimits,
        max_bytes=settings.max_request_bytes,
        large_bodies={ARTICLES_PATH: (settings.max_ingest_bytes, "TRACUU_MAX_INGEST_BYTES")},
    )
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # CORS is off unless TRACUU_CORS_ORIGINS names the origins allowed to read the API
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET"], allow_credentials=False)

    app.add_middleware(SecurityHeaders)

    def bad_parameter(request: Request, exc: QueryError) -> Response:
        """The API answers a JSON error; the page shows the error where the results would be."""
        if request.url.path == PAGE_PATH:
            return page_response(request, None, exc)
        return _error(400, str(exc), exc.param, exc.code)

    @app.exception_handler(QueryError)
    async def on_query_error(request: Request, exc: QueryError) -> Response:
        return bad_parameter(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        model = page_params if request.url.path == PAGE_PATH else api_params
        return bad_parameter(request, query_error(errors[0] if errors else {"type": "missing"}, model))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(exc.status_code, str(exc.detail), code=HTTP_CODES.get(exc.status_code, "bad_request"))
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return response

    @app.exception_handler(Exception)
    async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # Logged with its traceback by the server; the client gets no internals.
        return _error(500, "internal error", code="internal")

    @app.get(
        "/api/search",
        response_model=SearchResult,
        responses=ERRORS,
        openapi_extra={"parameters": query_parameters(api_params)},
        summary="Top-k passages for a query",
    )
    async def api_search(request: Request) -> Response:
        """The web layer kept out of the search's way: the query string checked by the contract's own model,
        the search on a worker thread, the result serialised once by pydantic, straight to JSON.

        FastAPI's own handling (its dependency solver filling the parameter model, a thread for each plain
        function, validating again what the Searcher built as a SearchResult, then encoding it another way)
        cost more than a millisecond a request; the OpenAPI document still shows the same parameters and result.
        A well-formed search does not even come here (`FastSearch` answers it); a bad one does, for its error.
        """
        body, version = await search_json(request.query_params)
        return Response(body, media_type="application/json", headers={"X-Tracuu-Version": version})

    def page_response(request: Request, params: PageParams | None, error: QueryError | None = None) -> HTMLResponse:
        searcher_ = current()
        result = searcher_.search(params) if params is not None and params.q is not None and not error else None
        home = result is None and error is None
        html = render_page(
            dict(request.query_params),
            params,
            result,
            error,
            overview=index_overview(searcher_.store, str(searcher_.version_dir)) if home else None,
            fragment=request.headers.get(INSTANT_HEADER) == INSTANT_VALUE,
        )
        headers = {"Vary": INSTANT_HEADER, "X-Tracuu-Version": searcher_.version}
        return HTMLResponse(html, status_code=400 if error else 200, headers=headers)

    @app.get(
        PAGE_PATH,
        response_class=HTMLResponse,
        responses=PAGE_ERRORS,
        dependencies=[Depends(no_repeated_params)],
        summary="The web search page",
    )
    def page(
        request: Request,
        params: Annotated[page_params, Query()],
        x_requested_with: Annotated[
            str | None,
            Header(description=f"`{INSTANT_VALUE}`: only the results fragment (what goes inside <main>)"),
        ] = None,
    ) -> HTMLResponse:
        """Results as one row per article, with facets, sort and pages; without `q`, what the index holds.

        Instant search (static/search.js) sends `X-Requested-With: tracuu-instant` and puts the fragment in place.
        """
        return page_response(request, params)

    @app.get("/health", response_model=Health, responses=ERRORS, summary="Index status")
    async def health() -> Health:
        """From the version's manifest: no query to the store, no thread (load balancers ask often)."""
        s = current()
        counts = s.manifest["counts"]
        articles, passages = int(counts["articles"]), int(counts["passages"])
        return Health(
            status="ok", version=s.version, articles=articles, passages=passages, model=s.manifest["model"]["name"]
        )

    def refused(authorization: str | None) -> JSONResponse | None:
        """403 while no admin token is configured, 401 for a missing or wrong one, None to go on."""
        if not settings.admin_token:
            return _error(403, "admin endpoints are off: set TRACUU_ADMIN_TOKEN to enable them", code="admin_disabled")
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), settings.admin_token.encode()):
            message = "authorization: missing or wrong token (send 'Authorization: Bearer <token>')"
            return _error(401, message, "authorization", "invalid_admin_token")
        return None

    @app.post("/admin/reload", response_model=ReloadResult, responses=ADMIN_ERRORS, summary="Serve the newest version")
    def admin_reload(authorization: Annotated[str | None, Header()] = None) -> Any:
        """Switch to the published version now (it is also picked up within TRACUU_RELOAD_INTERVAL_S)."""
        if (refusal := refused(authorization)) is not None:
            return refusal
        live = state["live"]
        reloaded = live.reload()
        return ReloadResult(reloaded=reloaded, version=live.get().version, error=live.last_error)

    def wait_param(given: str) -> bool:
        value = given.lower()
        if value not in ("true", "false", "1", "0"):
            raise QueryError("wait", f"expected true or false, got {value[:50]!r}", "invalid_wait")
        return value in ("true", "1")

    async def acknowledged(ids: list[str], wait: bool) -> JSONResponse:
        """After a durable write: 202, or with `wait` 200 once this server searches the change (202 on timeout)."""
        publisher: Publisher = state["publisher"]
        ticket = publisher.changed()
        published = wait and await anyio.to_thread.run_sync(publisher.wait, ticket, PUBLISH_WAIT_S)
        body = ArticleChange(accepted=len(ids), ids=ids, published=published, version=current().version)
        return JSONResponse(body.model_dump(), status_code=200 if published else 202)

    @app.post(
        ARTICLES_PATH,
        response_model=ArticleChange,
        status_code=202,
        responses={**ADMIN_ERRORS, 200: {"model": ArticleChange, "description": "with `wait=true`: searchable now"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "anyOf": [
                                PostedArticle.model_json_schema(),
                                {"type": "array", "items": PostedArticle.model_json_schema()},
                            ]
                        }
                    }
                },
            }
        },
        summary="Add or replace articles (one, or a list)",
    )
    async def post_articles(
        request: Request, authorization: Annotated[str | None, Header()] = None, wait: WaitParam = "false"
    ) -> Any:
        """Written durably before the answer (2xx: never lost), searchable after the next publication (seconds).

        An article with the id of one already indexed replaces it. `?wait=true` answers once it is searchable.
        A bad article refuses the whole batch (400 naming it, e.g. `[3].title`).
        """
        if (refusal := refused(authorization)) is not None:
            return refusal
        waiting = wait_param(wait)
        try:
            records = posted_records(await request.body(), settings.max_article_bytes)
        except BodyError as exc:
            status = 413 if exc.code == "article_too_large" else 400
            return _error(status, str(exc), exc.param, exc.code)
        await anyio.to_thread.run_sync(posted.put, records)
        return await acknowledged([doc_id for doc_id, _ in records], waiting)

    @app.delete(
        ARTICLES_PATH + "/{doc_id:path}",
        response_model=ArticleChange,
        status_code=202,
        responses={**ADMIN_ERRORS, 200: {"model": ArticleChange, "description": "with `wait=true`: gone from search"}},
        summary="Delete an article",
    )
    async def delete_article(
        doc_id: str, authorization: Annotated[str | None, Header()] = None, wait: WaitParam = "false"
    ) -> Any:
        """Deleted durably before the answer; a later `tracuu index` of a source holding it leaves it out too,
        until it is posted again. 404 for an id neither indexed nor posted."""
        if (refusal := refused(authorization)) is not None:
            return refusal
        waiting = wait_param(wait)
        known = current().store.article(doc_id) is not None or posted.state(doc_id) == "put"
        if not known:
            return _error(404, f"doc_id: no article {doc_id[:200]!r} in this index", "doc_id", "article_not_found")
        await anyio.to_thread.run_sync(posted.delete, doc_id)
        return await acknowledged([doc_id], waiting)

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> FileResponse:
        return _listed_file(STATIC_DIR, STATIC_FILES, name)

    @app.get(DOCS_STATIC + "/{name}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        return _listed_file(DOCS_ASSETS, DOCS_FILES, name)

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> Response:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=app.title + " – Swagger UI",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon.png",
        )
        return with_docs_csp(page)  # the docs' own assets, and their inline script by hash

    @app.get(REDOC_PATH, include_in_schema=False)
    def redoc() -> Response:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=app.title + " – ReDoc",
            redoc_js_url=f"{DOCS_STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_STATIC}/favicon.png",
            with_google_fonts=False,
        )
        return with_docs_csp(page, inline_styles=True)

    def article_query(q: str | None) -> str | None:
        """`q` checked as a search's query (this deployment's limits); None when absent or blank."""
        return api_params.parse({"q": q}).q if q is not None and q.strip() else None

    @app.get(
        "/api/articles/{doc_id:path}",
        response_model=ArticleView,
        responses=ERRORS,
        dependencies=[Depends(no_repeated_params)],
        summary="One article, whole; with q, the passages matching it",
    )
    def api_article(
        doc_id: str,
        response: Response,
        q: Annotated[
            str | None,
            Query(
                max_length=settings.max_query_chars, description="a query: its matching passages come as `highlights`"
            ),
        ] = None,
    ) -> Any:
        searcher_ = current()
        view = article_view(searcher_, doc_id, article_query(q))
        if view is None:
            return _error(404, f"doc_id: no article {doc_id[:200]!r} in this index", "doc_id", "article_not_found")
        response.headers["X-Tracuu-Version"] = searcher_.version
        return view

    @app.get(
        "/a/{doc_id:path}",
        response_class=HTMLResponse,
        responses={"4XX": {"description": "an unknown id, or q given twice: a page saying so"}},
        summary="An article's page; with q, its matching passages highlighted",
    )
    def article_page(request: Request, doc_id: str, q: str | None = None) -> HTMLResponse:
        """A q the search would refuse is ignored: the article is still shown, unmarked."""
        searcher_ = current()
        headers = {"X-Tracuu-Version": searcher_.version}
        try:
            refuse_repeated(request.query_params)
        except QueryError as exc:
            return HTMLResponse(render_article(None, None, error=str(exc)), status_code=400, headers=headers)
        try:
            query = article_query(q)
        except QueryError:
            query = None
        view = article_view(searcher_, doc_id, query)
        html = render_article(view, query, marked_query(searcher_, query) if view and query else None)
        return HTMLResponse(html, status_code=200 if view else 404, headers=headers)

    install_metrics(app)  # outermost middleware: times every request; GET /metrics
    return app


class FastSearch:
    """Pure ASGI: a well-formed GET /api/search answered without the framework's per-request work.

    Routing, the request object, FastAPI's dependency solver (run even for a handler that takes only the
    request) and its response wrappers cost about a tenth of a millisecond of every search, on the event loop
    that all requests share. A request this does not take as it is (another path or method, a parameter the
    search refuses) goes on to the app, whose route and error handlers answer it exactly as before. The
    middleware outside (limits, security headers, CORS, metrics) sees every request either way.
    """

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        answer: Callable[[QueryParams], Awaitable[tuple[bytes, str]]],
        router: APIRouter,
        path: str,
    ) -> None:
        """Made when the app first runs (its lifespan), once every route is declared."""
        self.app = app
        self.answer = answer
        # what the metrics label a request by, as the router would have set it
        self.route = next(route for route in router.routes if getattr(route, "path", None) == path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.route.path or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        try:
            body, version = await self.answer(QueryParams(scope["query_string"]))
        except QueryError:
            await self.app(scope, receive, send)  # the route parses again, fails alike, and answers the error
            return
        scope["route"] = self.route
        headers = [
            (b"x-tracuu-version", version.encode("latin-1")),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]  # as Response(body, media_type="application/json", headers={"X-Tracuu-Version": ...}) writes them
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
