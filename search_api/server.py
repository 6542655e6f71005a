"""`tracuu serve`: uvicorn in front of the app."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from indexer.layout import current_version
from models.embedder import available_cpus
from search_api.app import create_app
from search_api.hardening import json_error_protocol
from search_api.metrics import enable_multiprocess

# `--workers N`: uvicorn starts each worker in a fresh interpreter, so it gets the app as an import
# string (a factory reading these) and the protocol class by name; the workers share the index's
# memory-mapped files through the page cache, and /metrics sums them (see search_api.metrics).
INDEX_ENV, MODEL_ENV = "TRACUU_SERVE_INDEX", "TRACUU_SERVE_MODEL"
JsonErrorHTTPProtocol = json_error_protocol()


def app_from_env() -> FastAPI:
    """The app factory each uvicorn worker calls."""
    return create_app(Path(os.environ[INDEX_ENV]), model=os.environ.get(MODEL_ENV) or None)


def serve(
    index_dir: Path, host: str = "127.0.0.1", port: int = 8000, model: str | None = None, workers: int = 1
) -> None:
    current_version(index_dir)  # fail fast, with a clear message, when there is no index
    if workers > 1:
        os.environ[INDEX_ENV] = str(index_dir.resolve())
        os.environ[MODEL_ENV] = model or ""
        # The workers share the CPUs: each works on its share of requests at once (tails were shortest so).
        os.environ.setdefault("TRACUU_REQUEST_THREADS", str(max(1, available_cpus() // workers)))
        enable_multiprocess()
        uvicorn.run(
            f"{__name__}:app_from_env",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            access_log=False,
            http=f"{__name__}:JsonErrorHTTPProtocol",
        )
        return
    app = create_app(index_dir, model=model)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, http=json_error_protocol())
