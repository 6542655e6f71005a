"""The records a version stores: articles as the readers produce them, and their passages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Article:
    """One article, cleaned: `text` is the body only (no title, no page clutter).

    `published` is an ISO date (YYYY-MM-DD) or None when the article states none.
    `extra` keeps unknown JSON Lines fields as metadata.
    """

    id: str
    title: str
    text: str
    source: str | None = None
    url: str | None = None
    published: str | None = None
    author: str | None = None
    lang: str | None = None
    origin: str = ""  # where it was read from: "path" or "path:line"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Passage:
    """A chunk of an article: text == article_text[start:end]."""

    chunk_no: int
    text: str
    start: int
    end: int
