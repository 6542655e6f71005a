"""Articles added and deleted over HTTP (`POST` / `DELETE /api/articles`), kept durably in `DIR/posted/`.

One file per article id holds its latest state: the record as posted, or a deletion. A file is written
to a temporary name, flushed to disk, renamed into place and the directory flushed, all before the
server answers 2xx; so an acknowledged change survives kill -9 and power loss, and a crash mid-write
leaves at worst a temporary file, which is ignored. Every publication (the server's, and `tracuu
index`) applies these files over the articles it starts from: a posted article is added or replaces the
one with its id, a deleted one is left out, until a new POST of that id. The fingerprint of the
directory is recorded in the manifest, so a server started after a crash sees what is not yet published.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.format import layout
from indexer.format.records import Article
from indexer.readers import article_from_record, prepared

_TMP_SUFFIX = ".tmp"
EMPTY_FINGERPRINT = hashlib.sha256().hexdigest()  # no posted files: what versions without a "posted" entry have


@dataclass(frozen=True)
class PostedChanges:
    """The posted state as one publication applies it."""

    articles: dict[str, Article]  # id -> article to add or replace (cleaned as `tracuu index` cleans)
    deleted: set[str]  # ids to leave out
    fingerprint: str  # changes whenever any posted file does


class PostedArticles:
    """The `posted/` directory of an index: durable writes, and the changes to apply when publishing."""

    def __init__(self, index_dir: Path) -> None:
        self.directory = index_dir / layout.POSTED

    def put(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Write each (id, record) durably; the record is a JSON Lines article already checked by the caller."""
        self._write_all((doc_id, {"op": "put", "record": record}) for doc_id, record in records)

    def delete(self, doc_id: str) -> None:
        """Record durably that `doc_id` is deleted."""
        self._write_all([(doc_id, {"op": "delete", "id": doc_id})])

    def state(self, doc_id: str) -> str | None:
        """ "put", "delete", or None when the id was never posted nor deleted over HTTP."""
        try:
            return str(json.loads(self._path(doc_id).read_text(encoding="utf-8"))["op"])
        except FileNotFoundError:
            return None

    def fingerprint(self) -> str:
        """Names, sizes and modification times of the posted files, hashed: cheap, and changes with any write."""
        digest = hashlib.sha256()
        for path in self._files():
            stat = path.stat()
            digest.update(f"{path.name}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def changes(self) -> PostedChanges:
        """Every posted file read, its article cleaned and checked as `tracuu index` would."""
        fingerprint = self.fingerprint()
        articles: dict[str, Article] = {}
        deleted: set[str] = set()
        for path in self._files():
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry["op"] == "delete":
                deleted.add(entry["id"])
            else:
                article = prepared(article_from_record(dict(entry["record"]), f"{path}"))
                articles[article.id] = article
        return PostedChanges(articles, deleted, fingerprint)

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if p.suffix == ".json")

    def _path(self, doc_id: str) -> Path:
        # Ids are any strings (slashes, dots, 10 kB): the file is named by their hash.
        return self.directory / (hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:40] + ".json")

    def _write_all(self, entries: Iterable[tuple[str, dict[str, Any]]]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        written = []
        for doc_id, entry in dict(entries).items():  # an id given twice in one batch: the last one counts
            final = self._path(doc_id)
            temporary = final.with_suffix(_TMP_SUFFIX)
            with temporary.open("w", encoding="utf-8") as handle:
                json.dump(entry, handle, ensure_ascii=False)
                handle.flush()
                os.fsync(handle.fileno())
            written.append((temporary, final))
        for temporary, final in written:
            os.replace(temporary, final)
        layout.fsync_dir(self.directory)  # the renames themselves are durable only once the directory is


def apply_posted(articles: Iterable[Article], changes: PostedChanges) -> list[Article]:
    """`articles` with the posted ones added or in place of theirs, and the deleted ones left out."""
    replaced = set(changes.articles)
    kept = [a for a in articles if a.id not in replaced and a.id not in changes.deleted]
    return kept + [a for doc_id, a in changes.articles.items() if doc_id not in changes.deleted]
