"""The query side: load an index once, answer SearchParams with ranked passages.

One result object serves every view: `tracuu search --json` prints it, `GET /api/search`
returns it, and the web page renders it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.format import ann, layout
from indexer.format.lexical import LexicalIndex
from indexer.format.store import STORE_FILE, PassageRow, Store
from models.embedder import Embedder, backend_of
from retrieval.contract import AlsoPublished, Hit, SearchParams, SearchResult
from retrieval.fusion import NORMALISERS, convex_fusion, reciprocal_rank_fusion
from retrieval.highlight import highlight
from tracuu.settings import Settings
from tracuu.text.lang import detect_query_language
from tracuu.text.normalise import fold
from tracuu.text.restore import RESTORE_FILE, ToneModel

FUSION_DEPTH = 100  # candidates per leg whose scores set the normalisation (more are fetched when k asks)
COLLAPSE_SLACK = 20
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


class ModelMismatch(RuntimeError):
    """The index was built with another embedding model than the one offered to search it."""


@dataclass
class Candidate:
    id: int
    score: float


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
        self.index = ann.open_vector_index(self.version_dir)
        self.store = Store(self.version_dir / STORE_FILE)
        self.lexical = LexicalIndex(self.version_dir)
        self.tones = ToneModel.load(self.version_dir / RESTORE_FILE)
        # A version never changes, so the ids a filter allows are looked up once (SQLite returning 100k+ ids
        # took most of a filtered search at 1M passages).
        self._filtered_ids = _cached_filter_lookup(self.store)

    @property
    def version(self) -> str:
        return self.version_dir.name

    def close(self) -> None:
        self.store.close()

    def search(self, params: SearchParams) -> SearchResult:
        started = time.perf_counter()
        interpreted = None if params.exact else self.tones.restore(params.q)
        query = interpreted or params.q
        query_lang = detect_query_language(params.q, restored=interpreted is not None)
        allowed = self._allowed_ids(params)
        depth = params.k * 2 + COLLAPSE_SLACK  # room to drop copies and still return k hits
        candidates = self._rank(query, params.mode, depth, allowed)
        kept = _collapse_copies(candidates, self.store.passages([c.id for c in candidates]), params.k)
        copies = self.store.copies(row.dup_group for _, row in kept)
        marked = f"{params.q} {interpreted}" if interpreted else params.q
        hits = [
            self._hit(rank, candidate, row, marked, copies.get(row.dup_group, []))
            for rank, (candidate, row) in enumerate(kept, 1)
        ]
        return SearchResult(
            query=params.q,
            interpreted_query=interpreted,
            query_lang=query_lang,
            mode=params.mode,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            total=len(hits),
            hits=hits,
        )

    def _allowed_ids(self, params: SearchParams) -> np.ndarray | None:
        """Passage ids passing the filters, or None when no filter is set."""
        if not (params.source or params.date_from or params.date_to or params.lang):
            return None
        date_from = params.date_from.isoformat() if params.date_from else None
        date_to = params.date_to.isoformat() if params.date_to else None
        return self._filtered_ids(params.source, date_from, date_to, params.lang)

    def _rank(self, query: str, mode: str, depth: int, allowed: np.ndarray | None) -> list[Candidate]:
        """The best `depth` passages for `query` in `mode`."""
        if mode == "dense":
            return self._dense(query, depth, allowed)
        if mode == "lexical":
            return [Candidate(i, s) for i, s in self.lexical.search(query, depth, allowed)]
        leg_depth = max(FUSION_DEPTH, depth)
        vector = self._query_vector(query, allowed)
        dense = [(c.id, c.score) for c in self._nearest(vector, leg_depth, allowed)]
        lexical = self.lexical.search(query, leg_depth, allowed)

        def fuse(dense_leg: list[tuple[int, float]]) -> list[tuple[int, float]]:
            if self.fusion == "rrf":
                return reciprocal_rank_fusion([dense_leg, lexical], [1.0, 1.0])
            weights = [1.0 - LEXICAL_WEIGHT, LEXICAL_WEIGHT]
            return convex_fusion([dense_leg, lexical], weights, self.fusion, FUSION_DEPTH)

        fused = fuse(dense)
        if self.feedback > 0 and vector is not None and fused:
            first = fused[0][0]
            candidates = [first, *(pid for pid, _ in dense + lexical[:FEEDBACK_LEXICAL_DEPTH])]
            moved = self._feedback_leg(vector, first, candidates)
            fused = fuse(moved) if moved else fused
        return [Candidate(i, s) for i, s in fused[:depth]]

    def _query_vector(self, query: str, allowed: np.ndarray | None) -> np.ndarray | None:
        """The query's embedding, or None when no passage could match (empty index or filter): not embedded."""
        if self.index.ntotal == 0 or (allowed is not None and len(allowed) == 0):
            return None
        return self._encode_query(query)

    def _dense(self, query: str, k: int, allowed: np.ndarray | None) -> list[Candidate]:
        """Nearest passages to the query's embedding."""
        return self._nearest(self._query_vector(query, allowed), k, allowed)

    def _nearest(self, vector: np.ndarray | None, k: int, allowed: np.ndarray | None) -> list[Candidate]:
        """Nearest passages to a query vector (None: nothing to search); filters are applied inside FAISS so
        no hit is lost to them."""
        if vector is None:
            return []
        depth = min(k, self.index.ntotal if allowed is None else len(allowed))
        scores, ids = self.index.search(vector.reshape(1, -1), depth, allowed=allowed)
        return [Candidate(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

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
        return [(int(ids[i]), float(scores[i])) for i in order]

    @staticmethod
    def _hit(rank: int, candidate: Candidate, row: PassageRow, query: str, copies: list[tuple]) -> Hit:
        return Hit(
            rank=rank,
            score=round(candidate.score, 4),
            doc_id=row.doc_id,
            chunk_id=f"{row.doc_id}#{row.chunk_no}",
            title=row.title,
            source=row.source,
            url=row.url,
            published=row.published,
            author=row.author,
            lang=row.lang,
            text=row.text,
            snippet=highlight(row.text, query),
            start=row.start,
            end=row.end,
            also_published=[
                AlsoPublished(doc_id=d, source=src, published=pub) for d, src, pub in copies if d != row.doc_id
            ],
        )


def _collapse_copies(
    candidates: list[Candidate], rows: dict[int, PassageRow], k: int
) -> list[tuple[Candidate, PassageRow]]:
    """One article per duplicate group, and never the same passage text twice, best first.

    A group is shown by its canonical article (the original) when one of its passages is among
    the candidates, at the rank of the group's best passage; the copies go to `also_published`.
    """
    ranked = [(c, rows[c.id]) for c in candidates if c.id in rows]
    canonical_best: dict[str, tuple[Candidate, PassageRow]] = {}
    for candidate, row in ranked:
        if row.doc_id == row.dup_group:
            canonical_best.setdefault(row.dup_group, (candidate, row))
    shown_for_group: dict[str, str] = {}
    seen_texts: set[str] = set()
    kept: list[tuple[Candidate, PassageRow]] = []
    for candidate, row in ranked:
        if row.dup_group not in shown_for_group:
            group_score = candidate.score  # the group ranks where its best passage does
            candidate, row = canonical_best.get(row.dup_group, (candidate, row))
            candidate = Candidate(candidate.id, group_score)
            shown_for_group[row.dup_group] = row.doc_id
        elif shown_for_group[row.dup_group] != row.doc_id:
            continue
        text_key = fold(row.text).lower()
        if text_key in seen_texts:
            continue
        seen_texts.add(text_key)
        kept.append((candidate, row))
        if len(kept) == k:
            break
    return kept


def _cached_filter_lookup(store: Store) -> Callable[[str | None, str | None, str | None, str | None], np.ndarray]:
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
    """The model the index was built with, on the backend it was built with (vectors must match)."""
    name = model or manifest["model"]["name"]
    return Embedder.load(name, backend=backend_of(manifest["model"]), settings=settings)


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
