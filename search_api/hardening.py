"""What guards the HTTP API around the endpoints: security headers on every response, request limits,
one JSON error shape (`{"error", "param", "code"}`) even for requests the HTTP parser refuses, a CSP of
its own for the docs pages, and refusing a search parameter given twice.

`RequestLimits` runs before routing: 414 when the request line (path + query string) is over
`Settings.max_request_bytes`, 413 when the body is, 400 when a query parameter is not valid UTF-8 once
percent-decoded. The parameters themselves are checked by retrieval.contract.SearchParams, which is also
what OpenAPI publishes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Request
from starlette.datastructures import QueryParams
from starlette.responses import Response
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from retrieval.contract import QueryError, SearchParams

SECURITY_HEADERS = {
    # The page's one script is /static/search.js (instant search, fetching the page's own fragments): nothing inline.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

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

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        max_bytes: int,
        large_bodies: dict[str, tuple[int, str]] | None = None,
    ) -> None:
        """`large_bodies`: path -> (body limit, its setting) for the endpoints that take documents."""
        self.app = app
        self.max_bytes = max_bytes
        self.large_bodies = large_bodies or {}

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
            await _send_error(send, 414, message, param, "request_line_too_long")
            return
        bad = _undecodable(query)
        if bad is not None:
            await _send_error(send, 400, f"{bad}: not valid UTF-8 once percent-decoded", bad, "invalid_encoding")
            return
        limit, setting = self.large_bodies.get(scope["path"], (self.max_bytes, "TRACUU_MAX_REQUEST_BYTES"))
        too_large = f"the request body is over the limit of {limit} bytes ({setting})"
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"").strip()
        if length and (not length.isdigit() or int(length) > limit):
            await _send_error(send, 413, too_large, None, "payload_too_large")
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
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
                await _send_error(send, 413, too_large, None, "payload_too_large")


def error_body(message: str, param: str | None, code: str) -> dict[str, str | None]:
    """The one error shape of every endpoint."""
    return {"error": message, "param": param, "code": code}


async def _send_error(send: Send, status: int, message: str, param: str | None, code: str) -> None:
    body = json.dumps(error_body(message, param, code), ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class JsonErrorHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol, answering requests it cannot parse with a JSON 400 and our headers.

    The parser refuses a request line longer than about 64 KiB, bytes that are not ASCII in the
    URL, and malformed request lines or headers, before any middleware sees them; its own answer
    is a plain-text 400 without security headers. A module-level class, so `--workers` can pass it on.
    """

    def send_400_response(self, msg: str) -> None:
        message = (
            "invalid HTTP request: a malformed request line or header, a request line over the "
            "server's limit, or bytes in the URL that are not percent-encoded"
        )
        body = json.dumps(error_body(message, None, "invalid_http_request")).encode()
        head = [b"HTTP/1.1 400 Bad Request", b"content-type: application/json", b"connection: close"]
        head.append(b"content-length: " + str(len(body)).encode())
        head += [f"{k}: {v}".encode() for k, v in SECURITY_HEADERS.items()]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()


class SecurityHeaders:
    """Pure ASGI middleware: SECURITY_HEADERS on every response that does not set its own.

    Pure ASGI rather than `@app.middleware("http")`, which wraps every response body in a stream between
    two tasks: that cost a search about as much as the rest of the web layer.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.headers if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def with_docs_csp(response: Response, inline_styles: bool = False) -> Response:
    """/docs (Swagger UI) and /redoc with a CSP of their own: scripts and styles from this server only (the
    assets come from the fastapi-offline package), and their one inline script allowed by hash, never inline
    scripts in general. ReDoc writes its styles into <style> elements as it renders (`inline_styles`)."""
    body = bytes(response.body)
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in re.findall(rb"<script>(.*?)</script>", body, re.S)
    ]
    scripts = " ".join(["'self'", *hashes])
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    csp = (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; img-src 'self' data:; font-src 'self' data:; "
        "worker-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["Content-Security-Policy"] = csp
    return response


SEARCH_PARAM_NAMES = tuple(field.alias or name for name, field in SearchParams.model_fields.items())


def refuse_repeated(query: QueryParams) -> None:
    """A search parameter given more than once is an error, never silently the last one."""
    for name in SEARCH_PARAM_NAMES:
        given = len(query.getlist(name))
        if given > 1:
            raise QueryError(name, f"given {given} times; give it once", "repeated_search_param")


async def no_repeated_params(request: Request) -> None:
    """`refuse_repeated` as a dependency, run on the event loop: FastAPI sends a plain function to a thread."""
    refuse_repeated(request.query_params)
