"""Time words as a soft preference: the matching passages of the period a query names come first.

"kết nạp đảng viên năm 2021" asks for 2021. A passage belongs to the period when its article was published
in it, or when its own text or title names a date, month, year or span within it: a report published in
January 2022 about "năm 2021" belongs to 2021. Those passages come first, the other matches follow in their
usual order, so nothing is dropped; the time words stay in the query (they match the passages that say them).

Every matching passage published in the period is preferred, ranked among themselves as the search ranks (the
same ranking restricted to them). A passage that only names the period in its text is preferred when it is
also relevant: at least MENTION_FLOOR of the way from the weakest to the best of the first PREFERENCE_DEPTH
candidates. A year named in passing is no reason to put an unrelated passage first: on the 13 zalo-wikiqa-2019
questions naming a year (an undated index: text only), every mention first took hybrid nDCG@10 from 0.986 to
0.883; with the floor it is 0.996 (docs/quality.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol, TypeVar

import numpy as np

from indexer.format.store import SegmentedStore
from retrieval.catalog import UNDATED, Catalog
from tracuu.text.timewords import Period, interpret_time, mentions

PREFERENCE_DEPTH = 100  # candidates ranked, at least, when a query names a period; they set the relevance scale
MENTION_FLOOR = 0.3  # chosen on the zalo questions naming a year: 0.2 gave 0.988, 0.3-0.4 0.996, 0.5 0.998


class Ranked(Protocol):
    id: int
    score: float


R = TypeVar("R", bound=Ranked)


def _key(day: date) -> int:
    """A date as the catalog's date_key (yyyymmdd)."""
    return day.year * 10_000 + day.month * 100 + day.day


class TimePreference:
    """Reads a query's time words against one index version and puts that period's passages first."""

    def __init__(self, catalog: Catalog, store: SegmentedStore) -> None:
        self._catalog = catalog
        self._store = store
        newest = int(catalog.date_key.max()) if len(catalog.date_key) else UNDATED
        # "năm nay" is the year of the newest article: an archive's "this year" is its last one, not the clock's.
        self.reference = date(newest // 10_000, newest // 100 % 100, newest % 100) if newest != UNDATED else None
        self._passage_dates = catalog.date_key[catalog.article_of]  # per passage, in catalog.passage_ids order

    def interpret(self, query: str) -> Period | None:
        """The period the query names, relative to the newest article (to today in an index without dates)."""
        return interpret_time(query, self.reference or date.today())

    def dated(self, period: Period, allowed: np.ndarray | None) -> np.ndarray:
        """Passage ids (sorted) whose article was published in the period, within `allowed` when filters are set."""
        keys = self._passage_dates
        ids = self._catalog.passage_ids[(keys >= _key(period.start)) & (keys <= _key(period.end))]
        return ids if allowed is None else np.intersect1d(ids, allowed, assume_unique=True)

    def prefer(self, period: Period, ranked: Sequence[R], dated: Sequence[R]) -> list[R]:
        """The passages of the period first, then the rest of `ranked` in its order.

        `ranked` is the search's ranking (at least PREFERENCE_DEPTH deep), `dated` the same ranking of the
        matching passages published in the period (`dated`), which may reach deeper. Preferred passages keep
        their order and score from `ranked`; those only `dated` found follow them.
        """
        ids = np.asarray([c.id for c in ranked], dtype=np.int64)
        keys = self._passage_dates[np.searchsorted(self._catalog.passage_ids, ids)] if len(ids) else ids
        published = (keys >= _key(period.start)) & (keys <= _key(period.end))
        scores = [c.score for c in ranked[:PREFERENCE_DEPTH]]
        floor = min(scores) + MENTION_FLOOR * (max(scores) - min(scores)) if scores else 0.0
        unsure = [c.id for c, yes in zip(ranked, published, strict=True) if not yes and c.score >= floor]
        rows = self._store.passages(unsure)
        saying = {i for i, row in rows.items() if mentions(row.title, period) or mentions(row.text, period)}
        first = [c for c, yes in zip(ranked, published, strict=True) if yes or c.id in saying]
        shown = {c.id for c in first}
        in_ranked = set(ids.tolist())
        deeper = [c for c in dated if c.id not in in_ranked]
        return first + deeper + [c for c in ranked if c.id not in shown]
