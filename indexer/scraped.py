"""Turn one scraped news page (plain text, page clutter included) into a clean `Article`.

The steps follow the page layout of Vietnamese provincial portals and newspapers:

1. Normalise: NFC, "\\n" line ends, no BOM, no-break and zero-width spaces, one space
   between words, blank lines dropped (each remaining line is one paragraph).
2. Cut the trailing clutter block: from the first clutter line (related list, counters,
   poll, "Go top", ...) after which no prose paragraph follows, everything goes.
   Clutter lines elsewhere are dropped one by one; repeated lines (photo captions printed
   twice) are kept once.
3. Title: the first line left (the "Chi tiết tin - <site>" header is clutter).
4. Dateline: a line that is nothing but a date (see `indexer.dates.dateline_date`).
5. Credits at the edges of the body: "Nguồn: ...; Tác giả: ...", "Bài, ảnh: ...",
   "Theo ...", or a bare personal-name byline as the last line.
6. Agency prefix of the lead paragraph: "QTO - ", "(QBĐT) - ".

Source precedence: an explicit credit ("Nguồn:", "Theo <publication>", "Name (TTXVN)"),
then the agency prefix, then the portal named in the page header. Known agency
abbreviations map to the newspaper's own name as it credits itself in "Nguồn:" lines
(QTO, Quảng Trị Online, is "Báo Quảng Trị"), so one newspaper has one source value. The
portal that republished an article is kept in `extra["site"]`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from indexer.clutter import is_clutter, site_from_header, starts_clutter_block
from indexer.dates import dateline_date
from indexer.format.records import Article

# Agency abbreviations that lead the first paragraph, mapped to the publication's name.
AGENCY_NAMES = {
    "QTO": "Báo Quảng Trị",  # Quảng Trị Online, baoquangtri.vn
    "QBĐT": "Báo Quảng Bình",  # Quảng Bình Điện tử, baoquangbinh.vn
    "TTXVN": "Thông tấn xã Việt Nam",
    "VOV": "Đài Tiếng nói Việt Nam",
    "ĐCSVN": "Báo điện tử Đảng Cộng sản Việt Nam",
    "HNM": "Báo Hà Nội Mới",
}

_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"))
_SPACES = re.compile(r"\s+")
_SENTENCE_END = tuple(".!?…\"”'»)")
_PROSE_MIN_WORDS, _PROSE_LONG_WORDS = 8, 20
_TITLE_MAX_WORDS = 40
_HEADER_SCAN_LINES = 5
_HEAD_CREDIT_LINES, _TAIL_CREDIT_LINES = 3, 3
_CREDIT_MAX_WORDS = 12

_CREDIT_LABEL = re.compile(
    r"^(?P<label>tác\s*giả|người\s*viết|(?:nhóm\s*)?phóng\s*viên|thực\s*hiện"
    r"|bài(?:\s*viết)?(?:\s*(?:,|&|\+|-|–|và)?\s*ảnh)?|tin(?:\s*(?:,|&|\+|-|–|và)?\s*ảnh)?"
    r"|nguồn(?:\s*tin)?|ảnh|video|đồ\s*họa)\s*:\s*(?P<value>.+)$",
    re.IGNORECASE,
)
_SOURCE_LABEL = re.compile(r"^nguồn", re.IGNORECASE)
_PHOTO_LABEL = re.compile(r"^(?:ảnh|video|đồ\s*họa)$", re.IGNORECASE)
_CREDIT_SEPARATOR = re.compile(r"\s*[;|]\s*")
_THEO = re.compile(r"^Theo\s+(?P<value>[^,;]+?)\s*\.?$")
_PUBLICATION = re.compile(r"^(?:báo|tạp\s*chí|đài|cổng|trang|thông\s*tấn|kênh)\b|\.(?:vn|com|net|org)\b", re.IGNORECASE)
_TRAILING_PAREN = re.compile(r"^(?P<name>.+?)\s*\((?P<paren>[^()]{2,40})\)$")
_NAME_SEPARATOR = re.compile(r"\s*(?:[-–,&]|\bvà\b)\s*")
_NAME_TOKEN = re.compile(r"(?P<initials>(?:[^\W\d_]\.)*)(?P<word>[^\W\d_]*)")
_AGENCY_PREFIX = re.compile(r"^(?:\((?P<paren>[^()\s]{2,30})\)|(?P<bare>[^\W\d_]{2,6}))\s*[-–—]\s*(?P<rest>\S.*)$")


@dataclass
class _Credits:
    """Metadata found while peeling lines off the body; the first value found wins."""

    source: str | None = None
    author: str | None = None
    published: str | None = None

    def offer(self, *, source: str | None = None, author: str | None = None, published: str | None = None) -> None:
        self.source = self.source or _clean_value(source)
        self.author = self.author or _clean_value(author)
        self.published = self.published or published


def parse_scraped_text(raw: str, doc_id: str, origin: str = "") -> Article:
    """A clean `Article` from one scraped page; `lang` is left for the language detector."""
    lines = _normalise_lines(raw)
    site = _site(lines)
    lines = _drop_clutter(lines[: _trailing_clutter_start(lines)])
    credits = _Credits()
    title, body = _split_title(lines, credits)
    body = [line for line in body if line.casefold() != title.casefold()]
    body = _take_head_credits(body, credits)
    body = _take_tail_credits(body, credits)
    body = _take_datelines(body, credits)
    agency, body = _take_agency_prefix(body)
    return Article(
        id=doc_id,
        title=title,
        text="\n".join(body),
        source=credits.source or agency or site,
        published=credits.published,
        author=credits.author,
        origin=origin,
        extra={"site": site} if site else {},
    )


def _normalise_lines(raw: str) -> list[str]:
    """Non-empty, NFC, single-spaced lines: scraped pages mix NBSP, CRLF, BOM and NFD."""
    text = unicodedata.normalize("NFC", raw).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return [line for line in lines if line]


def _site(lines: list[str]) -> str | None:
    """The portal named by a "Chi tiết tin - <site>" header near the top."""
    return next((s for s in map(site_from_header, lines[:_HEADER_SCAN_LINES]) if s), None)


def _is_prose(line: str) -> bool:
    """A paragraph of running text; page widgets are short and unpunctuated."""
    if is_clutter(line):
        return False
    words = len(line.split())
    return words >= _PROSE_LONG_WORDS or (words >= _PROSE_MIN_WORDS and line.endswith(_SENTENCE_END))


def _trailing_clutter_start(lines: list[str]) -> int:
    """Index of the first clutter line after which no prose follows (len(lines) if none).

    Everything from there on is page furniture, including lines no pattern knows (widget
    titles, unpunctuated related titles), while clutter boxes in the middle of an article
    never swallow the paragraphs after them.
    """
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        if _is_prose(lines[index]):
            break
        if starts_clutter_block(lines[index]):
            start = index
    return start


def _drop_clutter(lines: list[str]) -> list[str]:
    """Lines without clutter, each distinct line once (captions are often printed twice)."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        if is_clutter(line) or line in seen:
            continue
        seen.add(line)
        kept.append(line)
    return kept


def _split_title(lines: list[str], credits: _Credits) -> tuple[str, list[str]]:
    """The headline and the lines after it; a dateline printed above the title is taken too."""
    for index, line in enumerate(lines):
        date = dateline_date(line)
        if date:
            credits.offer(published=date)
            continue
        rest = lines[index + 1 :]
        if len(line.split()) > _TITLE_MAX_WORDS:  # no headline scraped: keep the paragraph as text
            return _headline_from(line), [line, *rest]
        return line, rest
    return "", []


def _headline_from(paragraph: str) -> str:
    """A short title from a paragraph's first sentence, for pages scraped without a headline."""
    first = re.split(r"(?<=[.!?…])\s", paragraph, maxsplit=1)[0]
    words = first.split()
    return first if len(words) <= _TITLE_MAX_WORDS // 2 else " ".join(words[: _TITLE_MAX_WORDS // 2]) + "…"


def _take_head_credits(body: list[str], credits: _Credits) -> list[str]:
    """Drop datelines and labelled credits ("Tác giả: ...") printed right under the title."""
    taken = 0
    while body and taken < _HEAD_CREDIT_LINES and _absorb(body[0], credits, bare_names=False):
        body, taken = body[1:], taken + 1
    return body


def _take_tail_credits(body: list[str], credits: _Credits) -> list[str]:
    """Drop the byline, source and photo credit lines that close the article."""
    taken = 0
    while body and taken < _TAIL_CREDIT_LINES and _absorb(body[-1], credits, bare_names=True):
        body, taken = body[:-1], taken + 1
    return body


def _take_datelines(body: list[str], credits: _Credits) -> list[str]:
    """Remove lines that are only a date ("Cập nhật: ..."); the first one dates the article."""
    kept = []
    for line in body:
        date = dateline_date(line)
        if date:
            credits.offer(published=date)
        else:
            kept.append(line)
    return kept


def _absorb(line: str, credits: _Credits, *, bare_names: bool) -> bool:
    """Record the metadata of a credit or date line; False when the line is body text."""
    date = dateline_date(line)
    if date:
        credits.offer(published=date)
        return True
    labelled = _labelled_credits(line)
    if labelled is not None:
        for label, value in labelled:
            if _SOURCE_LABEL.match(label):
                credits.offer(source=value)
            elif not _PHOTO_LABEL.match(label):  # a photo credit names no author
                credits.offer(author=value)
        return True
    if not bare_names:
        return False
    theo = _THEO.match(line)
    if theo and _is_credit_value(theo["value"]):
        return _absorb_theo(theo["value"], credits)
    byline = _byline(line)
    if byline is None:
        return False
    credits.offer(author=byline[0], source=byline[1])
    return True


def _labelled_credits(line: str) -> list[tuple[str, str]] | None:
    """("label", "value") pairs of "Nguồn: X; Tác giả: Y"; None unless every part is a credit."""
    pairs = []
    for part in _CREDIT_SEPARATOR.split(line):
        match = _CREDIT_LABEL.match(part)
        if not match or not _is_credit_value(match["value"]):
            return None
        pairs.append((match["label"], match["value"]))
    return pairs


def _is_credit_value(value: str) -> bool:
    """Short enough to be a name, not a sentence that happens to start with a label."""
    return 0 < len(value.split()) <= _CREDIT_MAX_WORDS


def _absorb_theo(value: str, credits: _Credits) -> bool:
    """ "Theo X": X is the source when it names a publication, else the author."""
    if _is_publication(value):
        credits.offer(source=_expand_agency(value))
        return True
    byline = _byline(value)
    if byline is None:
        return False
    credits.offer(author=byline[0], source=byline[1])
    return True


def _is_publication(value: str) -> bool:
    """A newspaper, portal, domain or agency abbreviation rather than a person."""
    return bool(_PUBLICATION.search(value)) or value.isupper() or value in AGENCY_NAMES


def _byline(line: str) -> tuple[str, str | None] | None:
    """(author, source) of a byline such as "Hiền Chi" or "Hoàng Nam (TTXVN)", else None.

    A byline is 2-4 capitalised words per name (several names joined by "-", ",", "và"),
    with no final period: body sentences and crossheads have lower-case words.
    """
    source = None
    match = _TRAILING_PAREN.match(line)
    if match:
        line, source = match["name"], _expand_agency(match["paren"])
    names = [name for name in _NAME_SEPARATOR.split(line) if name]
    if not names or not all(_is_person_name(name) for name in names):
        return None
    return line, source


def _is_person_name(name: str) -> bool:
    """2-4 words, each capitalised ("Ngọc", "Lan") or initials ("T.", "N.V.Hà")."""
    words = name.split()
    return 2 <= len(words) <= 4 and all(_is_name_word(word) for word in words)


def _is_name_word(word: str) -> bool:
    match = _NAME_TOKEN.fullmatch(word)
    if not match or not word[0].isupper():
        return False
    initials, rest = match["initials"], match["word"]
    return initials.isupper() if initials else rest[1:] == rest[1:].lower()


def _take_agency_prefix(body: list[str]) -> tuple[str | None, list[str]]:
    """Strip "QTO - " or "(QBĐT) - " from the lead paragraph and name the agency.

    A bare prefix counts only for known abbreviations; in parentheses any capitalised name
    counts ("(TTXVN) - ", "(Chinhphu.vn) - ").
    """
    if not body:
        return None, body
    match = _AGENCY_PREFIX.match(body[0])
    if not match:
        return None, body
    name = match["paren"] or match["bare"]
    known = name in AGENCY_NAMES
    if not (known or (match["paren"] and name[0].isupper())):
        return None, body
    return _expand_agency(name), [match["rest"], *body[1:]]


def _expand_agency(name: str) -> str:
    return AGENCY_NAMES.get(name.strip(), name.strip())


def _clean_value(value: str | None) -> str | None:
    """A credit value without surrounding spaces and end punctuation; None when empty."""
    if value is None:
        return None
    return value.strip().rstrip(".,;:").strip() or None
