"""Live index updates for `tracuu serve`: a newly published version replaces the served one whole.

A watcher thread looks at `DIR/current` every `Settings.reload_interval_s` seconds (default 1;
0 turns polling off), and at once on SIGHUP or `POST /admin/reload`. When the link names a new
version it opens a complete new `Searcher` on it (FAISS index, store, BM25, tone model: all from
that one version directory) and only then swaps the reference, in one assignment.

A request takes the reference once, when it starts, and uses that one Searcher throughout, so it
answers from the old version or from the new one, never from a mix (old vectors with new
metadata). The old Searcher is never closed under a request: it is freed when the last request
holding it lets go. A version that fails to load is logged and the old one keeps serving.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from indexer.format import layout
from retrieval.searcher import ModelMismatch, Searcher
from tracuu.settings import Settings

log = logging.getLogger("tracuu.reload")


class LiveSearcher:
    """Holds the served Searcher and replaces it when DIR/current moves."""

    def __init__(self, index_dir: Path, searcher: Searcher, model: str | None, settings: Settings) -> None:
        self.index_dir = index_dir
        self.model = model
        self.settings = settings
        self.interval_s = settings.reload_interval_s
        self.last_error: str | None = None
        self._searcher = searcher
        self._reload_lock = threading.Lock()  # one load at a time; readers never take it
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self) -> Searcher:
        """The Searcher to use for one whole request."""
        return self._searcher

    def reload(self) -> bool:
        """Serve the published version if it is not the one served already; True when it swapped."""
        with self._reload_lock:
            old = self._searcher
            try:
                if layout.current_version(self.index_dir).name == old.version:
                    return False
                new = self._open(old)
            except Exception as exc:  # keep serving the old version; say why, retry on the next change
                message = f"{self.index_dir}: not switching from {old.version}: {exc}"
                if message != self.last_error:
                    log.error("%s", message)
                self.last_error = message
                return False
            if new.version == old.version:
                return False
            self._searcher = new  # the swap: one reference assignment
            self.last_error = None
            log.info("%s: now serving %s (was %s)", self.index_dir, new.version, old.version)
            return True

    def _open(self, old: Searcher) -> Searcher:
        """The new version's Searcher, warmed up before it is swapped in (no slow first query after a reload)."""
        try:
            new = Searcher(self.index_dir, embedder=old.embedder, settings=self.settings)
        except ModelMismatch:
            if self.model is not None:  # the server was told which model to use: keep to it
                raise
            new = Searcher(self.index_dir, settings=self.settings)  # the new version's own model
        new.warm_up()
        return new

    def wake(self) -> None:
        """Check for a new version now (SIGHUP, POST /admin/reload)."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="tracuu-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s if self.interval_s > 0 else None)
            self._wake.clear()
            if not self._stop.is_set():
                self.reload()
