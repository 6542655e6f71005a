"""The bench's HTTP client: one keep-alive HTTP/1.1 connection over a plain socket, answers read by their length.

A load test should cost the machine as little as it can, or it measures itself: `http.client` parses every
answer's headers with the email package, 0.19 ms of the client's CPU per /health round trip and 0.42 ms per search
answer, against 0.04 and 0.12 ms here (same server, interleaved; docs/performance.md), and the bench's 16 client
threads share the two cores with the server they measure. wrk, oha and hey read answers this way too.
"""

from __future__ import annotations

import socket

_HEAD_END = b"\r\n\r\n"
_READ = 1 << 16


class BadAnswer(OSError):
    """The server closed the connection or answered something that is not HTTP/1.1."""


class KeepAliveConnection:
    """GET requests over one connection, reopened when the server closed it."""

    def __init__(self, host: str, port: int, timeout: float = 120.0) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self.host_header = f"Host: {host}:{port}\r\n".encode()
        self.sock: socket.socket | None = None
        self.buffer = b""

    def get(self, path: str) -> tuple[int, bytes]:
        """(status, body) of GET `path`."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        self.sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.host_header + b"\r\n")
        head = self._read_until(_HEAD_END)
        status_line, *lines = head.split(b"\r\n")
        if not status_line.startswith(b"HTTP/1.1 "):
            raise BadAnswer(f"not an HTTP/1.1 answer: {status_line[:60]!r}")
        headers = {}
        for line in lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get(b"transfer-encoding") == b"chunked":
            body = self._read_chunked()
        else:
            body = self._read_exactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection") == b"close":
            self.close()
        return int(status_line[9:12]), body

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _fill(self) -> None:
        assert self.sock is not None
        data = self.sock.recv(_READ)
        if not data:
            self.close()
            raise BadAnswer("the server closed the connection")
        self.buffer += data

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            self._fill()
        found, self.buffer = self.buffer[:end], self.buffer[end + len(marker) :]
        return found

    def _read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        found, self.buffer = self.buffer[:size], self.buffer[size:]
        return found

    def _read_chunked(self) -> bytes:
        chunks = []
        while size := int(self._read_until(b"\r\n").split(b";")[0], 16):
            chunks.append(self._read_exactly(size))
            self._read_until(b"\r\n")
        self._read_until(b"\r\n")  # no trailers: the empty line after the last chunk
        return b"".join(chunks)
