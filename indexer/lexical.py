"""BM25 over syllable tokens (see tracuu.tokens), written into each index version beside FAISS.

bm25s has no incremental update, so each version rebuilds it from the store's passage texts:
tokenising is cheap next to embedding, and the store already holds every passage.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from tracuu.tokens import document_tokens, query_tokens

LEXICAL_DIR = "lexical"
ROW_IDS = "row_ids.npy"
# Titles name what a passage is about; counting them twice lifted BM25 nDCG@10 on
# zalo-wikiqa-2019 from 0.828 to 0.842 (k1 and b changes moved it by under 0.005).
TITLE_WEIGHT = 2


def passage_tokens(title: str, text: str) -> list[str]:
    """A passage's tokens, its article title counted TITLE_WEIGHT times (a simple BM25F field boost)."""
    return document_tokens(title) * TITLE_WEIGHT + document_tokens(text)


def build_lexical(version_dir: Path, ids: Sequence[int], passages: Sequence[tuple[str, str]]) -> None:
    """Index (title, passage text) pairs under passage `ids`."""
    out = version_dir / LEXICAL_DIR
    out.mkdir()
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    corpus_tokens = [passage_tokens(title, text) for title, text in passages]
    if corpus_tokens:
        retriever.index(corpus_tokens, show_progress=False)
        retriever.save(str(out), show_progress=False)
    np.save(out / ROW_IDS, np.asarray(ids, dtype=np.int64))


class LexicalIndex:
    def __init__(self, version_dir: Path) -> None:
        path = version_dir / LEXICAL_DIR
        self.row_ids = np.load(path / ROW_IDS)
        self.retriever = bm25s.BM25.load(str(path), mmap=True, show_progress=False) if len(self.row_ids) else None
        self.vocab = self.retriever.vocab_dict if self.retriever else {}

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(passage id, BM25 score) best first; `allowed` restricts to those passage ids."""
        if self.retriever is None:
            return []
        tokens = [t for t in query_tokens(query) if t in self.vocab]
        if not tokens:
            return []
        mask = None
        if allowed is not None:
            mask = np.isin(self.row_ids, allowed).astype(np.float32)
        scores = self.retriever.get_scores(tokens, weight_mask=mask)
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.row_ids[r]), float(scores[r])) for r in top]
