"""The query side: load an index once, answer SearchRequests with ranked passages.

One result object serves every view: `tracuu search --json` prints it, `GET /api/search`
returns it, and the web page renders it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from indexer import ann, layout
from indexer.lexical import LexicalIndex
from indexer.store import STORE_FILE, PassageRow, Store
from search_api.fusion import reciprocal_rank_fusion
from search_api.highlight import highlight
from search_api.params import SearchRequest
from tracuu.lang import detect_language
from tracuu.restore import RESTORE_FILE, ToneModel

if TYPE_CHECKING:
    from models.embedder import Embedder


FUSION_DEPTH = 100  # candidates taken from each leg before fusion
LEXICAL_WEIGHT_FOREIGN = 0.2  # an English query is served mainly by the multilingual dense leg


class ModelMismatch(RuntimeError):
    """The index was built with another embedding model than the one offered to search it."""


@dataclass
class Candidate:
    id: int
    score: float


class Searcher:
    """An opened index version plus the model that embeds queries for it."""

    def __init__(self, index_dir: Path, embedder: Embedder | None = None, model: str | None = None) -> None:
        self.index_dir = index_dir
        self.version_dir = layout.current_version(index_dir)
        self.manifest = layout.read_manifest(self.version_dir)
        self.embedder = embedder or _load_embedder(self.manifest, model)
        _check_model(self.manifest, self.embedder, self.index_dir)
        self.index = ann.load_index(self.version_dir)
        self.store = Store(self.version_dir / STORE_FILE)
        self.lexical = LexicalIndex(self.version_dir)
        self.tones = ToneModel.load(self.version_dir / RESTORE_FILE)

    @property
    def version(self) -> str:
        return self.version_dir.name

    def close(self) -> None:
        self.store.close()

    def search(self, request: SearchRequest) -> dict[str, Any]:
        started = time.perf_counter()
        interpreted = None if request.exact else self.tones.restore(request.query)
        query = interpreted or request.query
        query_lang = "vi" if interpreted else detect_language(request.query)
        allowed = self._allowed_ids(request)
        candidates = self._rank(query, request, allowed, query_lang)
        rows = self.store.passages([c.id for c in candidates])
        marked = f"{request.query} {interpreted}" if interpreted else request.query
        hits = [self._hit(rank, c, rows[c.id], marked) for rank, c in enumerate(candidates, 1) if c.id in rows]
        return {
            "query": request.query,
            "interpreted_query": interpreted,
            "query_lang": query_lang,
            "mode": request.mode,
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
            "total": len(hits),
            "hits": hits,
        }

    def _allowed_ids(self, request: SearchRequest) -> np.ndarray | None:
        """Passage ids passing the filters, or None when no filter is set."""
        if not (request.source or request.date_from or request.date_to or request.lang):
            return None
        ids = self.store.filtered_ids(request.source, request.date_from, request.date_to, request.lang)
        return np.asarray(ids, dtype=np.int64)

    def _rank(
        self, query: str, request: SearchRequest, allowed: np.ndarray | None, query_lang: str | None
    ) -> list[Candidate]:
        if request.mode == "dense":
            return self._dense(query, request.k, allowed)
        if request.mode == "lexical":
            return [Candidate(i, s) for i, s in self.lexical.search(query, request.k, allowed)]
        depth = max(FUSION_DEPTH, request.k)
        dense = [(c.id, c.score) for c in self._dense(query, depth, allowed)]
        lexical = self.lexical.search(query, depth, allowed)
        lexical_weight = LEXICAL_WEIGHT_FOREIGN if query_lang not in (None, "vi") else 1.0
        fused = reciprocal_rank_fusion([dense, lexical], [1.0, lexical_weight])
        return [Candidate(i, s) for i, s in fused[: request.k]]

    def _dense(self, query: str, k: int, allowed: np.ndarray | None) -> list[Candidate]:
        """Nearest passages; filters are applied inside FAISS so no hit is lost to them."""
        if self.index.ntotal == 0 or (allowed is not None and len(allowed) == 0):
            return []
        vector = self.embedder.encode_query(query).reshape(1, -1).astype(np.float32)
        depth = min(k, self.index.ntotal if allowed is None else len(allowed))
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
        scores, ids = self.index.search(vector, depth, params=params)
        return [Candidate(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    @staticmethod
    def _hit(rank: int, candidate: Candidate, row: PassageRow, query: str) -> dict[str, Any]:
        return {
            "rank": rank,
            "score": round(candidate.score, 4),
            "doc_id": row.doc_id,
            "chunk_id": f"{row.doc_id}#{row.chunk_no}",
            "title": row.title,
            "source": row.source,
            "url": row.url,
            "published": row.published,
            "author": row.author,
            "lang": row.lang,
            "text": row.text,
            "snippet": highlight(row.text, query),
            "start": row.start,
            "end": row.end,
        }


def _load_embedder(manifest: dict[str, Any], model: str | None) -> Embedder:
    from models.embedder import Embedder

    return Embedder.load(model or manifest["model"]["name"])


def _check_model(manifest: dict[str, Any], embedder: Embedder, index_dir: Path) -> None:
    built, offered = manifest["model"], embedder.identity
    if built != offered:
        raise ModelMismatch(
            f"{index_dir}: index was built with model {built.get('name')!r} "
            f"({built.get('revision_or_checksum', '?')[:12]}, dim {built.get('dim')}), "
            f"not {offered.get('name')!r} ({offered.get('revision_or_checksum', '?')[:12]}, dim {offered.get('dim')}); "
            "re-index with this model or search with the index's own"
        )
