"""Which source files changed since the version in service: a cheap check before any file is read.

`tracuu index` records, for every source file it read, its size, its modification time and the ids of the
articles it gave (`DIR/v-*/sources.json`). The next run reads only the files whose size or modification
time differ (or that are new); the articles of the others stay as they are in the index, without being
read, parsed or cleaned again. A file that gave warnings (bad items) is not recorded, so it is read, and
warned about, every time; a run with other reading options (`--raw`, the article size limit, another
tracuu release) reads everything, and so does a run with another model, backend recipe or chunking, which
embeds every article anew (`indexer.build._known_sources`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tracuu

SOURCES_FILE = "sources.json"


def file_stat(path: Path) -> list[int]:
    """What the change check compares: size and modification time (ns)."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def file_key(path: Path) -> str:
    return os.path.realpath(path)


def reading_options(raw: bool, max_article_bytes: int) -> dict[str, Any]:
    """What else decides the articles a file gives: a run with other options reads every file again."""
    return {"raw": raw, "max_article_bytes": max_article_bytes, "tracuu": tracuu.__version__}


@dataclass
class SourceFiles:
    """The source files a version holds the articles of: {file: {"stat": [size, mtime_ns], "ids": [...]}}."""

    options: dict[str, Any] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, version_dir: Path | None) -> SourceFiles:
        path = None if version_dir is None else version_dir / SOURCES_FILE
        if path is None or not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data.get("options", {}), data.get("files", {}))

    def save(self, version_dir: Path) -> None:
        data = {"options": self.options, "files": self.files}
        (version_dir / SOURCES_FILE).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    def unchanged_ids(self, path: Path, stat: list[int], options: dict[str, Any]) -> list[str] | None:
        """The ids the file gave when it was last read, if it has not changed since (else None: read it)."""
        known = self.files.get(file_key(path))
        if options != self.options or known is None or known["stat"] != stat:
            return None
        return list(known["ids"])
