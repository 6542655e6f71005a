"""BM25 over syllable tokens (see tracuu.text.tokens), written into each index version beside FAISS.

bm25s has no incremental update, so each version rebuilds it from the store's passage texts:
tokenising is cheap next to embedding, and the store already holds every passage.

The build streams: bm25s's own `index()` holds every passage's token list in Python lists, which
passed 18 GB at a million passages. Here each block of passages is reduced to (token id, term
frequency) arrays spooled to disk, and a second pass over the spool fills the score matrix straight
into memory-mapped files; memory holds the vocabulary and one block. The files are bm25s's own
(`bm25s.BM25.load` reads them) and the scores are the ones bm25s computes (tests/test_lexical.py).
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from tracuu.text.tokens import document_tokens, query_tokens

LEXICAL_DIR = "lexical"
ROW_IDS = "row_ids.npy"
# Titles name what a passage is about; counting them twice lifted BM25 nDCG@10 on
# zalo-wikiqa-2019 from 0.828 to 0.842 (k1 and b changes moved it by under 0.005).
TITLE_WEIGHT = 2
K1, B = 1.2, 0.75
BLOCK_PASSAGES = 20_000  # passages tokenised per spooled block
# bm25s's file names, so that bm25s.BM25.load reads the index
DATA, INDICES, INDPTR = "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"
VOCAB, PARAMS = "vocab.index.json", "params.index.json"


def passage_tokens(title: str, text: str) -> list[str]:
    """A passage's tokens, its article title counted TITLE_WEIGHT times (a simple BM25F field boost)."""
    return document_tokens(title) * TITLE_WEIGHT + document_tokens(text)


def build_lexical(version_dir: Path, ids: Sequence[int], passages: Iterable[tuple[str, str]]) -> None:
    """Index (title, passage text) pairs under passage `ids`, in bounded memory."""
    out = version_dir / LEXICAL_DIR
    out.mkdir()
    np.save(out / ROW_IDS, np.asarray(ids, dtype=np.int64))
    spool = out / ".spool"
    spool.mkdir()
    vocab: dict[str, int] = {}
    blocks = _spool_blocks(passages, vocab, spool)
    if blocks:
        _write_scores(out, spool, blocks, len(vocab))
        (out / VOCAB).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(spool)


def _spool_blocks(passages: Iterable[tuple[str, str]], vocab: dict[str, int], spool: Path) -> list[Path]:
    """Pass 1: per block, each passage's distinct token ids, their frequencies and the passage lengths."""
    blocks: list[Path] = []
    iterator = iter(passages)
    while block := list(itertools.islice(iterator, BLOCK_PASSAGES)):
        token_ids: list[int] = []
        freqs: list[int] = []
        distinct = np.empty(len(block), dtype=np.int64)
        lengths = np.empty(len(block), dtype=np.float64)
        for d, (title, text) in enumerate(block):
            tokens = passage_tokens(title, text)
            counts = Counter(tokens)
            token_ids.extend(vocab.setdefault(t, len(vocab)) for t in counts)
            freqs.extend(counts.values())
            distinct[d], lengths[d] = len(counts), len(tokens)
        path = spool / f"{len(blocks):06d}.npz"
        np.savez(
            path,
            token_ids=np.asarray(token_ids, dtype=np.int32),
            freqs=np.asarray(freqs, dtype=np.float32),
            distinct=distinct,
            lengths=lengths,
        )
        blocks.append(path)
    return blocks


def _write_scores(out: Path, spool: Path, blocks: list[Path], n_vocab: int) -> None:
    """Pass 2: the CSC score matrix (one column per token) in bm25s's layout and scoring (Lucene BM25)."""
    doc_freq = np.zeros(n_vocab, dtype=np.int64)
    n_docs, total_length = 0, 0.0
    for path in blocks:
        with np.load(path) as block:
            doc_freq += np.bincount(block["token_ids"], minlength=n_vocab)
            n_docs += len(block["lengths"])
            total_length += float(block["lengths"].sum())
    avg_length = total_length / n_docs
    idf = np.log(1.0 + (n_docs - doc_freq + 0.5) / (doc_freq + 0.5)).astype(np.float32)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(doc_freq, out=indptr[1:])
    nnz = int(indptr[-1])
    data = np.lib.format.open_memmap(out / DATA, mode="w+", dtype=np.float32, shape=(nnz,))
    indices = np.lib.format.open_memmap(out / INDICES, mode="w+", dtype=np.int32, shape=(nnz,))
    cursor = indptr[:-1].copy()
    first_doc = 0
    for path in blocks:
        with np.load(path) as block:
            token_ids, freqs, distinct, lengths = (block[k] for k in ("token_ids", "freqs", "distinct", "lengths"))
        docs = np.repeat(np.arange(first_doc, first_doc + len(distinct), dtype=np.int32), distinct)
        norm = K1 * (1.0 - B + B * np.repeat(lengths, distinct) / avg_length)
        scores = idf[token_ids] * (freqs / (freqs + norm)).astype(np.float32)
        order = np.argsort(token_ids, kind="stable")  # by token, documents in order within a token
        sorted_ids = token_ids[order]
        tokens, starts, counts = np.unique(sorted_ids, return_index=True, return_counts=True)
        positions = cursor[sorted_ids] + (np.arange(len(order)) - np.repeat(starts, counts))
        data[positions] = scores[order]
        indices[positions] = docs[order]
        cursor[tokens] += counts
        first_doc += len(distinct)
    data.flush()
    indices.flush()
    del data, indices
    np.save(out / INDPTR, indptr)
    import bm25s  # only to write its parameters: searching reads the files with numpy alone

    defaults = bm25s.BM25(k1=K1, b=B)
    params = {
        "k1": K1, "b": B, "delta": defaults.delta, "method": defaults.method, "idf_method": defaults.idf_method,
        "dtype": defaults.dtype, "int_dtype": defaults.int_dtype, "num_docs": n_docs,
        "version": bm25s.__version__, "backend": defaults.backend,
    }  # fmt: skip
    (out / PARAMS).write_text(json.dumps(params, indent=4), encoding="utf-8")


class LexicalIndex:
    """A version's BM25 index, memory-mapped; scores a query by adding its tokens' score columns."""

    def __init__(self, version_dir: Path) -> None:
        path = version_dir / LEXICAL_DIR
        self.row_ids = np.load(path / ROW_IDS)
        self.n_docs = len(self.row_ids)
        self.vocab: dict[str, int] = {}
        if self.n_docs and (path / VOCAB).exists():
            self.vocab = json.loads((path / VOCAB).read_text(encoding="utf-8"))
            self.data = np.load(path / DATA, mmap_mode="r")
            self.indices = np.load(path / INDICES, mmap_mode="r")
            self.indptr = np.load(path / INDPTR)
        self.sorted_ids = bool(np.all(np.diff(self.row_ids) > 0))

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every passage row (a repeated token counts again, as in bm25s)."""
        scores = np.zeros(self.n_docs, dtype=np.float32)
        for token in tokens:
            column = self.vocab[token]
            start, end = self.indptr[column], self.indptr[column + 1]
            scores[self.indices[start:end]] += self.data[start:end]  # a column lists each passage once
        return scores

    def document_frequency(self, token: str) -> int:
        """Passages holding `token` (0 when unknown): the length of its score column."""
        column = self.vocab.get(token)
        return 0 if column is None else int(self.indptr[column + 1] - self.indptr[column])

    def rows_of(self, allowed: np.ndarray) -> np.ndarray:
        """Rows of the allowed passage ids (ids without a row are ignored)."""
        allowed = np.asarray(allowed, dtype=np.int64)
        if not self.sorted_ids:
            return np.flatnonzero(np.isin(self.row_ids, allowed))
        rows = np.searchsorted(self.row_ids, allowed)
        inside = rows < self.n_docs
        rows, allowed = rows[inside], allowed[inside]
        return rows[self.row_ids[rows] == allowed]

    def score_query(self, query: str) -> np.ndarray | None:
        """BM25 score of every passage row for `query` (None when no query token is in the vocabulary)."""
        tokens = [t for t in query_tokens(query) if t in self.vocab]
        return self.scores(tokens) if tokens else None

    def score_plan(self, query: str, tokens: Sequence[str] | None) -> np.ndarray | None:
        """`score_query(query)`, or the given tokens' scores when a query plan chose them (None when empty)."""
        if tokens is None:
            return self.score_query(query)
        return self.scores(tokens) if tokens else None

    def matching_ids(self, scores: np.ndarray | None) -> np.ndarray:
        """Passage ids (sorted) that share at least one token with the query: what the lexical leg matches."""
        if scores is None:
            return np.zeros(0, dtype=np.int64)
        return np.sort(self.row_ids[np.flatnonzero(scores)])

    def top(self, scores: np.ndarray | None, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(passage id, BM25 score) best first from `score_query`'s scores; `allowed` restricts to those ids."""
        if scores is None or k <= 0:
            return []
        if allowed is not None:
            keep = np.zeros(self.n_docs, dtype=bool)
            keep[self.rows_of(allowed)] = True
            scores = np.where(keep, scores, np.float32(0.0))
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.row_ids[r]), float(scores[r])) for r in top]

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(passage id, BM25 score) best first; `allowed` restricts to those passage ids."""
        return self.top(self.score_query(query), k, allowed)


__all__ = ["build_lexical", "LexicalIndex", "passage_tokens", "LEXICAL_DIR"]
