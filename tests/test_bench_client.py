"""The bench's lean HTTP client against a real HTTP/1.1 server: lengths, chunks, keep-alive and closed connections."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tracuu_cli.bench.client import KeepAliveConnection


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise
    connections: set[int] = set()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Handler.connections.add(self.client_address[1])
        body = f'{{"path": "{self.path}"}}'.encode()
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (body[:5], body[5:]):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def port() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.connections.clear()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_answers_are_read_by_length_over_one_connection(port: int) -> None:
    conn = KeepAliveConnection("127.0.0.1", port)
    assert conn.get("/a?q=1") == (200, b'{"path": "/a?q=1"}')
    assert conn.get("/missing") == (404, b'{"path": "/missing"}')
    assert conn.get("/b") == (200, b'{"path": "/b"}')
    assert len(Handler.connections) == 1  # keep-alive: every request on the first connection
    conn.close()


def test_chunked_answers_are_joined(port: int) -> None:
    conn = KeepAliveConnection("127.0.0.1", port)
    assert conn.get("/chunked") == (200, b'{"path": "/chunked"}')
    assert conn.get("/after") == (200, b'{"path": "/after"}')  # the chunked answer was read to its end
    conn.close()


def test_a_connection_the_server_closes_is_reopened(port: int) -> None:
    conn = KeepAliveConnection("127.0.0.1", port)
    assert conn.get("/close") == (200, b'{"path": "/close"}')
    assert conn.get("/next") == (200, b'{"path": "/next"}')
    assert len(Handler.connections) == 2
    conn.close()
