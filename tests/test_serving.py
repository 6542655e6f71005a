"""How `tracuu serve` runs: uvicorn on httptools and uvloop, and `--workers N` holding its port alone."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from search_api.hardening import JsonErrorHTTPProtocol
from search_api.server import worker_listener, worker_socket


def test_the_http_parser_and_event_loop_are_the_fast_ones() -> None:
    """h11 (pure Python) and asyncio's own loop cost about 0.3 ms more a request (docs/performance.md)."""
    import uvloop  # noqa: F401  uvicorn's loop="auto" takes it when it is installed

    assert issubclass(JsonErrorHTTPProtocol, HttpToolsProtocol)


@pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT balancing is Linux's")
def test_each_worker_listens_on_a_socket_of_its_own_once_started() -> None:
    held = worker_socket("127.0.0.1", 0)
    try:
        port = held.getsockname()[1]
        # What a worker gets when uvicorn hands it the parent's socket: a new socket on the same port.
        make, args = held.__reduce__()
        assert make is worker_listener
        mine, sibling = make(*args), make(*args)
        try:
            assert mine.getsockname() == sibling.getsockname() == ("127.0.0.1", port)
            assert len({mine.fileno(), sibling.fileno(), held.fileno()}) == 3
            with pytest.raises(ConnectionRefusedError):  # workers still starting are handed no connection
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
            mine.listen()  # what uvicorn does once the worker's app has started
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
        finally:
            mine.close()
            sibling.close()
    finally:
        held.close()


@pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT balancing is Linux's")
def test_workers_refuse_a_port_another_server_listens_on(sample_index: Path) -> None:
    """Even one whose workers listen with SO_REUSEPORT too (another `tracuu serve --workers`): no silent sharing."""
    other = worker_listener(socket.AF_INET, ("127.0.0.1", 0))
    other.listen()
    try:
        port = other.getsockname()[1]
        cmd = [sys.executable, "-m", "tracuu_cli.main", "serve", "--index", str(sample_index), "--port", str(port)]
        done = subprocess.run([*cmd, "--workers", "2"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 3, done.stderr[-2000:]
        assert "in use" in done.stderr.lower(), done.stderr[-2000:]
    finally:
        other.close()
