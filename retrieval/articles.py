"""The article view: one article whole, and for a query the passages of it that match.

A passage's score is the one a search hit for it has (Searcher.rank: the same legs, fusion and feedback),
so the best passage is the one `GET /api/search` shows for this article, and a score compares a passage
with the index's best answers, not only with the article's other passages.

Which passages are highlighted: the best one, and the others scoring at least HIGHLIGHT_SHARE of it, at
most MAX_HIGHLIGHTS, best first; none when the best scores 0 (the article is outside the query's
candidates in both legs).
"""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.contract import AlsoPublished, ArticleView, PassageMatch, PassageSpan
from retrieval.searcher import FUSION_DEPTH, Searcher

HIGHLIGHT_SHARE = 0.75  # on the sample corpus: the passages that say what the query asks, not its neighbours
MAX_HIGHLIGHTS = 3  # as many best passages as an article hit (group=article) shows


def searched_query(searcher: Searcher, query: str) -> str:
    """The query as the search takes it: tone marks restored when it was typed without them."""
    return searcher.tones.restore(query) or query


def marked_query(searcher: Searcher, query: str) -> str:
    """The words to mark in text, as a search's snippets mark them: as typed and as restored."""
    restored = searcher.tones.restore(query)
    return f"{query} {restored}" if restored else query


def article_view(searcher: Searcher, doc_id: str, query: str | None) -> ArticleView | None:
    """The article `doc_id` (None when the index has no such article), with `highlights` when `query` is given."""
    article = searcher.store.article(doc_id)
    if article is None:
        return None
    rows = searcher.store.passages_of(doc_id)  # (id, chunk_no, text, start, end) in order
    group = article["dup_group"]
    copies = searcher.store.copies([group]).get(group, [])
    highlights = None
    if query is not None:
        scores = passage_scores(searcher, searched_query(searcher, query), [r[0] for r in rows])
        highlights = _clearly_relevant(
            [
                PassageMatch(chunk_id=f"{doc_id}#{no}", start=s, end=e, score=scores.get(pid, 0.0))
                for pid, no, _, s, e in rows
            ]
        )
    return ArticleView(
        doc_id=doc_id,
        title=article["title"],
        source=article["source"],
        published=article["published"],
        author=article["author"],
        url=article["url"],
        lang=article["lang"],
        text=article["text"],
        passages=[PassageSpan(chunk_id=f"{doc_id}#{no}", start=s, end=e) for _, no, _, s, e in rows],
        also_published=[AlsoPublished(doc_id=d, source=src, published=pub) for d, src, pub in copies if d != doc_id],
        highlights=highlights,
    )


def _clearly_relevant(matches: list[PassageMatch]) -> list[PassageMatch]:
    ranked = sorted(matches, key=lambda m: -m.score)  # stable: ties in text order
    if not ranked or ranked[0].score <= 0:
        return []
    floor = HIGHLIGHT_SHARE * ranked[0].score
    return [m for m in ranked if m.score >= floor][:MAX_HIGHLIGHTS]


def passage_scores(searcher: Searcher, query: str, ids: Sequence[int]) -> dict[int, float]:
    """The search's own scores of the passages `ids` for `query` (as searched: restored): those among its
    best FUSION_DEPTH candidates; the others are not listed (0)."""
    wanted = set(ids)
    return {c.id: round(c.score, 4) for c in searcher.rank(query, depth=FUSION_DEPTH) if c.id in wanted}
