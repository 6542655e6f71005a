"""Passage text and article metadata in SQLite, beside the FAISS index.

FAISS holds vectors under int64 ids; this store maps each id back to its passage and article.
Lookups by a list of ids are O(k) through the primary key.

The articles table holds each article's whole cleaned text (the article view shows it); stores written
before that column existed are still read, the text then rebuilt from the passages' offsets.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.format.records import Article, Passage

STORE_FILE = "store.sqlite"

_SCHEMA = """
CREATE TABLE articles (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT,
    url TEXT,
    published TEXT,
    author TEXT,
    lang TEXT,
    origin TEXT,
    content_hash TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    dup_group TEXT NOT NULL,  -- canonical article id of its near-duplicate group (itself if none)
    text TEXT NOT NULL  -- the cleaned body; passages are text[start:end] (absent in older stores)
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES articles(doc_id),
    chunk_no INTEGER NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX passages_doc ON passages(doc_id);
CREATE INDEX articles_published ON articles(published);
CREATE INDEX articles_source ON articles(source);
CREATE INDEX articles_dup_group ON articles(dup_group);
"""


@dataclass(frozen=True)
class PassageRow:
    id: int
    doc_id: str
    chunk_no: int
    text: str
    start: int
    end: int
    title: str
    source: str | None
    url: str | None
    published: str | None
    author: str | None
    lang: str | None
    dup_group: str


class StoreWriter:
    """Writes a fresh store file inside a version directory being built."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)

    def add_article(self, article: Article, content_hash: str, dup_group: str) -> None:
        self.conn.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                article.id,
                article.title,
                article.source,
                article.url,
                article.published,
                article.author,
                article.lang,
                article.origin,
                content_hash,
                json.dumps(article.extra, ensure_ascii=False, default=str),
                dup_group,
                article.text,
            ),
        )

    def add_passages(self, doc_id: str, ids: Sequence[int], passages: Sequence[Passage]) -> None:
        self.conn.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?)",
            [(int(i), doc_id, p.chunk_no, p.text, p.start, p.end) for i, p in zip(ids, passages, strict=True)],
        )

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()


class Store:
    """Read-only access to a published store; safe to share across threads."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)

    def close(self) -> None:
        self.conn.close()

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        id_list = [int(i) for i in ids]
        if not id_list:
            return {}
        marks = ",".join("?" * len(id_list))
        rows = self.conn.execute(
            "SELECT p.id, p.doc_id, p.chunk_no, p.text, p.start, p.end, a.title, a.source, a.url,"
            " a.published, a.author, a.lang, a.dup_group FROM passages p JOIN articles a USING (doc_id)"
            f" WHERE p.id IN ({marks})",
            id_list,
        ).fetchall()
        return {row[0]: PassageRow(*row) for row in rows}

    def copies(self, groups: Iterable[str]) -> dict[str, list[tuple[str, str | None, str | None]]]:
        """(doc_id, source, published) of every member of the given duplicate groups."""
        group_list = list(set(groups))
        if not group_list:
            return {}
        marks = ",".join("?" * len(group_list))
        members: dict[str, list[tuple[str, str | None, str | None]]] = {}
        for group, doc_id, source, published in self.conn.execute(
            f"SELECT dup_group, doc_id, source, published FROM articles WHERE dup_group IN ({marks})"
            " ORDER BY published, doc_id",
            group_list,
        ):
            members.setdefault(group, []).append((doc_id, source, published))
        return members

    def article_hashes(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT doc_id, content_hash FROM articles"))

    def passage_ids_of(self, doc_id: str) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM passages WHERE doc_id=? ORDER BY chunk_no", (doc_id,))]

    def article(self, doc_id: str) -> dict[str, Any] | None:
        """Every column of the article, `text` included (rebuilt from the passages where the store lacks it)."""
        cur = self.conn.execute("SELECT * FROM articles WHERE doc_id=?", (doc_id,))
        row = cur.fetchone()
        if row is None:
            return None
        article = dict(zip([c[0] for c in cur.description], row, strict=True))
        if not article.get("text"):  # no column (older store), or a writer that left it empty (bench)
            article["text"] = text_from_passages(
                [(start, end, text) for _, _, text, start, end in self.passages_of(doc_id)]
            )
        return article

    def articles(self) -> Iterator[Article]:
        """Every stored article as the readers made it (cleaned text, metadata), in store order.

        What a publication of posted articles starts from (indexer.build.publish_posted).
        """
        cursor = self.conn.execute("SELECT * FROM articles ORDER BY rowid")  # one query, not one per article
        names = [c[0] for c in cursor.description]
        for values in cursor.fetchall():
            row: dict[str, Any] | None = dict(zip(names, values, strict=True))
            if not row.get("text"):  # an older store: `article` rebuilds the text from the passages
                row = self.article(row["doc_id"])
            assert row is not None
            yield Article(
                id=row["doc_id"],
                title=row["title"],
                text=row["text"],
                source=row["source"],
                url=row["url"],
                published=row["published"],
                author=row["author"],
                lang=row["lang"],
                origin=row["origin"] or "",
                extra=json.loads(row["extra"] or "{}"),
            )

    def passages_of(self, doc_id: str) -> list[tuple[int, int, str, int, int]]:
        return self.conn.execute(
            "SELECT id, chunk_no, text, start, end FROM passages WHERE doc_id=? ORDER BY chunk_no", (doc_id,)
        ).fetchall()

    def filtered_ids(
        self,
        source: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        lang: str | None = None,
    ) -> list[int]:
        """Passage ids whose article matches every given filter (None means no filter)."""
        conditions = (
            ("a.source = ? COLLATE NOCASE", source),
            ("a.published >= ?", date_from),
            ("a.published <= ?", date_to),
            ("a.lang = ?", lang),
        )
        given = [(clause, value) for clause, value in conditions if value]
        where = " AND ".join(clause for clause, _ in given) or "1"
        sql = f"SELECT p.id FROM passages p JOIN articles a USING (doc_id) WHERE {where}"
        return [r[0] for r in self.conn.execute(sql, [value for _, value in given])]

    def sources(self) -> list[tuple[str, int]]:
        return self.conn.execute(
            "SELECT source, COUNT(*) FROM articles WHERE source IS NOT NULL GROUP BY source ORDER BY COUNT(*) DESC"
        ).fetchall()

    def counts(self) -> tuple[int, int]:
        articles = self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        passages = self.conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        return articles, passages


def text_from_passages(passages: Iterable[tuple[int, int, str]]) -> str:
    """An article's text from its (start, end, text) passages, for stores that do not hold it.

    A gap between passages is whitespace the chunker trimmed between sentences; it is filled with as
    many characters as it is long, so offsets stay exact: spaces when the next passage starts in lower
    case (a sentence cut in two), else line breaks (the likelier boundary, and a paragraph break at worst).
    Whitespace after the last passage is not restored.
    """
    text = ""
    for start, end, passage in sorted(passages):
        if end <= len(text):
            continue
        if start > len(text):
            filler = " " if passage[:1].islower() else "\n"
            text += filler * (start - len(text))
        text = text[:start] + passage
    return text
