"""Articles over HTTP: the checks of a `POST /api/articles` body, and the publisher that makes changes searchable.

A handler checks the body, writes the change durably (indexer.posted) and only then answers; the
publisher thread then publishes a new version with every change acknowledged so far
(indexer.build.publish_posted) and switches this process to it. Changes that arrive while a
publication runs go out together in the next one, so a fast stream of posts costs a few publications,
not one each. A `tracuu index` run on the same directory holds the writer lock meanwhile: the
publisher waits for it and then publishes what that run did not already include.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from indexer.build import publish_posted
from indexer.format.layout import IndexBusy
from indexer.readers import article_from_record
from indexer.source_warnings import SourceError
from search_api.reload import LiveSearcher

log = logging.getLogger("tracuu.ingest")

BUSY_RETRY_S = 0.5  # how often the publisher tries again while another writer holds the index


class BodyError(ValueError):
    """A request body that is not one article or a list of articles; `param` names the part at fault."""

    def __init__(self, message: str, param: str | None, code: str) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


def posted_records(body: bytes, max_article_bytes: int) -> list[tuple[str, dict[str, Any]]]:
    """(id, record) for each article of a POST body, each checked as a JSON Lines line is; BodyError if any is bad.

    One bad article refuses the whole batch, so a client never has to find out which half was written.
    """
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BodyError(f"body: not valid JSON ({exc})", "body", "invalid_json") from None
    batch = isinstance(data, list)
    records = data if batch else [data]
    if not records:
        raise BodyError("body: an empty list; send one article or a list of them", "body", "invalid_article")
    checked = []
    for i, record in enumerate(records):
        where = f"[{i}]" if batch else "body"
        size = len(json.dumps(record, ensure_ascii=False).encode("utf-8"))
        if size > max_article_bytes:
            message = f"{where}: {size} bytes is over the limit of {max_article_bytes} for one article"
            raise BodyError(message + " (TRACUU_MAX_ARTICLE_BYTES)", where, "article_too_large")
        try:
            article = article_from_record(record, where)
        except SourceError as exc:
            param = f"[{i}].{exc.field}" if batch and exc.field else exc.field or where
            raise BodyError(str(exc), param, "invalid_article") from None
        checked.append((article.id, record))
    return checked


class Publisher:
    """Publishes acknowledged changes in the background; `wait` lets a request wait until they are served."""

    def __init__(self, index_dir: Path, live: LiveSearcher) -> None:
        self.index_dir = index_dir
        self.live = live
        self.last_error: str | None = None
        self._changed = threading.Condition()
        self._acknowledged = 0  # tickets: one per acknowledged write, in order
        self._served = 0  # every change up to this ticket is in the version this process serves
        self._attempted = 0  # publications tried up to this ticket (a failed one waits for the next change)
        self._stopping = False
        self._thread: threading.Thread | None = None

    def changed(self) -> int:
        """Call after a change is written durably; returns its ticket for `wait`."""
        with self._changed:
            self._acknowledged += 1
            self._changed.notify_all()
            return self._acknowledged

    def wait(self, ticket: int, timeout_s: float) -> bool:
        """True once the change with `ticket` is searchable here; False when `timeout_s` passed first."""
        with self._changed:
            self._changed.wait_for(lambda: self._attempted >= ticket or self._stopping, timeout_s)
            return self._served >= ticket

    def catch_up(self) -> None:
        """Publish changes acknowledged before this process started (a crash between the 2xx and the publication)."""
        self._publish_when_free()
        self.live.reload()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tracuu-publish", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._acknowledged > self._attempted or self._stopping)
                if self._stopping:
                    return
                target = self._acknowledged  # everything written before this ticket is on disk already
            served = False
            try:
                self._publish_when_free()
                self.live.reload()
                if self.live.last_error:  # published, but this process could not open it: not searchable here
                    raise RuntimeError(self.live.last_error)
                self.last_error, served = None, True
            except Exception as exc:  # the changes stay on disk: the next change or a restart publishes them
                self.last_error = f"{self.index_dir}: publishing posted articles failed: {exc}"
                log.exception("%s", self.last_error)
            with self._changed:
                self._attempted = target
                if served:
                    self._served = target
                self._changed.notify_all()

    def _publish_when_free(self) -> None:
        """publish_posted, waiting while another writer (`tracuu index`, another worker) holds the index."""
        while True:
            try:
                summary = publish_posted(
                    self.index_dir, self.live.get().embedder, max_segments=self.live.settings.max_segments
                )
            except IndexBusy:
                with self._changed:
                    if self._changed.wait_for(lambda: self._stopping, BUSY_RETRY_S):
                        return
                continue
            if summary is not None:
                log.info("%s: published posted articles: %s", self.index_dir, summary.line())
            return
