"""`tracuu serve`: uvicorn in front of the app."""

from __future__ import annotations

import functools
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from indexer.format.layout import current_version
from search_api.app import create_app
from search_api.hardening import JsonErrorHTTPProtocol
from search_api.metrics import enable_multiprocess
from tracuu.settings import Settings
from tracuu.system import available_cpus


def serve(
    index_dir: Path,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    model: str | None = None,
    workers: int = 1,
) -> None:
    """Serve `index_dir` until interrupted; with `workers` > 1, that many processes share one socket.

    Each worker gets the app factory with its arguments (settings included) pickled by uvicorn's own
    supervisor, so nothing travels through environment variables; the workers share the index's
    memory-mapped files through the page cache, and /metrics sums them (see search_api.metrics).
    """
    current_version(index_dir)  # fail fast, with a clear message, when there is no index
    if workers > 1:
        # The workers share the CPUs: each works on its share of requests at once (tails were shortest so), and
        # embeds with its share of the threads, unless told otherwise (N workers x all CPUs oversubscribed them).
        share = max(1, available_cpus() // workers)
        unset = {name: share for name in ("request_threads", "threads") if getattr(settings, name) == 0}
        settings = settings.model_copy(update=unset)
    factory = functools.partial(create_app, index_dir.resolve(), model=model, settings=settings)
    config = uvicorn.Config(
        factory,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        http=JsonErrorHTTPProtocol,
    )
    if workers > 1:
        enable_multiprocess()  # prometheus_client's own shared directory, set before the workers start
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = uvicorn.Server(config)
    server.run()
    if not server.started:  # the port was taken, or the app failed to start: uvicorn has said why
        raise SystemExit(3)
