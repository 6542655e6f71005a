"""A server process works on at most TRACUU_REQUEST_THREADS requests at once; the others wait their turn.

A real uvicorn server on a free port, a real index; the Searcher counts how many searches run at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from retrieval.searcher import Searcher
from search_api.app import create_app
from tests.conftest import free_port
from tracuu.settings import Settings


class CountingSearcher(Searcher):
    """A Searcher that records the most searches it ever ran at the same time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0

    def search(self, request: Any) -> dict[str, Any]:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.05)  # hold the slot long enough for the other clients' requests to arrive
            return super().search(request)
        finally:
            with self._lock:
                self.running -= 1


@contextmanager
def serving(searcher: Searcher, settings: Settings) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(searcher.index_dir, searcher=searcher, settings=settings),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.mark.parametrize("threads", [1, 3])
def test_requests_beyond_the_limit_wait_their_turn(sample_index, embedder, threads: int) -> None:
    searcher = CountingSearcher(sample_index, embedder=embedder)
    with serving(searcher, Settings(request_threads=threads)) as url:

        def ask(n: int) -> int:
            return httpx.get(f"{url}/api/search", params={"q": f"đảng viên {n}"}, timeout=60).status_code

        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(ask, range(24)))
    assert statuses == [200] * 24
    assert searcher.most == threads  # never more at once, and the clients kept every slot busy
