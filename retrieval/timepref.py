"""Time words as a soft preference: the matching passages of the period a query names come first.

"kết nạp đảng viên năm 2021" asks for 2021. A passage belongs to the period when its article was published
in it, or when its own text or title names a date or year in it: a report published in January 2022 about
"năm 2021" belongs to 2021. Such passages are ranked among themselves exactly as the search ranks (the same
ranking, restricted to them) and put first; every other match follows in its usual order, so nothing is
dropped. The words stay in the query: they still match the passages that say them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol, TypeVar

import numpy as np

from indexer.format.lexical import LexicalIndex
from indexer.format.store import Store
from retrieval.catalog import UNDATED, Catalog
from tracuu.text.timewords import Period, interpret_time, mentions

MAX_YEARS_LOOKED_UP = 101  # year tokens looked up for a period's text mentions


class Ranked(Protocol):
    id: int


R = TypeVar("R", bound=Ranked)


def _key(day: date) -> int:
    """A date as the catalog's date_key (yyyymmdd)."""
    return day.year * 10_000 + day.month * 100 + day.day


class TimePreference:
    """Reads a query's time words against one index version and puts that period's passages first."""

    def __init__(self, catalog: Catalog, lexical: LexicalIndex, store: Store) -> None:
        self._catalog = catalog
        self._lexical = lexical
        self._store = store
        newest = int(catalog.date_key.max()) if len(catalog.date_key) else UNDATED
        # "năm nay" is the year of the newest article: an archive's "this year" is its last one, not the clock's.
        self.reference = date(newest // 10_000, newest // 100 % 100, newest % 100) if newest != UNDATED else None
        self._passage_dates = catalog.date_key[catalog.article_of]  # per passage, in catalog.passage_ids order

    def interpret(self, query: str) -> Period | None:
        """The period the query names, relative to the newest article (to today in an index without dates)."""
        return interpret_time(query, self.reference or date.today())

    def candidates(self, period: Period, allowed: np.ndarray | None) -> np.ndarray:
        """Passage ids (sorted) that may belong to the period: dated in it, or saying one of its years (checked
        exactly by `prefer`); within `allowed` when filters are set."""
        keys = self._passage_dates
        dated = self._catalog.passage_ids[(keys >= _key(period.start)) & (keys <= _key(period.end))]
        years = range(period.start.year, min(period.end.year, period.start.year + MAX_YEARS_LOOKED_UP - 1) + 1)
        saying = self._lexical.matching_ids(self._lexical.score_query(" ".join(str(y) for y in years)))
        ids = np.union1d(dated, saying)
        return ids if allowed is None else np.intersect1d(ids, allowed, assume_unique=True)

    def prefer(self, period: Period, ranked: Sequence[R], within: Sequence[R]) -> list[R]:
        """`within` (the search's ranking of `candidates`) kept when a passage belongs to the period, first;
        then the rest of `ranked` in its order. A passage keeps the score `ranked` gives it, when it has one:
        the order changes, the relevance shown does not."""
        rows = self._store.passages([c.id for c in within])
        outer = {c.id: c for c in ranked}
        first = [
            outer.get(c.id, c)
            for c in within
            if c.id in rows and _belongs(period, rows[c.id].published, rows[c.id].title, rows[c.id].text)
        ]
        shown = {c.id for c in first}
        return first + [c for c in ranked if c.id not in shown]


def _belongs(period: Period, published: str | None, title: str, text: str) -> bool:
    """Published in the period, or naming a date or year of it in the title or the text."""
    if published and period.start.isoformat() <= published[:10] <= period.end.isoformat():
        return True
    return mentions(title, period) or mentions(text, period)
