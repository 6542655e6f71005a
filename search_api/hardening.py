"""Request limits and a precise OpenAPI schema for the HTTP API.

`RequestLimits` runs before routing and answers with a JSON error naming the problem:
414 when the request line (path + query string) is over `Settings.max_request_bytes`, 413 when
the body is, 400 when a query parameter is not valid UTF-8 once percent-decoded. `check_params`
refuses unknown and repeated parameters of `/api/search`. `precise_openapi` publishes the
constraints that `search_api.params` enforces (types, ranges, enums, formats, required `q`), so
clients and fuzzers can check every response against the schema.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.datastructures import QueryParams
from starlette.responses import Response

from search_api.params import _LANG, MODES, QueryError, make_request
from tracuu.settings import SETTINGS, Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _BodyTooLarge(Exception):
    pass


def _undecodable(query_string: bytes) -> str | None:
    """The name of the first query parameter that is not UTF-8 after percent-decoding, if any."""
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")[:40] or "?"
    return None


def _largest_param(query_string: bytes) -> str | None:
    pairs = [p.partition(b"=") for p in query_string.split(b"&") if p]
    if not pairs:
        return None
    name, _, _ = max(pairs, key=lambda p: len(p[2]))
    return unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")[:40]


class RequestLimits:
    """Pure ASGI middleware: oversized or undecodable requests never reach an endpoint."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        line = len(scope.get("raw_path") or scope["path"].encode()) + len(query) + 1
        if line > self.max_bytes:
            param = _largest_param(query)
            prefix = f"{param}: " if param else ""
            message = (
                f"{prefix}the request line is {line} bytes long; the limit is {self.max_bytes} "
                "(TRACUU_MAX_REQUEST_BYTES)"
            )
            await _send_error(send, 414, message, param)
            return
        bad = _undecodable(query)
        if bad is not None:
            await _send_error(send, 400, f"{bad}: not valid UTF-8 once percent-decoded", bad)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"").strip()
        if length and (not length.isdigit() or int(length) > self.max_bytes):
            await _send_error(send, 413, f"the request body is over the limit of {self.max_bytes} bytes", None)
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_error(send, 413, f"the request body is over the limit of {self.max_bytes} bytes", None)


async def _send_error(send: Send, status: int, message: str, param: str | None) -> None:
    body = json.dumps({"error": message, "param": param}, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    from search_api.app import SECURITY_HEADERS  # the same headers as every other response

    headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def json_error_protocol() -> type:
    """uvicorn's HTTP protocol, answering requests it cannot parse with a JSON 400 and our headers.

    The parser refuses a request line longer than about 64 KiB, bytes that are not ASCII in the
    URL, and malformed request lines or headers, before any middleware sees them; its own answer
    is a plain-text 400 without security headers.
    """
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from search_api.app import SECURITY_HEADERS

    def send_400_response(self: Any, msg: str) -> None:
        body = json.dumps(
            {
                "error": "invalid HTTP request: a malformed request line or header, a request line over the "
                "server's limit, or bytes in the URL that are not percent-encoded",
                "param": None,
            }
        ).encode()
        head = [b"HTTP/1.1 400 Bad Request", b"content-type: application/json", b"connection: close"]
        head.append(b"content-length: " + str(len(body)).encode())
        head += [f"{k}: {v}".encode() for k, v in SECURITY_HEADERS.items()]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()

    return type("JsonErrorHTTPProtocol", (AutoHTTPProtocol,), {"send_400_response": send_400_response})


DOCS_CDN = "https://cdn.jsdelivr.net"


async def with_docs_csp(response: Response) -> Response:
    """/docs (Swagger UI) with a CSP of its own: scripts and styles from its CDN, and its one inline
    script allowed by hash, never inline scripts in general."""
    body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in re.findall(rb"<script>(.*?)</script>", body, re.S)
    ]
    csp = (
        f"default-src 'none'; script-src {DOCS_CDN} {' '.join(hashes)}; style-src {DOCS_CDN}; "
        "img-src https://fastapi.tiangolo.com data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    docs = Response(body, status_code=response.status_code, headers=headers)
    docs.headers["Content-Security-Policy"] = csp
    return docs


SEARCH_PARAMS = ("q", "k", "source", "from", "to", "lang", "mode", "exact")


def check_params(params: QueryParams, allowed: Iterable[str] = SEARCH_PARAMS, unknown_ok: bool = False) -> None:
    """Refuse parameters the endpoint does not know (unless `unknown_ok`), and any given more than once."""
    known = set(allowed)
    for name in params:
        if name not in known and not unknown_ok:
            shown = name[:40]
            raise QueryError(shown, f"unknown parameter {shown!r}; the parameters are {', '.join(sorted(known))}")
    for name in known:
        if len(params.getlist(name)) > 1:
            raise QueryError(name, f"given {len(params.getlist(name))} times; give it once")
    if "exact" in known and params.get("exact", "false") not in ("true", "false"):
        raise QueryError("exact", f"expected true or false, got {params['exact'][:40]!r}")


def check_page_params(
    q: str | None, k: str | None, source: str | None, date_from: str | None, to: str | None, lang: str | None,
    mode: str | None,
) -> None:
    """The page's parameters when it runs no search (no query): checked as for a search all the same."""
    if q and len(q) > SETTINGS.max_query_chars:
        raise QueryError("q", f"the query is {len(q)} characters long; the limit is {SETTINGS.max_query_chars}")
    make_request("-", k, source, date_from, to, lang, mode)


def _or_empty(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}], "description": "empty: no filter"}


def _param_schemas(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        "q": {"type": "string", "minLength": 1, "maxLength": settings.max_query_chars},
        "k": {"type": "integer", "minimum": 1, "maximum": settings.max_k, "default": settings.default_k},
        "source": {"type": "string", "maxLength": settings.max_query_chars},
        "from": _or_empty({"type": "string", "format": "date"}),
        "to": _or_empty({"type": "string", "format": "date"}),
        "lang": _or_empty({"type": "string", "pattern": f"^{_LANG.pattern}$"}),
        "mode": {"type": "string", "enum": list(MODES), "default": MODES[0]},
        "exact": {"type": "boolean", "default": False},
    }


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def precise_openapi(app: FastAPI, settings: Settings) -> None:
    """Replace `app.openapi` with one whose search parameters carry the enforced constraints."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, description=app.description, routes=app.routes
        )
        schemas = _param_schemas(settings)
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                for param in operation.get("parameters", []):
                    if param.get("in") == "query" and param["name"] in schemas:
                        param["schema"] = dict(schemas[param["name"]])
                        if path == "/api/search" and param["name"] == "q":
                            param["required"] = True
                        elif param["name"] == "q":  # the page: no query shows the search box
                            param["schema"].pop("minLength")
                    elif param.get("in") == "header":  # a header is a string or absent, never null
                        param["schema"] = {"type": "string"}
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses["413"] = _error_response("the request body is over TRACUU_MAX_REQUEST_BYTES")
                responses["414"] = _error_response("the request line is over TRACUU_MAX_REQUEST_BYTES")
                bad = _error_response("a bad parameter (the body names it)")
                if path == "/":
                    bad["content"]["text/html"] = {"schema": {"type": "string"}}
                responses.setdefault("400", bad)
                responses["400"]["content"] = {**bad["content"], **responses["400"].get("content", {})}
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
