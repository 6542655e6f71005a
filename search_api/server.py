"""`tracuu serve`: uvicorn in front of the app."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from indexer.layout import current_version
from search_api.app import create_app


def serve(
    index_dir: Path, host: str = "127.0.0.1", port: int = 8000, model: str | None = None, workers: int = 1
) -> None:
    current_version(index_dir)  # fail fast, with a clear message, when there is no index
    app = create_app(index_dir, model=model)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
