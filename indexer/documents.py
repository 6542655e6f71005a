"""Read HTML pages, PDF files and Word (.docx) documents as articles.

Ids: for a file found by walking a source directory, the file's path relative to that directory,
without its extension, with "/" between folders ("tin-tuc/2023/ha-noi" for
`crawl/tin-tuc/2023/ha-noi.html` read from `crawl/`); for a file named on its own, its file name
without extension. Ids therefore stay the same as long as the crawl's layout does, and two pages
of a `wget --mirror` tree with one file name in different folders do not clash.

- HTML: trafilatura extracts the main text (navigation, footers, sidebars dropped) and the
  metadata: title, date (from the markup only), author, site name (as `source`), canonical URL.
  When it finds no date, the date comes from tracuu's own rules (`indexer.dates`): date meta tags,
  then a dateline at the top of the body; a date quoted in a body sentence is never taken.
- PDF: pypdf reads the text layer; pages are joined with blank lines and
  `extra["pages"] = [[start_offset, page_no], ...]` records where each page starts in `text`.
  Title, author and date come from the document properties, else from the first lines. A PDF
  without any text (a scan) is refused with a SourceError saying it needs OCR.
- DOCX: python-docx reads paragraphs (headings included) and tables (cells joined by " | ",
  rows by newlines) in document order; title, author and date from the core properties, else
  the first heading (or paragraph) is the title.

The text never repeats the title: when the title is taken from the first line of the content,
that line is left out of `text`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from indexer.dates import dateline_date, parse_vietnamese_date
from indexer.format.records import Article
from indexer.source_warnings import SourceError
from tracuu.settings import Settings
from tracuu.text.normalise import nfc

MAX_ARTICLE_BYTES: int = Settings.model_fields["max_article_bytes"].default  # the setting's default, not its env

HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
DOCX_SUFFIXES = (".docx",)
SUFFIXES = HTML_SUFFIXES + PDF_SUFFIXES + DOCX_SUFFIXES
MAX_FILE_FACTOR = 20  # a page or document file may be this many times the text limit (markup, images, fonts)
_TITLE_MAX_CHARS = 300
_DATE_META = re.compile(
    r"<meta\b[^>]*?(?:name|property|itemprop)\s*=\s*[\"']?"
    r"(?:article:published_time|og:published_time|datePublished|pubdate|publishdate|date|dc\.date|"
    r"dcterms\.created|created)[\"']?[^>]*>",
    re.IGNORECASE,
)
_CONTENT_ATTR = re.compile(r"content\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
# Titles that tools write into document properties instead of the document's title.
_TOOL_TITLE = re.compile(
    r"^(?:microsoft\s+\w+\s+-\s|untitled\b|document\d*$|slide\s*\d+$)|\.(?:docx?|pdf|odt|rtf|txt)$", re.IGNORECASE
)


def document_id(path: Path, base: Path | None) -> str:
    """The article id of `path`: relative to `base` (a source directory) without extension, else its stem."""
    if base is None:
        return path.stem
    return path.relative_to(base).with_suffix("").as_posix()


def read_document(path: Path, base: Path | None = None, max_article_bytes: int = MAX_ARTICLE_BYTES) -> Article:
    """One article from an HTML, PDF or DOCX file; SourceError when it holds none."""
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size == 0:
        raise SourceError(f"{path}: empty file")
    if size > max_article_bytes * MAX_FILE_FACTOR:
        raise SourceError(
            f"{path}: {size / 1e6:.1f} MB is over the {max_article_bytes * MAX_FILE_FACTOR / 1e6:.1f} MB limit "
            f"for one {suffix[1:].upper()} file ({MAX_FILE_FACTOR} x TRACUU_MAX_ARTICLE_BYTES)"
        )
    doc_id = document_id(path, base)
    if suffix in HTML_SUFFIXES:
        article = read_html(path, doc_id)
    elif suffix in PDF_SUFFIXES:
        article = read_pdf(path, doc_id)
    elif suffix in DOCX_SUFFIXES:
        article = read_docx(path, doc_id)
    else:
        raise SourceError(f"{path}: unsupported file type (expected {', '.join(SUFFIXES)})")
    text_bytes = len(article.text.encode("utf-8"))
    if text_bytes > max_article_bytes:
        raise SourceError(
            f"{path}: {text_bytes / 1e6:.1f} MB of text is over the {max_article_bytes / 1e6:.1f} MB limit "
            "for one article (TRACUU_MAX_ARTICLE_BYTES)"
        )
    return article


def _clean_lines(text: str) -> list[str]:
    """NFC, one space between words, no blank lines: each line is one paragraph."""
    lines = (_SPACES.sub(" ", line).strip() for line in nfc(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return [line for line in lines if line]


def _same(a: str, b: str) -> bool:
    return a.casefold().strip(" .:-") == b.casefold().strip(" .:-")


def _iso(value: Any) -> str | None:
    """An ISO date from a datetime/date or a string in any format `indexer.dates` reads."""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d") if 1900 <= value.year <= 2100 else None
    if isinstance(value, str) and value.strip():
        return parse_vietnamese_date(value)
    return None


def _property_title(value: Any) -> str:
    """A title from document properties, or "" when it is missing or a tool's placeholder ("Microsoft Word - x.doc")."""
    title = _optional(value) or ""
    return "" if _TOOL_TITLE.search(title) or len(title) > _TITLE_MAX_CHARS else title


def _optional(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = _SPACES.sub(" ", nfc(value)).strip()
    return value or None


# --- HTML -------------------------------------------------------------------------------------


def read_html(path: Path, doc_id: str) -> Article:
    import trafilatura

    data = path.read_bytes()
    try:
        doc = trafilatura.bare_extraction(
            data,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            # Dates from the page's markup only (meta tags, <time>, the URL): htmldate's free-text search would take
            # a date quoted in the body ("Nghị quyết ... ngày 11/11/2021"), which tracuu's own rules refuse.
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # a parser failure on one page is that page's problem
        raise SourceError(f"{path}: cannot be read as HTML ({type(exc).__name__}: {exc})") from None
    if doc is None or not (doc.text or "").strip():
        raise SourceError(f"{path}: no article text found in the HTML page")
    lines = _clean_lines(doc.text)
    title = _optional(doc.title) or ""
    if lines and title and _same(lines[0], title):
        lines = lines[1:]
    elif not title and lines and len(lines[0]) <= _TITLE_MAX_CHARS and len(lines) > 1:
        title, lines = lines[0], lines[1:]
    published = _iso(doc.date)
    if published is None:
        published = _meta_date(data)
    # A dateline at the top of the body is metadata, not text; it also gives the date when nothing else did.
    while lines and dateline_date(lines[0]):
        published = published or dateline_date(lines[0])
        lines = lines[1:]
    text = "\n".join(lines)
    if not title or not text:  # as for scraped .txt pages: a page without both is not an article
        raise SourceError(f"{path}: no article text (title and body) found in the HTML page")
    extra: dict[str, Any] = {"format": "html"}
    if doc.hostname:
        extra["site"] = doc.hostname
    return Article(
        id=doc_id,
        title=title,
        text=text,
        source=_optional(doc.sitename) or _optional(doc.hostname),
        url=_optional(doc.url),
        published=published,
        author=_optional(doc.author),
        lang=None,
        origin=str(path),
        extra=extra,
    )


def _meta_date(data: bytes) -> str | None:
    head = data[:65536].decode("utf-8", errors="replace")
    for tag in _DATE_META.finditer(head):
        content = _CONTENT_ATTR.search(tag.group(0))
        if content and (iso := parse_vietnamese_date(content.group(1))):
            return iso
    return None


# --- PDF --------------------------------------------------------------------------------------


def read_pdf(path: Path, doc_id: str) -> Article:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise SourceError(f"{path}: the PDF is encrypted with a password")
        pages = [_clean_lines(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except SourceError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"{path}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    if not any(pages):
        raise SourceError(
            f"{path}: the PDF has no text layer ({len(pages)} page(s), a scan?); it needs OCR before it can be indexed"
        )
    title = _property_title(_info(info, "title"))
    author = _optional(_info(info, "author"))
    published = _iso(_info(info, "creation_date"))
    first = next(i for i, lines in enumerate(pages) if lines)
    if not title and len(pages[first][0]) <= _TITLE_MAX_CHARS:
        title = pages[first][0]
    if title and _same(pages[first][0], title):
        pages[first] = pages[first][1:]
    if published is None:  # the date an official document prints near its top ("Hà Nội, ngày 12 tháng 3 năm 2022")
        published = parse_vietnamese_date("\n".join(pages[first][:8]))
    parts: list[str] = []
    starts: list[list[int]] = []
    offset = 0
    for page_no, lines in enumerate(pages, start=1):
        if not lines:
            continue
        if parts:
            offset += 2  # the blank line between pages
        starts.append([offset, page_no])
        page_text = "\n".join(lines)
        parts.append(page_text)
        offset += len(page_text)
    text = "\n\n".join(parts)
    if not text:
        raise SourceError(f"{path}: no text in the PDF besides its title")
    return Article(
        id=doc_id,
        title=title,
        text=text,
        author=author,
        published=published,
        origin=str(path),
        extra={"format": "pdf", "pages": starts, "page_count": len(pages)},
    )


def _info(info: Any, name: str) -> Any:
    if info is None:
        return None
    try:
        return getattr(info, name)
    except Exception:  # a malformed property (a bad date string) is just absent
        return None


# --- DOCX -------------------------------------------------------------------------------------


def read_docx(path: Path, doc_id: str) -> Article:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise SourceError(f"{path}: not a readable Word .docx file ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # zip and XML errors from a damaged file
        raise SourceError(f"{path}: not a readable Word .docx file ({type(exc).__name__}: {exc})") from None
    blocks: list[tuple[str, bool]] = []  # (text, is_heading)
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells = []
                for cell in row.cells:
                    value = " ".join(_clean_lines(cell.text))
                    if not cells or value != cells[-1]:  # a merged cell repeats in each grid column
                        cells.append(value)
                if any(cells):
                    rows.append(" | ".join(cells))
            if rows:
                blocks.append(("\n".join(rows), False))
        else:
            value = " ".join(_clean_lines(item.text))
            if value:
                style = (item.style.name if item.style is not None else "") or ""
                blocks.append((value, style.startswith(("Heading", "Title"))))
    if not blocks:
        raise SourceError(f"{path}: no text in the Word document")
    props = document.core_properties
    title = _property_title(props.title)
    if not title:
        heading = next((i for i, (_, is_heading) in enumerate(blocks) if is_heading), None)
        index = heading if heading is not None and heading < 3 else 0
        if len(blocks[index][0]) <= _TITLE_MAX_CHARS and "\n" not in blocks[index][0]:
            title = blocks[index][0]
            del blocks[index]
    elif _same(blocks[0][0], title):
        del blocks[0]
    published = _iso(props.created) or _iso(props.modified)
    text = "\n".join(value for value, _ in blocks)
    if not text:
        raise SourceError(f"{path}: no text in the Word document besides its title")
    return Article(
        id=doc_id,
        title=title,
        text=text,
        author=_optional(props.author),
        published=published,
        origin=str(path),
        extra={"format": "docx"},
    )
