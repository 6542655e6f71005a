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

import numpy as np

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

    def has_article(self, doc_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM articles WHERE doc_id=?", (doc_id,)).fetchone() is not None

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


class SegmentedStore:
    """The stores of a version's segments read as one (`Store`'s reading methods), without the articles
    deleted since each segment was written (`dead`: segment directory name -> doc_ids).

    An article is live in at most one segment: a changed article is deleted from its old segment and
    written into a new one. Passage ids never repeat across segments.
    """

    def __init__(self, segment_dirs: Sequence[Path], dead: dict[str, frozenset[str]] | None = None) -> None:
        dead = dead or {}
        self.parts: list[_Part] = []
        for directory in segment_dirs:
            store = Store(directory / STORE_FILE)
            docs = dead.get(directory.name, frozenset())
            ids = frozenset(i for d in docs for i in store.passage_ids_of(d))
            self.parts.append(_Part(store, docs, ids))

    def close(self) -> None:
        for part in self.parts:
            part.store.close()

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        wanted = [int(i) for i in ids]
        found: dict[int, PassageRow] = {}
        for part in self.parts:
            if len(found) == len(wanted):
                break
            rows = part.store.passages(i for i in wanted if i not in found and i not in part.dead_ids)
            found.update(rows)
        return found

    def copies(self, groups: Iterable[str]) -> dict[str, list[tuple[str, str | None, str | None]]]:
        """(doc_id, source, published) of every live member of the given duplicate groups, oldest first."""
        group_list = list(set(groups))
        members: dict[str, list[tuple[str, str | None, str | None]]] = {}
        for part in self.parts:
            for group, found in part.store.copies(group_list).items():
                members.setdefault(group, []).extend(m for m in found if m[0] not in part.dead)
        for found in members.values():
            found.sort(key=lambda m: (m[2] is not None, m[2] or "", m[0]))  # as SQLite orders: no date first
        return {group: found for group, found in members.items() if found}

    def located_hashes(self) -> dict[str, tuple[int, str]]:
        """Each live article's (segment position, content hash)."""
        return {
            doc_id: (position, digest)
            for position, part in enumerate(self.parts)
            for doc_id, digest in part.store.article_hashes().items()
            if doc_id not in part.dead
        }

    def article_hashes(self) -> dict[str, str]:
        return {doc_id: digest for doc_id, (_, digest) in self.located_hashes().items()}

    def _holder(self, doc_id: str) -> Store | None:
        for part in self.parts:
            if doc_id not in part.dead and part.store.has_article(doc_id):
                return part.store
        return None

    def passage_ids_of(self, doc_id: str) -> list[int]:
        store = self._holder(doc_id)
        return store.passage_ids_of(doc_id) if store else []

    def article(self, doc_id: str) -> dict[str, Any] | None:
        store = self._holder(doc_id)
        return store.article(doc_id) if store else None

    def articles(self) -> Iterator[Article]:
        for part in self.parts:
            yield from (a for a in part.store.articles() if a.id not in part.dead)

    def passages_of(self, doc_id: str) -> list[tuple[int, int, str, int, int]]:
        store = self._holder(doc_id)
        return store.passages_of(doc_id) if store else []

    def filtered_ids(
        self,
        source: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        lang: str | None = None,
    ) -> list[int]:
        ids: list[int] = []
        for part in self.parts:
            found = part.store.filtered_ids(source, date_from, date_to, lang)
            ids.extend(i for i in found if i not in part.dead_ids) if part.dead_ids else ids.extend(found)
        return sorted(ids)

    def deleted_ids(self) -> np.ndarray:
        """Every deleted passage id (sorted): never searched, never counted."""
        return np.asarray(sorted(i for part in self.parts for i in part.dead_ids), dtype=np.int64)

    def live_articles(self) -> Iterator[tuple[str, str | None, str | None, str]]:
        """(doc_id, source, published, dup_group) of every live article."""
        for part in self.parts:
            # in id order per segment (the primary key's index): sorting all segments' rows is then a merge of runs
            rows = part.store.conn.execute("SELECT doc_id, source, published, dup_group FROM articles ORDER BY doc_id")
            yield from (row for row in rows if row[0] not in part.dead)

    def live_passages(self) -> Iterator[tuple[int, str]]:
        """(passage id, doc_id) of every live passage."""
        for part in self.parts:
            rows = part.store.conn.execute("SELECT id, doc_id FROM passages ORDER BY id")
            yield from (row for row in rows if row[1] not in part.dead)

    def sources(self) -> list[tuple[str, int]]:
        """(source, articles) most first."""
        counts: dict[str, int] = {}
        for _, source, _, _ in self.live_articles():
            if source is not None:
                counts[source] = counts.get(source, 0) + 1
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))

    def counts(self) -> tuple[int, int]:
        totals = [part.store.counts() for part in self.parts]
        articles = sum(a for a, _ in totals) - sum(len(part.dead) for part in self.parts)
        return articles, sum(p for _, p in totals) - sum(len(part.dead_ids) for part in self.parts)

    def overview(self) -> tuple[set[str], str | None, str | None, int]:
        """Distinct sources, the first and last publication dates, and undated articles, over live articles."""
        sources: set[str] = set()
        dates: list[str] = []
        undated = 0
        for part in self.parts:
            marks = ",".join("?" * len(part.dead))
            live = f"WHERE doc_id NOT IN ({marks})" if part.dead else ""
            args = sorted(part.dead)
            sources.update(r[0] for r in part.store.conn.execute(f"SELECT DISTINCT source FROM articles {live}", args))
            first, last, missing = part.store.conn.execute(
                f"SELECT MIN(published), MAX(published), COALESCE(SUM(published IS NULL), 0) FROM articles {live}", args
            ).fetchone()
            dates.extend(d for d in (first, last) if d)
            undated += missing
        sources.discard(None)  # type: ignore[arg-type]
        return sources, min(dates, default=None), max(dates, default=None), undated


@dataclass(frozen=True)
class _Part:
    store: Store
    dead: frozenset[str]  # its articles deleted since it was written
    dead_ids: frozenset[int]  # their passage ids
