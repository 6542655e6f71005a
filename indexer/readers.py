"""Read articles from files and directories: scraped `.txt` pages and JSON Lines.

Problems with a single item raise `SourceError` naming the file and line, so the caller
can decide to stop (the default for malformed input) before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from indexer.article import Article
from indexer.dates import parse_vietnamese_date
from tracuu.textnorm import nfc

SUPPORTED_SUFFIXES = (".txt", ".jsonl")
_KNOWN_FIELDS = {"id", "_id", "title", "text", "source", "url", "published", "author", "lang"}


class SourceError(ValueError):
    """A source file or line that cannot be read as an article."""


def iter_source_files(sources: list[Path]) -> Iterator[Path]:
    """Files to read, in a stable order; directories are walked for supported suffixes."""
    for source in sources:
        if not source.exists():
            raise SourceError(f"{source}: no such file or directory")
        if source.is_dir():
            files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix in SUPPORTED_SUFFIXES)
            yield from (p for p in files if not any(part.startswith(".") for part in p.parts))
        elif source.suffix in SUPPORTED_SUFFIXES:
            yield source
        else:
            raise SourceError(f"{source}: unsupported file type (expected {', '.join(SUPPORTED_SUFFIXES)})")


def read_articles(sources: list[Path]) -> Iterator[Article]:
    for path in iter_source_files(sources):
        if path.suffix == ".jsonl":
            yield from read_jsonl(path)
        else:
            yield read_scraped_file(path)


def _decode(path: Path, data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{where}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def read_scraped_file(path: Path) -> Article:
    from indexer.scraped import parse_scraped_text

    raw = _decode(path, path.read_bytes(), str(path))
    if not raw.strip():
        raise SourceError(f"{path}: empty file")
    article = parse_scraped_text(raw, doc_id=path.stem, origin=str(path))
    if not article.title or not article.text:
        raise SourceError(f"{path}: no article title or body found")
    return article


def read_jsonl(path: Path) -> Iterator[Article]:
    with path.open("rb") as handle:
        for line_no, data in enumerate(handle, start=1):
            where = f"{path}:{line_no}"
            line = _decode(path, data, where).strip()
            if line:
                yield article_from_json(line, where)


def _optional_str(record: dict[str, Any], key: str, where: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SourceError(f"{where}: field '{key}' must be a string, got {type(value).__name__}")
    value = nfc(value).strip()
    return value or None


def article_from_json(line: str, where: str) -> Article:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise SourceError(f"{where}: expected a JSON object, got {type(record).__name__}")
    doc_id = record.get("id", record.get("_id"))
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise SourceError(f"{where}: missing or empty 'id' (or '_id')")
    if "title" not in record:
        raise SourceError(f"{where}: missing required field 'title'")
    title = _optional_str(record, "title", where)
    text = _optional_str(record, "text", where)
    if text is None:
        raise SourceError(f"{where}: missing or empty required field 'text'")
    published_raw = _optional_str(record, "published", where)
    published = parse_vietnamese_date(published_raw) if published_raw else None
    if published_raw and published is None:
        raise SourceError(f"{where}: field 'published' is not a date: {published_raw!r}")
    return Article(
        id=doc_id.strip(),
        title=title or "",
        text=text,
        source=_optional_str(record, "source", where),
        url=_optional_str(record, "url", where),
        published=published,
        author=_optional_str(record, "author", where),
        lang=_optional_str(record, "lang", where),
        origin=where,
        extra={k: v for k, v in record.items() if k not in _KNOWN_FIELDS},
    )
