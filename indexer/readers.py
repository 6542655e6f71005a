"""Read articles from files and directories: scraped `.txt` pages, JSON Lines, and HTML, PDF and
Word (.docx) documents (indexer.documents).

Problems with a single item (a file, or one JSON line) raise `SourceError` naming the file and
line. `read_articles` either lets them stop the run or, given a `skip` callback, reports each
one to it and goes on without that item (see indexer.source_warnings). Text files must be UTF-8
(a UTF-8 or UTF-16 byte-order mark is honoured); binary files, other encodings and items over
`max_article_bytes` (`Settings.max_article_bytes`, passed down by build_index) are refused, never
guessed at.
"""

from __future__ import annotations

import codecs
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from indexer.cleaning import clean_body
from indexer.dates import parse_vietnamese_date
from indexer.documents import MAX_ARTICLE_BYTES, read_document
from indexer.format.records import Article
from indexer.scraped import parse_scraped_text
from indexer.source_warnings import SourceError
from tracuu.text.normalise import nfc

DOCUMENT_SUFFIXES = (".html", ".htm", ".pdf", ".docx")  # read by indexer.documents
SUPPORTED_SUFFIXES = (".txt", ".jsonl", *DOCUMENT_SUFFIXES)
_FORMATS = ", ".join(SUPPORTED_SUFFIXES[:-1]) + " or " + SUPPORTED_SUFFIXES[-1]  # ".txt, ... or .docx"
_KNOWN_FIELDS = {"id", "_id", "title", "text", "source", "url", "published", "author", "lang"}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SNIFF_BYTES = 8192


Skip = Callable[[SourceError], None]


def iter_source_files(sources: list[Path]) -> Iterator[Path]:
    """Files to read, in a stable order; directories are walked for supported suffixes (any letter case)."""
    for source in sources:
        if not source.exists():
            raise SourceError(f"{source}: no such file or directory")
        if source.is_dir():
            files = sorted(p for p in source.rglob("*") if p.is_file())
            hidden = {p for p in files if any(part.startswith(".") for part in p.relative_to(source).parts)}
            other = [p for p in files if p.suffix.lower() not in SUPPORTED_SUFFIXES and p not in hidden]
            if hidden or other:  # not articles, but said out loud: nothing is dropped silently
                example = (other or sorted(hidden))[0].relative_to(source)
                print(
                    f"note: {source}: ignored {len(other)} file(s) that are not {_FORMATS} "
                    f"and {len(hidden)} hidden file(s) (e.g. {example})",
                    file=sys.stderr,
                )
            yield from (p for p in files if p.suffix.lower() in SUPPORTED_SUFFIXES and p not in hidden)
        elif source.suffix.lower() in SUPPORTED_SUFFIXES:
            yield source
        else:
            raise SourceError(f"{source}: unsupported file type (expected {', '.join(SUPPORTED_SUFFIXES)})")


def read_articles(
    sources: list[Path],
    skip: Skip | None = None,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    raw: bool = False,
    wanted: Callable[[Path], bool] | None = None,
) -> Iterator[Article]:
    """Articles from `sources`; a bad item raises SourceError, or, with `skip`, goes to it and is left out.

    A missing source or an unsupported file named on the command line always raises. `wanted`: asked before
    each file is read; False leaves it unread (indexer.sources: it has not changed since the last run).
    """
    for source in sources:
        yield from _read_source(source, skip, max_article_bytes, raw, wanted)


def _read_source(
    source: Path,
    skip: Skip | None,
    max_article_bytes: int,
    raw: bool = False,
    wanted: Callable[[Path], bool] | None = None,
) -> Iterator[Article]:
    base = source if source.is_dir() else None  # documents' ids are their paths relative to it
    for path in iter_source_files([source]):
        if wanted is not None and not wanted(path):
            continue
        try:
            if path.suffix.lower() == ".jsonl":
                yield from read_jsonl(path, skip, max_article_bytes, raw=raw)
            elif path.suffix.lower() in DOCUMENT_SUFFIXES:
                yield read_document(path, base, max_article_bytes)
            else:
                yield read_scraped_file(path, max_article_bytes)
        except SourceError as exc:
            if skip is None:
                raise
            skip(exc)
        except OSError as exc:  # unreadable file (permissions, a vanished file, EIO)
            if skip is None:
                raise
            skip(SourceError(f"{path}: cannot be read ({exc.strerror or exc})"))


def _size_error(where: str, size: int, limit: int) -> SourceError:
    return SourceError(
        f"{where}: {size / 1e6:.1f} MB is over the {limit / 1e6:.1f} MB limit for one article "
        "(TRACUU_MAX_ARTICLE_BYTES)"
    )


def _check_file(path: Path, head: bytes) -> None:
    """File-level refusals, from the first bytes: empty and binary files."""
    if not head.strip():
        raise SourceError(f"{path}: empty file")
    if not head.startswith(_UTF16_BOMS) and b"\x00" in head:
        raise SourceError(f"{path}: binary file (NUL bytes), not text")


def _decode(path: Path, data: bytes, where: str) -> str:
    try:
        if data.startswith(_UTF16_BOMS):
            return data.decode("utf-16")
        if b"\x00" in data:
            raise SourceError(f"{where}: binary data (NUL bytes), not text")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{where}: not valid UTF-8 ({exc.reason} at byte {exc.start}); convert it to UTF-8 first "
            "(from Windows-1258: iconv -f CP1258 -t UTF-8)"
        ) from None


def read_scraped_file(path: Path, max_article_bytes: int = MAX_ARTICLE_BYTES) -> Article:
    size = path.stat().st_size
    if size > max_article_bytes:
        raise _size_error(str(path), size, max_article_bytes)
    data = path.read_bytes()
    _check_file(path, data[:_SNIFF_BYTES])
    raw = _decode(path, data, str(path))
    if not raw.strip():
        raise SourceError(f"{path}: empty file")
    article = parse_scraped_text(raw, doc_id=path.stem, origin=str(path))
    if not article.title or not article.text:
        raise SourceError(f"{path}: no article title or body found")
    return article


def _jsonl_lines(path: Path) -> Iterator[bytes | str]:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        _check_file(path, head)
        handle.seek(0)
        if head.startswith(_UTF16_BOMS):  # decoded whole: its line breaks are two bytes wide
            yield from _decode(path, handle.read(), str(path)).split("\n")
        else:
            yield from handle


def read_jsonl(
    path: Path, skip: Skip | None = None, max_article_bytes: int = MAX_ARTICLE_BYTES, raw: bool = False
) -> Iterator[Article]:
    """One article per non-blank line; with `skip`, a bad line is reported and left out.

    Each `text` is cleaned by `indexer.cleaning.clean_body` (captions, credits, boilerplate, edge
    bylines) unless `raw` is true or the line itself has `"raw": true`.
    """
    for line_no, data in enumerate(_jsonl_lines(path), start=1):
        where = f"{path}:{line_no}"
        try:
            if len(data) > max_article_bytes:
                raise _size_error(where, len(data), max_article_bytes)
            line = (data if isinstance(data, str) else _decode(path, data, where)).strip()
            if line:
                yield prepared(article_from_json(line, where), raw)
        except SourceError as exc:
            if skip is None:
                raise
            skip(exc)


def prepared(article: Article, raw: bool = False) -> Article:
    """The article as indexed: its text cleaned unless `raw` or its own `"raw": true` says it is clean already."""
    return article if article.extra.pop("raw", False) is True or raw else _cleaned(article)


def _cleaned(article: Article) -> Article:
    """The article with its text cleaned; a found byline/credit only fills empty fields."""
    result = clean_body(article.text, article.title)
    if result.text:  # never leave an article empty because everything looked like clutter
        article.text = result.text
    if article.author is None and result.author:
        article.author = result.author
    if result.source_credit:
        article.extra.setdefault("source_credit", result.source_credit)
        if article.source is None:
            article.source = result.source_credit
    return article


def _optional_str(record: dict[str, Any], key: str, where: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SourceError(f"{where}: field '{key}' must be a string, got {type(value).__name__}", key)
    value = nfc(value).strip()
    return value or None


def article_from_json(line: str, where: str) -> Article:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    return article_from_record(record, where)


def article_from_record(record: Any, where: str) -> Article:
    """An article from one decoded JSON Lines record; SourceError names `where` and the field at fault."""
    if not isinstance(record, dict):
        raise SourceError(f"{where}: expected a JSON object, got {type(record).__name__}")
    doc_id = record.get("id", record.get("_id"))
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise SourceError(f"{where}: missing or empty 'id' (or '_id')", "id")
    if "title" not in record:
        raise SourceError(f"{where}: missing required field 'title'", "title")
    title = _optional_str(record, "title", where)
    text = _optional_str(record, "text", where)
    if text is None:
        raise SourceError(f"{where}: missing or empty required field 'text'", "text")
    published_raw = _optional_str(record, "published", where)
    published = parse_vietnamese_date(published_raw) if published_raw else None
    if published_raw and published is None:
        raise SourceError(f"{where}: field 'published' is not a date: {published_raw!r}", "published")
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
