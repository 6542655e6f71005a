"""The query side: load an index once, answer SearchParams with ranked passages.

One result object serves every view: `tracuu search --json` prints it, `GET /api/search`
returns it, and the web page renders it.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.format import ann, layout
from indexer.format.lexical import LexicalIndex, passage_tokens
from indexer.format.segments import Snapshot
from indexer.format.store import PassageRow, SegmentedStore
from models.embedder import Embedder, backend_of, recipe_of
from retrieval.answers import answer_and_snippet
from retrieval.catalog import Catalog
from retrieval.contract import (
    AlsoPublished,
    Answer,
    ArticleHit,
    ArticlePassage,
    Facets,
    FacetValue,
    Hit,
    SearchParams,
    SearchResult,
)
from retrieval.crosslingual import IdfTable, plan_lexical
from retrieval.floor import NAMES_HELD, NAMES_KEEP, is_nonsense, is_off_topic, lexically_vouched
from retrieval.fusion import NORMALISERS, convex_fusion, reciprocal_rank_fusion
from retrieval.highlight import highlight, rarity
from retrieval.spelling import SpellingCorrector
from retrieval.timepref import PREFERENCE_DEPTH, TimePreference
from tracuu.settings import Settings
from tracuu.text.lang import detect_query_language
from tracuu.text.restore import RESTORE_FILE, ToneModel
from tracuu.text.tokens import query_tokens

FUSION_DEPTH = 100  # candidates per leg whose scores set the normalisation (more are fetched when k asks)
COLLAPSE_SLACK = 20
ARTICLE_DEPTH = 6  # candidate passages per wanted article: enough for distinct articles after grouping
MAX_ARTICLE_PASSAGES = 3  # passages shown per article hit
SNIPPET_CHARS = 300  # a snippet shows the answer sentence with some context, not the whole passage
# One search of each kind before a server says it is ready (Searcher.warm_up): marked and unmarked
# Vietnamese (tone restoration), English (language profiles), every mode.
WARM_UP_QUERIES = (
    ("kết nạp đảng viên mới", "hybrid"),
    ("ket nap dang vien moi", "hybrid"),
    ("how many new party members were admitted", "hybrid"),
    ("xây dựng nông thôn mới", "dense"),
    ("xây dựng nông thôn mới", "lexical"),
)
FILTER_CACHE = 16  # filters whose allowed passage ids are kept (at most 8 MB each at 1M passages)
# Of the lexical leg in hybrid fusion, the dense leg has the rest. English queries too: the folded view matches
# the Vietnamese names they type without marks ("Vinh Bao"), which the dense leg misses (docs/quality.md).
LEXICAL_WEIGHT = 0.4
# Hybrid re-ranks with the query vector moved this far towards the first fused passage's vector (pseudo-relevance
# feedback, chosen on two sets: docs/quality.md); 0 turns it off.
FEEDBACK_WEIGHT = 0.5
# Lexical-only candidates re-scored by the feedback step: each is a read from vectors.npy (from disk when the file
# is not in the page cache), and more than 20 changed no result on either set (docs/quality.md).
FEEDBACK_LEXICAL_DEPTH = 20
# An English query with rare names anchors the feedback on the first of this many fused passages that holds them.
NAMES_ANCHOR_DEPTH = 10
# Hybrid hands its lexical leg to another thread (`_lexical_legs`) from this many passages on; below, the leg
# takes well under a millisecond, less than the hand-off.
PARALLEL_LEGS_MIN = 50_000


@functools.cache
def _lexical_legs() -> ThreadPoolExecutor:
    """The threads hybrid runs its lexical leg on while the query is embedded and the dense leg searched: ONNX
    Runtime, FAISS and numpy's large array operations release the GIL, so on two cores the legs overlap and a
    hybrid search costs about its slower leg instead of their sum (docs/performance.md). Made on first use: a
    `tracuu search` of a small index never starts them."""
    return ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1), thread_name_prefix="tracuu-lexical")


class ModelMismatch(RuntimeError):
    """The index was built with another embedding model than the one offered to search it."""


@dataclass
class Candidate:
    id: int
    score: float


@dataclass
class Ranking:
    """What ranking a query found: its best passages, every match, and the best cosine the relevance floor reads."""

    ranked: list[Candidate]
    matches: np.ndarray  # sorted passage ids
    best_dense: float | None  # the best cosine in the whole index, for the floor (None: the dense leg did not run)
    vector: np.ndarray | None = None  # the query's embedding, if the dense leg ran: a search embeds its query once


@dataclass(frozen=True)
class Asked:
    """The query as each part of a hit needs it."""

    searched: str  # tone marks restored: what the answer sentence is chosen for
    marked: str  # as typed, then as restored: the words highlighted
    lang: str | None


class Searcher:
    """An opened index version plus the model that embeds queries for it."""

    def __init__(
        self,
        index_dir: Path,
        embedder: Embedder | None = None,
        model: str | None = None,
        fusion: str = "spread",
        feedback: float = FEEDBACK_WEIGHT,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings = settings or Settings()
        self.index_dir = index_dir
        if fusion not in (*NORMALISERS, "rrf"):
            raise ValueError(f"unknown fusion {fusion!r}")
        self.fusion = fusion  # "spread" (default); "minmax" and "rrf" kept for side-by-side evaluation
        self.feedback = feedback
        self.version_dir = layout.current_version(index_dir)
        self.manifest = layout.read_manifest(self.version_dir)
        self.embedder = embedder or _load_embedder(self.manifest, model, settings)
        _check_model(self.manifest, self.embedder, self.index_dir)
        self._encode_query = _lru_cached(self.embedder.encode_query, settings.query_cache)
        snapshot = Snapshot.open(self.version_dir, self.manifest)  # the segments and deletions of this version
        self.store = snapshot.store()
        deleted = self.store.deleted_ids()
        self.index = ann.SegmentedVectorIndex(snapshot.segments, deleted)
        self.lexical = LexicalIndex(snapshot.segments, deleted)
        self.tones = ToneModel.load(self.version_dir / RESTORE_FILE)
        self.spelling = SpellingCorrector(self.lexical.vocab, self.lexical.document_frequency, self.tones.forms)
        self.catalog = Catalog.load(self.store)
        self.time = TimePreference(self.catalog, self.store)
        self._rare = rarity(self.lexical)  # one function per version: highlighting memoises on it
        # A version never changes, so the ids a filter allows are looked up once (SQLite returning 100k+ ids
        # took most of a filtered search at 1M passages).
        self._filtered_ids = _cached_filter_lookup(self.store)

    @property
    def version(self) -> str:
        return self.version_dir.name

    def warm_up(self) -> None:
        """Run one search of each kind, so the first user's query is as fast as the tenth.

        The first query loads what is lazy: the ONNX session's first run, the language profiles (English
        took 650 ms), tone restoration, the pages of the lexical and vector indexes it touches; and the
        tokenizer's model is loaded first (Embedder.warm_up), which `tracuu search` does without. The query
        cache is left as it was: these queries are not the users'.
        """
        self.embedder.warm_up()
        self.lexical.warm_up()
        for query, mode in WARM_UP_QUERIES:
            self.search(SearchParams(q=query, mode=mode, group="article"))
            self.search(SearchParams(q=query, mode=mode))
        clear = getattr(self._encode_query, "cache_clear", None)
        if clear is not None:
            clear()

    def close(self) -> None:
        self.store.close()

    def search(self, params: SearchParams) -> SearchResult:
        """One page of hits for `params`, with what every view needs around it (total, facets, ...).

        What "matches" a query, for `total` and the facets: the passages holding one of its uncommon tokens, or
        all of them when every token is common, and the passages its lexical leg ranks (`LexicalIndex.query`: a
        token in most passages, "việt" or "năm" at a million passages, does not make a passage match on its own,
        which spared visiting most of the index), and its FUSION_DEPTH nearest passages in the whole index (the
        dense leg's), each as the mode uses them; a filter keeps those it allows. Hits are only ever drawn from
        the matches, and a filter's facet count is the total the filtered search then reports (exactly, unless
        a passage holding common tokens only is ranked by one of the two searches and not the other).
        """
        started = time.perf_counter()
        corrected = None if params.exact else self.spelling.correct(params.q)  # typos first, then tone marks
        typed = corrected or params.q
        interpreted = None if params.exact else self.tones.restore(typed)
        query = interpreted or typed
        query_lang = detect_query_language(typed, restored=interpreted is not None)
        asked = Asked(query, f"{typed} {interpreted}" if interpreted else typed, query_lang)
        floor = params.floor == "on"
        if floor and is_nonsense(typed, self.lexical.vocab, self.embedder.count_tokens):
            return self._below_floor(params, query_lang, corrected, interpreted, started)
        allowed = self._allowed_ids(params)
        grouped = params.group == "article"
        wanted = params.offset + params.k
        depth = wanted * (ARTICLE_DEPTH if grouped else 2) + COLLAPSE_SLACK  # room to drop copies and group
        period = self.time.interpret(params.q) if params.time == "on" and params.sort == "relevance" else None
        ranking = self._rank(query, params.mode, max(depth, PREFERENCE_DEPTH) if period else depth, allowed)
        if floor and self._off_topic(query, params.q, query_lang, ranking):  # nothing in the index is about it
            return self._below_floor(params, query_lang, corrected, interpreted, started)
        ranked, matches = ranking.ranked, ranking.matches
        if period is not None:  # the period's passages first (retrieval/timepref.py), then the rest
            dated = self.time.dated(period, allowed)
            within = self._rank(query, params.mode, depth, dated, ranking.vector).ranked if len(dated) else []
            ranked = self.time.prefer(period, ranked, within)[:depth]
        matching = matches if allowed is None else np.intersect1d(matches, allowed, assume_unique=True)
        if params.sort == "date":
            per_article = MAX_ARTICLE_PASSAGES if grouped else 1
            groups = self._by_date(ranked, matching, wanted, per_article, query, ranking.vector)
        else:
            groups = _group_by_article(ranked, self.store.passages([c.id for c in ranked]), wanted, grouped)
        page = groups[params.offset :]
        copies = self.store.copies(rows[0][1].dup_group for rows in page)
        hits = [
            self._hit(rank, rows, asked, copies.get(rows[0][1].dup_group, []), grouped)
            for rank, rows in enumerate(page, params.offset + 1)
        ]
        articles, sources, years = self.catalog.facets(matching)
        facets = Facets(
            source=[FacetValue(value=v, count=n) for v, n in sources],
            year=[FacetValue(value=v, count=n) for v, n in years],
        )
        undated_excluded = self._undated_excluded(params, matches)
        return SearchResult(
            query=params.q,
            interpreted_query=interpreted,
            query_lang=query_lang,
            corrected_query=corrected,
            mode=params.mode,
            took_ms=round((time.perf_counter() - started) * 1000, 2),  # all of the search's own work above
            total=articles if grouped else len(matching),
            returned=len(hits),
            hits=hits,
            facets=facets,
            undated_excluded=undated_excluded,
            interpreted_time=period.as_dict() if period else None,
        )

    def _off_topic(self, query: str, typed: str, query_lang: str | None, ranking: Ranking) -> bool:
        """True when a Vietnamese query's best passage does not stand out of its scores over the whole index and
        the lexical leg's best passage does not hold its words (retrieval/floor.py). A query the dense leg did
        not search (lexical mode), and one in another language, is never off topic."""
        if ranking.best_dense is None or query_lang != "vi":
            return False
        vector = ranking.vector
        mean = float(vector.ravel() @ self.index.centroid) if vector is not None else 0.0
        if not is_off_topic(ranking.best_dense, mean):
            return False
        period = self.time.interpret(typed)  # time words are the time preference's to read, not the lexical leg's
        idf = IdfTable.of(self.lexical)
        for text in {typed, query}:  # as typed, and with typos corrected and tone marks restored
            words = text.replace(period.text, " ") if period else text
            tokens = [t for t in query_tokens(words) if not any(ch.isdigit() for ch in t)]  # numbers aside too
            best = [i for i, _ in self.lexical.query(tokens, 1, None)[0]]  # in the whole index
            if any(lexically_vouched(words, held, idf.idf, idf.rarest) for held in self._passage_tokens(best)):
                return False
        return True

    def _holds_names(self, names: list[str], ids: list[int]) -> list[bool]:
        """Per passage: whether it holds at least NAMES_HELD of the names' information (idf)."""
        idf = IdfTable.of(self.lexical)
        weights = {t: idf.idf(t) or 0.0 for t in names}
        total = sum(weights.values()) or 1.0
        return [
            sum(w for t, w in weights.items() if t in tokens) >= NAMES_HELD * total
            for tokens in self._passage_tokens(ids)
        ]

    def _passage_tokens(self, ids: list[int]) -> list[set[str]]:
        """The lexical tokens of each given passage (as the lexical index holds them; none for an unknown id)."""
        rows = self.store.passages(ids)
        return [set(passage_tokens(rows[i].title, rows[i].text)) if i in rows else set() for i in ids]

    def _below_floor(
        self,
        params: SearchParams,
        query_lang: str | None,
        corrected: str | None,
        interpreted: str | None,
        started: float,
    ) -> SearchResult:
        """No hits: nothing in the index really matches the query (`floor=off` shows the nearest anyway)."""
        return SearchResult(
            query=params.q,
            interpreted_query=interpreted,
            query_lang=query_lang,
            corrected_query=corrected,
            mode=params.mode,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            total=0,
            returned=0,
            hits=[],
            below_floor=True,
        )

    def _allowed_ids(self, params: SearchParams) -> np.ndarray | None:
        """Passage ids passing the filters (sorted), or None when no filter is set."""
        if not (params.source or params.date_from or params.date_to or params.lang):
            return None
        date_from = params.date_from.isoformat() if params.date_from else None
        date_to = params.date_to.isoformat() if params.date_to else None
        allowed = self._filtered_ids(params.source, date_from, date_to, params.lang)
        if params.include_undated and (date_from or date_to):
            undated = self.catalog.undated_ids(self._filtered_ids(params.source, None, None, params.lang))
            allowed = np.union1d(allowed, undated)
        return allowed

    def _undated_excluded(self, params: SearchParams, matches: np.ndarray) -> int:
        """Matching articles that a date filter leaves out because they state no date."""
        if params.include_undated or not (params.date_from or params.date_to):
            return 0
        if params.source or params.lang:
            matches = np.intersect1d(matches, self._filtered_ids(params.source, None, None, params.lang))
        return self.catalog.group_count(self.catalog.undated_ids(matches))

    def _rank(
        self, query: str, mode: str, depth: int, allowed: np.ndarray | None, vector: np.ndarray | None = None
    ) -> Ranking:
        """The best `depth` matching passages for `query` in `mode`, and every match (sorted passage ids);
        `vector`: the query's embedding if this search has it already (embedding is most of a search's cost)."""
        if allowed is not None and len(allowed) == 0:  # nothing can match: not even embedded
            return Ranking([], np.zeros(0, dtype=np.int64), None)
        plan = plan_lexical(query, self.lexical, LEXICAL_WEIGHT)  # an English query: its names, less weight
        names = [t for t in plan.tokens or [] if "_" not in t]  # an English query's names and numbers
        vouching = plan.tokens is not None and plan.weight >= NAMES_KEEP * LEXICAL_WEIGHT  # rare in the index
        leg_depth = max(FUSION_DEPTH, depth) if mode == "hybrid" else depth
        lexical_leg, lexical_matches = [], np.zeros(0, dtype=np.int64)
        pending = None
        if mode != "dense":
            tokens = query_tokens(query) if plan.tokens is None else plan.tokens
            if mode == "hybrid" and self.lexical.n_docs >= PARALLEL_LEGS_MIN:  # searched beside the dense leg
                pending = _lexical_legs().submit(self.lexical.query, tokens, leg_depth, allowed)
            else:
                lexical_leg, lexical_matches = self.lexical.query(tokens, leg_depth, allowed)
        try:
            if vector is None and mode != "lexical":
                vector = self._query_vector(query)
            dense_leg = self._nearest(vector, max(leg_depth, FUSION_DEPTH), allowed)
            nearest = dense_leg if allowed is None else self._nearest(vector, FUSION_DEPTH, None)
        finally:
            if pending is not None:  # waited for even when the dense leg failed: no search left running
                lexical_leg, lexical_matches = pending.result()
        dense_matches = np.unique(np.asarray([c.id for c in nearest[:FUSION_DEPTH]], dtype=np.int64))
        matches = {"lexical": lexical_matches, "dense": dense_matches}.get(mode)
        if matches is None:
            matches = sorted_union(lexical_matches, dense_matches)
        if mode == "lexical":
            ranked = [Candidate(i, s) for i, s in lexical_leg]
        elif mode == "dense":
            ranked = dense_leg[:depth]
        else:
            ranked = self._fused(vector, dense_leg, lexical_leg, plan.weight, names if vouching else [])[:depth]
        is_match = in_sorted(matches, np.asarray([c.id for c in ranked], dtype=np.int64))
        return Ranking(
            [c for c, keep in zip(ranked, is_match, strict=True) if keep],
            matches,
            nearest[0].score if nearest else None,
            vector,
        )

    def _fused(
        self,
        vector: np.ndarray | None,
        dense_leg: list[Candidate],
        lexical: list[tuple[int, float]],
        lexical_weight: float = LEXICAL_WEIGHT,
        names: list[str] | None = None,
    ) -> list[Candidate]:
        """The two legs fused, then re-ranked with pseudo-relevance feedback towards the first fused passage, or
        for an English query with rare names (`names`) the first of the best NAMES_ANCHOR_DEPTH that holds them:
        feedback towards a passage that lacks them only confirms the dense leg's cross-lingual guess (a question
        about Vĩnh Bảo's party cells anchored on another district's report)."""
        dense = [(c.id, c.score) for c in dense_leg]

        def fuse(dense_leg: list[tuple[int, float]]) -> list[tuple[int, float]]:
            if self.fusion == "rrf":
                return reciprocal_rank_fusion([dense_leg, lexical], [1.0, 1.0])
            weights = [1.0 - lexical_weight, lexical_weight]
            return convex_fusion([dense_leg, lexical], weights, self.fusion, FUSION_DEPTH)

        fused = fuse(dense)
        if self.feedback > 0 and vector is not None and fused:
            first = fused[0][0]
            if names:
                best = [pid for pid, _ in fused[:NAMES_ANCHOR_DEPTH]]
                first = next(
                    (pid for pid, held in zip(best, self._holds_names(names, best), strict=True) if held), first
                )
            candidates = [first, *(pid for pid, _ in dense + lexical[:FEEDBACK_LEXICAL_DEPTH])]
            moved = self._feedback_leg(vector, first, candidates)
            fused = fuse(moved) if moved else fused
        return [Candidate(i, s) for i, s in fused]

    def _by_date(
        self,
        ranked: list[Candidate],
        matching: np.ndarray,
        wanted: int,
        per_article: int,
        query: str,
        vector: np.ndarray | None,
    ) -> list[list[tuple[Candidate, PassageRow]]]:
        """The first `wanted` matching articles newest first (undated last, then by relevance), each with its
        best matching passages, scored exactly for the query (`vector`: its embedding, if the search has it)."""
        catalog = self.catalog
        articles = catalog.articles_of(matching)
        shown_for = catalog.canonical[catalog.group_of]  # per article: the article its group is shown by
        rank_of: dict[int, int] = {}  # shown article -> position of its group's best candidate
        for position, article in enumerate(catalog.articles_of([c.id for c in ranked]).tolist()):
            rank_of.setdefault(int(shown_for[article]), position)
        shown = shown_for[articles]  # a copy's group is shown by its original
        if vector is None and len(matching):  # a lexical search: embedded here, once for every article
            vector = self._query_vector(query)
        order = sorted(
            set(shown.tolist()),
            key=lambda a: (-catalog.date_key[a], rank_of.get(a, len(ranked)), catalog.doc_ids[a]),
        )[:wanted]
        pages = []
        for article in order:
            ids = matching[articles == article]
            if not len(ids):  # the original itself does not match: show the copy that does
                ids = matching[catalog.group_of[articles] == catalog.group_of[article]]
            scored = self._score_passages(ids, query, vector)[:per_article]
            rows = self.store.passages([c.id for c in scored])
            pages.append([(c, rows[c.id]) for c in scored if c.id in rows])
        return [rows for rows in pages if rows]

    def _score_passages(self, ids: np.ndarray, query: str, vector: np.ndarray | None) -> list[Candidate]:
        """The given passages best first: exact cosine to the query's embedding `vector`, else (None) BM25."""
        if vector is not None:
            found, matrix = self.index.vectors_of(np.asarray(ids, dtype=np.int64))
            if len(found):
                scores = matrix @ vector.ravel()
                order = np.lexsort((found, -scores))
                return [Candidate(i, s) for i, s in zip(found[order].tolist(), scores[order].tolist(), strict=True)]
        scores = self.lexical.score_query(query)
        top = dict(self.lexical.top(scores, len(ids), ids))
        return sorted((Candidate(int(i), top.get(int(i), 0.0)) for i in ids), key=lambda c: (-c.score, c.id))

    def rank(self, query: str, mode: str = "hybrid", depth: int = FUSION_DEPTH) -> list[Candidate]:
        """The best `depth` matching passages for `query` (as searched: restore it first), as a search ranks them."""
        return self._rank(query, mode, depth, None).ranked

    def nearest(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[Candidate]:
        """The dense leg alone: the passages nearest to the query's embedding (evaluation compares the legs)."""
        return self._nearest(self._query_vector(query), k, allowed)

    def _query_vector(self, query: str) -> np.ndarray | None:
        """The query's embedding, or None when the index holds no vector (not embedded then)."""
        return self._encode_query(query) if self.index.ntotal else None

    def _nearest(self, vector: np.ndarray | None, k: int, allowed: np.ndarray | None) -> list[Candidate]:
        """Nearest passages to a query vector (None: nothing to search); filters are applied inside FAISS so
        no hit is lost to them."""
        if vector is None:
            return []
        depth = min(k, self.index.ntotal if allowed is None else len(allowed))
        scores, ids = self.index.search(vector.reshape(1, -1), depth, allowed=allowed)
        kept = ids[0] >= 0  # lists of Python numbers in one call each, not a numpy scalar per element
        return [Candidate(i, s) for i, s in zip(ids[0][kept].tolist(), scores[0][kept].tolist(), strict=True)]

    def _feedback_leg(self, vector: np.ndarray, first_id: int, candidate_ids: list[int]) -> list[tuple[int, float]]:
        """The dense leg again over the given candidates, for the query vector moved towards the first fused
        passage (Rocchio pseudo-relevance feedback): passages saying what the best answer says rise.

        Only candidates are re-scored (exactly, from their stored vectors), so it costs one small matrix
        product, and the lexical leg's best candidates get a dense score too.
        """
        ids, matrix = self.index.vectors_of(np.unique(np.asarray(candidate_ids, dtype=np.int64)))
        position = int(np.searchsorted(ids, first_id))
        if position == len(ids) or ids[position] != first_id:  # not in the vector index: nothing to move to
            return []
        moved = vector.ravel() + self.feedback * matrix[position]
        scores = matrix @ (moved / np.linalg.norm(moved))
        order = np.lexsort((ids, -scores))
        return list(zip(ids[order].tolist(), scores[order].tolist(), strict=True))

    def _hit(
        self,
        rank: int,
        passages: list[tuple[Candidate, PassageRow]],
        asked: Asked,
        copies: list[tuple[str, str | None, str | None]],
        grouped: bool,
    ) -> Hit:
        """A hit: the best passage's fields, and with `grouped` the article's best passages."""
        row = passages[0][1]
        shown: list[ArticlePassage] = []
        for candidate, passage in passages:
            view = self._passage(candidate, passage, asked)
            if all(view.answer != other.answer for other in shown):  # overlapping passages: show a sentence once
                shown.append(view)
        fields = {
            "rank": rank,
            "doc_id": row.doc_id,
            "title": row.title,
            "source": row.source,
            "url": row.url,
            "published": row.published,
            "author": row.author,
            "lang": row.lang,
            **shown[0].model_dump(),
            "also_published": [
                AlsoPublished(doc_id=d, source=src, published=pub) for d, src, pub in copies if d != row.doc_id
            ],
        }
        return ArticleHit(**fields, passages=shown) if grouped else Hit(**fields)

    def _passage(self, candidate: Candidate, row: PassageRow, asked: Asked) -> ArticlePassage:
        """A shown passage: its answer sentence, and a snippet of at most SNIPPET_CHARS around it."""
        (answer_start, answer_end), (start, end) = answer_and_snippet(
            row.text, asked.searched, asked.lang, SNIPPET_CHARS
        )
        snippet = highlight(row.text[start:end], asked.marked, rare=self._rare)
        return ArticlePassage(
            chunk_id=f"{row.doc_id}#{row.chunk_no}",
            score=round(candidate.score, 4),
            text=row.text,
            snippet=("…" if start > 0 else "") + snippet + ("…" if end < len(row.text) else ""),
            start=row.start,
            end=row.end,
            answer=Answer(
                start=row.start + answer_start, end=row.start + answer_end, text=row.text[answer_start:answer_end]
            ),
        )


def _group_by_article(
    candidates: list[Candidate], rows: dict[int, PassageRow], wanted: int, grouped: bool
) -> list[list[tuple[Candidate, PassageRow]]]:
    """The first `wanted` hits, best first: passages (each alone), or articles with their best passages.

    An article and its syndicated copies are one hit, shown by the original (the canonical article) when
    one of its passages is among the candidates, at the rank of the group's best passage; the copies go to
    `also_published`. The same passage text is never shown twice.
    """
    ranked = [(c, rows[c.id]) for c in candidates if c.id in rows]
    canonical_best: dict[str, tuple[Candidate, PassageRow]] = {}
    for candidate, row in ranked:
        if row.doc_id == row.dup_group:
            canonical_best.setdefault(row.dup_group, (candidate, row))
    shown_doc: dict[str, str] = {}  # group -> the article shown for it
    hits: dict[str, list[tuple[Candidate, PassageRow]]] = {}  # group -> its passages, in hit order
    seen_texts: set[str] = set()
    for candidate, row in ranked:
        group = row.dup_group
        if group not in shown_doc:
            if not grouped and len(hits) == wanted:
                break
            group_score = candidate.score  # the group ranks where its best passage does
            candidate, row = canonical_best.get(group, (candidate, row))
            candidate = Candidate(candidate.id, group_score)
            shown_doc[group] = row.doc_id
        elif shown_doc[group] != row.doc_id:
            continue
        if row.text in seen_texts:  # the same passage in two articles (a copy not grouped, a quoted statement)
            continue
        seen_texts.add(row.text)
        if grouped:
            if group not in hits and len(hits) == wanted:
                continue
            if len(hits.setdefault(group, [])) < MAX_ARTICLE_PASSAGES:
                hits[group].append((candidate, row))
        else:
            hits[f"{group}#{row.chunk_no}#{row.doc_id}"] = [(candidate, row)]
            if len(hits) == wanted:
                break
    return list(hits.values())


def sorted_union(many: np.ndarray, few: np.ndarray) -> np.ndarray:
    """`np.union1d` of two sorted id arrays, the second short: inserted in place, without sorting the first
    (a query's lexical matches can be most of the index)."""
    extra = few[~in_sorted(many, few)]
    return np.insert(many, np.searchsorted(many, extra), extra) if len(extra) else many


def in_sorted(haystack: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Whether each id is in the sorted `haystack` (binary search: cost by the ids, not the haystack)."""
    if not len(haystack):
        return np.zeros(len(ids), dtype=bool)
    positions = np.minimum(np.searchsorted(haystack, ids), len(haystack) - 1)
    return haystack[positions] == ids


def _cached_filter_lookup(
    store: SegmentedStore,
) -> Callable[[str | None, str | None, str | None, str | None], np.ndarray]:
    """The store's filter lookup behind an LRU cache of FILTER_CACHE filters (a closure over the store, not
    the Searcher, so a Searcher replaced by a reload is freed as soon as its last request ends)."""

    @functools.lru_cache(maxsize=FILTER_CACHE)
    def filtered_ids(source: str | None, date_from: str | None, date_to: str | None, lang: str | None) -> np.ndarray:
        ids = np.asarray(store.filtered_ids(source, date_from, date_to, lang), dtype=np.int64)
        ids.setflags(write=False)  # shared by every request with this filter
        return ids

    return filtered_ids


def _lru_cached(encode: Callable[[str], np.ndarray], size: int) -> Callable[[str], np.ndarray]:
    """Query vectors kept in an LRU cache of `size` entries (0: no cache); cached arrays are read-only."""
    if size <= 0:
        return encode

    @functools.lru_cache(maxsize=size)
    def cached(text: str) -> np.ndarray:
        vector = np.ascontiguousarray(encode(text), dtype=np.float32)
        vector.setflags(write=False)
        return vector

    return cached


def _load_embedder(manifest: dict[str, Any], model: str | None, settings: Settings) -> Embedder:
    """The model the index was built with, on the backend and recipe it was built with (vectors must match)."""
    name = model or manifest["model"]["name"]
    built = manifest["model"]
    return Embedder.load(name, backend=backend_of(built), recipe=recipe_of(built), settings=settings)


def _check_model(manifest: dict[str, Any], embedder: Embedder, index_dir: Path) -> None:
    built, offered = manifest["model"], embedder.identity
    if built != offered:
        differs = "; ".join(
            f"{key}: index {built.get(key)!r}, model {offered.get(key)!r}"
            for key in sorted(set(built) | set(offered))
            if built.get(key) != offered.get(key)
        )
        raise ModelMismatch(
            f"{index_dir}: index was built with another embedding model than {offered.get('name')!r} ({differs}); "
            "re-index with this model or search with the index's own"
        )
