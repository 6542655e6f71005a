"""`tracuu serve`: uvicorn in front of the app."""

from __future__ import annotations

import functools
import logging
import socket
import sys
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from indexer.format.layout import current_version
from search_api.app import create_app
from search_api.hardening import JsonErrorHTTPProtocol
from search_api.metrics import enable_multiprocess
from tracuu.settings import Settings
from tracuu.system import available_cpus


class WorkerSocket(socket.socket):
    """The parent's hold on the port (bound, never listening) that each worker, once unpickled in it, replaces
    by a socket of its own on the same address (SO_REUSEPORT), which uvicorn listens on once the worker's app
    has started: the kernel then spreads new connections over the workers that are up.

    uvicorn's default, one listening socket shared by every worker, let whichever worker woke first accept every
    connection waiting (asyncio accepts up to the backlog at once): 16 clients connecting together often all
    went to one worker while the other idled, and `--workers 2` served fewer queries than one worker.
    """

    def __reduce__(self) -> tuple[object, tuple[int, tuple[str, int]]]:
        return (worker_listener, (int(self.family), self.getsockname()[:2]))


def reuse_port(sock: socket.socket) -> socket.socket:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def worker_listener(family: int, address: tuple[str, int]) -> socket.socket:
    """A worker's own socket on `address`, beside its siblings' (SO_REUSEPORT); not listening yet: uvicorn
    listens once the app has started, so that a worker still loading (or restarting) is handed no connection."""
    sock = reuse_port(socket.socket(family, socket.SOCK_STREAM))
    sock.bind(address)
    return sock


def worker_socket(host: str, port: int) -> socket.socket:
    """The port held for the workers (see WorkerSocket); raises OSError when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:  # without SO_REUSEPORT: taken even by another
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # server's workers, as uvicorn would say
        probe.bind((host, port))
        port = probe.getsockname()[1]
    sock = reuse_port(WorkerSocket(family, socket.SOCK_STREAM))
    sock.bind((host, port))
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", host, sock.getsockname()[1]
    )
    return sock


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
        if sys.platform == "linux":  # each worker its own listening socket, the kernel balancing (WorkerSocket)
            try:
                sock = worker_socket(host, port)
            except OSError as exc:
                logging.getLogger("uvicorn.error").error(exc)
                raise SystemExit(3) from None
        else:
            sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()
        return
    server = uvicorn.Server(config)
    server.run()
    if not server.started:  # the port was taken, or the app failed to start: uvicorn has said why
        raise SystemExit(3)
