"""Every passage's article, and every article's copy group, source and date, as arrays.

Grouping hits by article, counting facets and sorting by date look at every matching passage: at a
million passages, asking SQLite for each would cost more than the search. The catalog is read once per
index version (a version never changes) and answers those questions with numpy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from indexer.format.store import SegmentedStore

UNDATED = 0  # date_key of an article that states no date
# Passage ids map straight to their article (a table as long as the largest id) while the ids span at most this
# many times their number: ids are dense, gaps are only deleted passages (facets over 45,000 matches at 1M
# passages took 4 ms with binary searches).
DIRECT_SPAN = 4


@dataclass(frozen=True)
class Catalog:
    passage_ids: np.ndarray  # sorted passage ids
    article_of: np.ndarray  # per passage (in passage_ids order): article number
    doc_ids: list[str]  # per article number
    group_of: np.ndarray  # per article: copy group number (articles syndicated from one original share it)
    canonical: np.ndarray  # per group: the article shown for it (the original when it is indexed)
    source_of: np.ndarray  # per article: source number, -1 for none
    sources: list[str]
    date_key: np.ndarray  # per article: yyyymmdd, UNDATED for none
    # per passage id (0 to the largest): its article number, -1 for no live passage; None when ids are sparse
    article_by_id: np.ndarray | None = None

    @classmethod
    def load(cls, store: SegmentedStore) -> Catalog:
        rows = sorted(store.live_articles())
        doc_ids, source_names, dates, groups = [], [], [], []
        for doc_id, source, published, group in rows:
            doc_ids.append(doc_id)
            source_names.append(source)
            dates.append(int(published.replace("-", "")) if published else UNDATED)
            groups.append(group)
        number = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        sources = sorted({s for s in source_names if s})
        source_number = {s: i for i, s in enumerate(sources)}
        group_names = sorted(set(groups))
        group_number = {g: i for i, g in enumerate(group_names)}
        group_of = np.asarray([group_number[g] for g in groups], dtype=np.int32)
        canonical = np.full(len(group_names), -1, dtype=np.int32)
        for article, group in enumerate(groups):
            if doc_ids[article] == group or canonical[group_number[group]] < 0:
                canonical[group_number[group]] = article
        passages = sorted(store.live_passages())
        passage_ids = np.fromiter((p for p, _ in passages), dtype=np.int64, count=len(passages))
        article_of = np.fromiter((number[d] for _, d in passages), dtype=np.int32, count=len(passages))
        article_by_id = None
        if len(passage_ids) and passage_ids[-1] < DIRECT_SPAN * len(passage_ids):
            article_by_id = np.full(int(passage_ids[-1]) + 1, -1, dtype=np.int32)
            article_by_id[passage_ids] = article_of
        return cls(
            passage_ids=passage_ids,
            article_of=article_of,
            doc_ids=doc_ids,
            group_of=group_of,
            canonical=canonical,
            source_of=np.asarray([source_number.get(s, -1) for s in source_names], dtype=np.int32),
            sources=sources,
            date_key=np.asarray(dates, dtype=np.int32),
            article_by_id=article_by_id,
        )

    def articles_of(self, ids: np.ndarray | Iterable[int]) -> np.ndarray:
        """Article number of each passage id (ids must be indexed)."""
        ids = np.asarray(ids, dtype=np.int64)
        if self.article_by_id is not None:  # one read per id instead of a binary search over every passage
            return self.article_by_id[ids]
        return self.article_of[np.searchsorted(self.passage_ids, ids)]

    def undated_ids(self, ids: np.ndarray) -> np.ndarray:
        """The passage ids, of those given, whose article states no date."""
        return ids[self.date_key[self.articles_of(ids)] == UNDATED]

    def facets(self, ids: np.ndarray) -> tuple[int, list[tuple[str, int]], list[tuple[int | None, int]]]:
        """Distinct articles among the passage ids, and (source, count) and (year, count) over them; an
        article and its copies count once in all three: as many as a filter on that value then returns."""
        articles = self.distinct_articles(ids)
        groups = self.group_of[articles]
        by_source = self.source_of[articles]
        years = self.date_key[articles] // 10_000
        source_counts = distinct_counts(by_source[by_source >= 0], groups[by_source >= 0])
        year_counts = distinct_counts(years, groups)
        sources = sorted(((self.sources[s], n) for s, n in source_counts), key=lambda sn: (-sn[1], sn[0]))
        dated = sorted(((int(y), n) for y, n in year_counts if y), reverse=True)
        undated = [(None, n) for y, n in year_counts if not y]
        return int(np.count_nonzero(np.bincount(groups))) if len(groups) else 0, sources, dated + undated

    def distinct_articles(self, ids: np.ndarray) -> np.ndarray:
        """The article numbers (ascending) of the passage ids: a count per article rather than a sort, since
        a query's matches can be most of the index (half the time of the facets at 100k passages)."""
        return np.flatnonzero(np.bincount(self.articles_of(ids), minlength=len(self.doc_ids)))

    def group_count(self, ids: np.ndarray) -> int:
        """Distinct articles (an original and its copies once) among the passage ids."""
        return len(np.unique(self.group_of[self.articles_of(ids)])) if len(ids) else 0


def distinct_counts(values: np.ndarray, groups: np.ndarray) -> list[tuple[int, int]]:
    """For each value (non-negative integers), how many distinct groups carry it, ascending by value.

    Most articles are the only one of their group among a query's matches: those are counted directly, and only
    the articles sharing a group are paired with it and de-duplicated (two sorts of every match took 8 ms of a
    search at 1M passages)."""
    if not len(values):
        return []
    values = values.astype(np.int64)
    shared = np.bincount(groups)[groups] > 1  # articles with another of their group among these
    counts = np.bincount(values[~shared], minlength=int(values.max()) + 1)
    if shared.any():
        span = int(groups.max()) + 1
        pairs = np.unique(values[shared] * span + groups[shared])  # one number per (value, group) pair
        counts += np.bincount(pairs // span, minlength=len(counts))
    found = np.flatnonzero(counts)
    return [(int(v), int(counts[v])) for v in found]
