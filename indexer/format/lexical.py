"""BM25 over syllable tokens (see tracuu.text.tokens): per-segment term-frequency postings, scored at query time.

An index version is several immutable segments plus a set of deleted passage ids. Precomputed BM25 scores
cannot be combined across segments (idf and the average passage length belong to one index), so each
segment stores raw term frequencies and passage lengths, and `LexicalIndex` scores a query with global
statistics over the live passages of all its segments: searching segments A + B with some passages deleted
scores exactly as one index built from the live passages alone (tests/test_lexical.py), and both score as
bm25s does (Lucene BM25).

The build streams: bm25s's own `index()` holds every passage's token list in Python lists, which passed
18 GB at a million passages. Here each block of passages is reduced to (token id, term frequency) arrays
spooled to disk, and a second pass over the spool fills the postings straight into memory-mapped files;
memory holds the vocabulary and one block. `merge_lexical` writes one segment from others without
re-tokenising, a bounded range of postings at a time.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence, Set
from dataclasses import dataclass
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
MERGE_POSTINGS = 1 << 22  # postings copied per step of a merge
COUNT_POSTINGS = 1 << 22  # postings read per step when warm_up counts a segment's live postings (`_live_counts`)
VOCAB, INDPTR, INDICES, FREQS, LENGTHS = "vocab.json", "indptr.npy", "indices.npy", "freqs.npy", "lengths.npy"
# Per column, the largest tf / (tf + norm) of its postings at the segment's own mean length: an upper bound on
# any posting's BM25 term score that lets top-k retrieval skip postings (MaxScore). Optional: a segment written
# before it existed is read with the bound 1, which is always valid, just looser.
BOUNDS = "bounds.npy"
BOUND_POSTINGS = 1 << 24  # postings per step when computing the bounds
# A query token held by more than this share of the live passages (and more than COMMON_MIN of them) is
# "common" (Lucene's common-terms query, cutoff_frequency): it adds to the score of the passages that match,
# but does not make a passage match on its own. Visiting every passage that shares "của" or "việt" with the
# query cost 370 ms at 1M passages, and such a passage is no answer to it (docs/performance.md).
COMMON_FRACTION = 0.01
COMMON_MIN = 2_000
SEED = 4  # passages per wanted one scored to find a first k-th best score (`LexicalIndex._seed_floor`)
SLACK = 1e-5  # relative margin of the pruning tests: partial sums add in another order than the final score
# Neighbouring segments with at most this many postings in all are searched as one (`_join_small`), joined in
# memory when a version is opened (about 0.1 s per million postings).
JOIN_POSTINGS = 1 << 21
# From this many rows on, the top k is taken by compiled loops (lexical_topk.py, numba), a candidate at a time;
# below, numpy's term-at-a-time pass is about as fast and a one-off search does not load numba (0.3 s) or
# compile (seconds, once per machine) for it. A warmed-up index (a server's) takes the compiled loops at any
# size: they release the interpreter lock, which a server's request threads share.
COMPILED_MIN_ROWS = 50_000
OLD_VOCAB = "vocab.index.json"  # the single-index bm25s layout this one replaced


def passage_tokens(title: str, text: str) -> list[str]:
    """A passage's tokens, its article title counted TITLE_WEIGHT times (a simple BM25F field boost)."""
    return document_tokens(title) * TITLE_WEIGHT + document_tokens(text)


def build_lexical(segment_dir: Path, ids: Sequence[int], passages: Iterable[tuple[str, str]]) -> None:
    """Index (title, passage text) pairs under passage `ids` into `segment_dir/lexical/`, in bounded memory."""
    out = segment_dir / LEXICAL_DIR
    out.mkdir()
    np.save(out / ROW_IDS, np.asarray(ids, dtype=np.int64))
    spool = out / ".spool"
    spool.mkdir()
    vocab: dict[str, int] = {}
    blocks = _spool_blocks(passages, vocab, spool)
    _write_postings(out, blocks, len(vocab))
    _write_vocab(out, vocab)
    shutil.rmtree(spool)


def _spool_blocks(passages: Iterable[tuple[str, str]], vocab: dict[str, int], spool: Path) -> list[Path]:
    """Pass 1: per block, each passage's distinct token ids, their frequencies and the passage lengths."""
    blocks: list[Path] = []
    iterator = iter(passages)
    while block := list(itertools.islice(iterator, BLOCK_PASSAGES)):
        token_ids: list[int] = []
        freqs: list[int] = []
        distinct = np.empty(len(block), dtype=np.int64)
        lengths = np.empty(len(block), dtype=np.float32)
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


def _write_postings(out: Path, blocks: list[Path], n_vocab: int) -> None:
    """Pass 2: the CSC term-frequency matrix (one column per token, rows ascending) and the row lengths."""
    doc_freq = np.zeros(n_vocab, dtype=np.int64)
    n_rows = 0
    for path in blocks:
        with np.load(path) as block:
            doc_freq += np.bincount(block["token_ids"], minlength=n_vocab)
            n_rows += len(block["lengths"])
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(doc_freq, out=indptr[1:])
    indices, freqs, lengths = _open_postings(out, int(indptr[-1]), n_rows)
    cursor = indptr[:-1].copy()
    first_row = 0
    for path in blocks:
        with np.load(path) as block:
            token_ids, tf, distinct, block_lengths = (block[k] for k in ("token_ids", "freqs", "distinct", "lengths"))
        rows = np.repeat(np.arange(first_row, first_row + len(distinct), dtype=np.int32), distinct)
        order = np.argsort(token_ids, kind="stable")  # by token, rows in order within a token
        sorted_ids = token_ids[order]
        tokens, starts, counts = np.unique(sorted_ids, return_index=True, return_counts=True)
        positions = cursor[sorted_ids] + (np.arange(len(order)) - np.repeat(starts, counts))
        freqs[positions] = tf[order]
        indices[positions] = rows[order]
        cursor[tokens] += counts
        lengths[first_row : first_row + len(distinct)] = block_lengths
        first_row += len(distinct)
    _close_postings(out, indptr, indices, freqs, lengths)


def _open_postings(out: Path, nnz: int, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Memory-mapped `indices`, `freqs` (nnz entries each) and `lengths` (n_rows) to fill."""
    indices = np.lib.format.open_memmap(out / INDICES, mode="w+", dtype=np.int32, shape=(nnz,))
    freqs = np.lib.format.open_memmap(out / FREQS, mode="w+", dtype=np.float32, shape=(nnz,))
    lengths = np.lib.format.open_memmap(out / LENGTHS, mode="w+", dtype=np.float32, shape=(n_rows,))
    return indices, freqs, lengths


def _close_postings(out: Path, indptr: np.ndarray, indices: np.ndarray, freqs: np.ndarray, lengths: np.ndarray) -> None:
    for array in (indices, freqs, lengths):
        array.flush()  # type: ignore[attr-defined]  # memmaps from _open_postings
    np.save(out / INDPTR, indptr)
    np.save(out / BOUNDS, column_bounds(indptr, indices, freqs, lengths))


def column_bounds(indptr: np.ndarray, indices: np.ndarray, freqs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per column, max tf / (tf + K1 (1 - B + B len / mean len)) over its postings, the mean over the segment's
    rows (what `_Segment.mean_length` recomputes). Under another mean A the same max is at most this times
    max(1, A / mean) (`LexicalIndex._bounds`), so the bound holds for any version the segment is part of."""
    n_columns = len(indptr) - 1
    bounds = np.zeros(n_columns, dtype=np.float32)
    norm = K1 * (1.0 - B + B * np.asarray(lengths, dtype=np.float32) / np.float32(_mean_length(lengths)))
    first = 0
    while first < n_columns:  # a bounded range of postings at a time (memory-mapped at 1M passages)
        last = int(np.searchsorted(indptr, indptr[first] + BOUND_POSTINGS, side="right")) - 1
        last = min(max(last, first + 1), n_columns)
        start, end = int(indptr[first]), int(indptr[last])
        if end > start:
            tf = np.asarray(freqs[start:end], dtype=np.float32)
            ratio = tf / (tf + norm[indices[start:end]])
            starts = indptr[first:last] - start
            filled = indptr[first + 1 : last + 1] > indptr[first:last]  # reduceat needs non-empty columns
            bounds[first:last][filled] = np.maximum.reduceat(ratio, starts[filled])
        first = last
    return bounds


def _mean_length(lengths: np.ndarray) -> float:
    """The mean of a segment's passage lengths, as its bounds were computed with (1 for an empty segment)."""
    total = float(np.asarray(lengths).sum(dtype=np.float64))
    return total / len(lengths) if len(lengths) and total else 1.0


def _write_vocab(out: Path, vocab: dict[str, int]) -> None:
    (out / VOCAB).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")


def merge_lexical(segment_dir: Path, parts: Sequence[tuple[Path, np.ndarray]]) -> None:
    """Write `segment_dir/lexical/` from existing segments without re-tokenising.

    `parts`: (segment directory, boolean keep-mask over its rows). The kept rows follow in part order, then
    row order; the vocabulary is the union of the parts' tokens that keep a posting. Scores as `build_lexical`
    over the kept passages would (the column order may differ).
    """
    out = segment_dir / LEXICAL_DIR
    out.mkdir()
    sources = [(_Segment(path / LEXICAL_DIR, 0), np.asarray(keep, dtype=bool)) for path, keep in parts]
    for segment, keep in sources:
        if keep.shape != segment.row_ids.shape:
            raise ValueError(f"keep-mask of {len(keep)} rows for a segment of {len(segment.row_ids)}")
    union: dict[str, int] = {}
    columns = [_column_map(segment.vocab, union) for segment, _ in sources]
    # pass 1: kept postings per column of the union
    doc_freq = np.zeros(len(union), dtype=np.int64)
    for (segment, keep), column_map in zip(sources, columns, strict=True):
        for first, last, kept in _kept_chunks(segment, keep):
            doc_freq[column_map[first:last]] += _per_column(segment.indptr[first : last + 1], kept)  # distinct
    live = doc_freq > 0
    final = np.cumsum(live) - 1  # union column -> output column
    indptr = np.zeros(int(live.sum()) + 1, dtype=np.int64)
    np.cumsum(doc_freq[live], out=indptr[1:])
    row_ids = np.concatenate([np.zeros(0, np.int64)] + [s.row_ids[keep] for s, keep in sources])
    np.save(out / ROW_IDS, row_ids)
    indices, freqs, lengths = _open_postings(out, int(indptr[-1]), len(row_ids))
    # pass 2: copy the kept postings, renumbering rows and columns
    cursor = indptr[:-1].copy()
    first_row = 0
    for (segment, keep), column_map in zip(sources, columns, strict=True):
        new_row = (np.cumsum(keep) - 1 + first_row).astype(np.int32)
        for first, last, kept in _kept_chunks(segment, keep):
            start = segment.indptr[first]
            counts = _per_column(segment.indptr[first : last + 1], kept)
            targets = final[column_map[first:last]][counts > 0]
            counts = counts[counts > 0]
            rank = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            positions = np.repeat(cursor[targets], counts) + rank
            chosen = start + np.flatnonzero(kept)
            indices[positions] = new_row[segment.indices[chosen]]
            freqs[positions] = segment.freqs[chosen]
            cursor[targets] += counts
        n_kept = int(keep.sum())
        lengths[first_row : first_row + n_kept] = segment.lengths[keep]
        first_row += n_kept
    _close_postings(out, indptr, indices, freqs, lengths)
    tokens = [token for token, column in union.items() if live[column]]
    _write_vocab(out, {token: int(final[union[token]]) for token in tokens})


def _column_map(vocab: dict[str, int], union: dict[str, int]) -> np.ndarray:
    """Each column of a segment's vocabulary -> its column in `union` (which gains the tokens it lacked)."""
    column_map = np.zeros(len(vocab), dtype=np.int64)
    for token, column in vocab.items():
        column_map[column] = union.setdefault(token, len(union))
    return column_map


def _kept_chunks(segment: _Segment, keep: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """(first column, end column, whether each posting of those columns is kept), MERGE_POSTINGS at a time."""
    indptr, n_columns = segment.indptr, len(segment.indptr) - 1
    first = 0
    while first < n_columns:
        last = int(np.searchsorted(indptr, indptr[first] + MERGE_POSTINGS, side="right")) - 1
        last = min(max(last, first + 1), n_columns)  # at least one column, however long
        yield first, last, keep[segment.indices[indptr[first] : indptr[last]]]
        first = last


def _per_column(indptr: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Kept postings of each column of a chunk (`indptr`: its columns' bounds; `kept`: its postings)."""
    running = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
    bounds = indptr - indptr[0]
    return running[bounds[1:]] - running[bounds[:-1]]


class _VocabDict(dict[str, int]):
    """A segment's vocabulary: a dict that can be weakly referenced (shared while some index uses it)."""


_VOCABS: weakref.WeakValueDictionary[tuple[int, ...], _VocabDict] = weakref.WeakValueDictionary()
_VOCABS_LOCK = threading.Lock()


def _load_vocab(path: Path) -> _VocabDict:
    """The vocabulary file, parsed once per process while an index holds it: a new version hard-links the
    unchanged segments, so a live reload re-uses their vocabularies (the largest took 1.3 s to parse on
    vi-news) instead of parsing them again and holding two copies."""
    stat = path.stat()
    key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _VOCABS_LOCK:
        vocab = _VOCABS.get(key)
    if vocab is None:
        vocab = _VocabDict(json.loads(path.read_text(encoding="utf-8")))
        with _VOCABS_LOCK:
            vocab = _VOCABS.setdefault(key, vocab)
    return vocab


class _Segment:
    """One segment's lexical files, memory-mapped; `offset`: its first row in the index's row space."""

    def __init__(self, path: Path, offset: int) -> None:
        if not (path / VOCAB).exists() and (path / OLD_VOCAB).exists():
            raise ValueError(f"{path} holds the old precomputed-score BM25 format: rebuild the index")
        self.offset = offset
        self.number = 0  # its place among the index's segments (LexicalIndex sets it)
        self.row_ids = np.load(path / ROW_IDS)
        self.vocab: dict[str, int] = _load_vocab(path / VOCAB)
        self.indptr = np.load(path / INDPTR)
        # plain views of the memory maps: slicing a np.memmap costs more than the slice's arithmetic
        self.indices = np.load(path / INDICES, mmap_mode="r").view(np.ndarray)
        self.indices_file: Path | None = path / INDICES  # None: built in memory (`joined`)
        self.freqs = np.load(path / FREQS, mmap_mode="r").view(np.ndarray)
        self.lengths = np.load(path / LENGTHS, mmap_mode="r").view(np.ndarray)
        self.live: np.ndarray | None = None  # whether each row is live; None: all are
        bounds = path / BOUNDS
        self.bounds = np.load(bounds) if bounds.exists() else None  # see column_bounds; None: bound 1
        self.mean_length = _mean_length(self.lengths)

    @classmethod
    def joined(cls, parts: Sequence[_Segment]) -> _Segment:
        """Neighbouring segments (consecutive in the row space) as one, built in memory: the postings of each
        token in part order, so rows stay ascending and every score is the one the parts give."""
        union: dict[str, int] = {}
        columns = [_column_map(part.vocab, union) for part in parts]
        counts = [np.diff(part.indptr) for part in parts]
        doc_freq = np.zeros(len(union), dtype=np.int64)
        for column_map, count in zip(columns, counts, strict=True):
            doc_freq[column_map] += count
        indptr = np.zeros(len(union) + 1, dtype=np.int64)
        np.cumsum(doc_freq, out=indptr[1:])
        indices = np.empty(int(indptr[-1]), dtype=np.int32)
        freqs = np.empty(int(indptr[-1]), dtype=np.float32)
        cursor = indptr[:-1].copy()
        for part, column_map, count in zip(parts, columns, counts, strict=True):
            # each posting's place: where its token's postings from this part begin, plus its rank among them
            positions = np.repeat(cursor[column_map] - part.indptr[:-1], count) + np.arange(int(part.indptr[-1]))
            indices[positions] = np.asarray(part.indices) + (part.offset - parts[0].offset)
            freqs[positions] = part.freqs
            cursor[column_map] += count
        segment = cls.__new__(cls)
        segment.offset, segment.number, segment.live = parts[0].offset, 0, None
        segment.indices_file = None
        segment.row_ids = np.concatenate([part.row_ids for part in parts])
        segment.vocab = union
        segment.indptr, segment.indices, segment.freqs = indptr, indices, freqs
        segment.lengths = np.concatenate([np.asarray(part.lengths) for part in parts])
        segment.bounds = column_bounds(indptr, indices, freqs, segment.lengths)
        segment.mean_length = _mean_length(segment.lengths)
        return segment

    def holds(self, token: str) -> bool:
        """Does a live row of this segment hold the token?"""
        column = self.vocab.get(token)
        if column is None:
            return False
        if self.live is None:
            return True  # every column has a posting
        start, end = int(self.indptr[column]), int(self.indptr[column + 1])
        head = min(end, start + 32)  # a common token is settled by its first postings
        return bool(self.live[self.indices[start:head]].any() or self.live[self.indices[head:end]].any())


def _join_small(segments: list[_Segment]) -> list[_Segment]:
    """The segments with each run of small neighbours (JOIN_POSTINGS postings in all at most) joined into one
    in memory: a query looks each of its tokens up once per segment, and after a few small updates most of
    those lookups were in segments of a few hundred passages (docs/performance.md)."""
    out: list[_Segment] = []
    run: list[_Segment] = []

    def close_run() -> None:
        out.extend([_Segment.joined(run)] if len(run) > 1 else run)
        run.clear()

    for segment in segments:
        size = int(segment.indptr[-1])
        if size + sum(int(s.indptr[-1]) for s in run) > JOIN_POSTINGS:
            close_run()
        (run if size <= JOIN_POSTINGS else out).append(segment)
    close_run()
    return out


class Vocabulary(Set[str]):
    """The tokens of an index's segments that a live passage holds: read-only (`in`, `len`, iteration)."""

    def __init__(self, segments: Sequence[_Segment]) -> None:
        self._segments = segments
        self._size: int | None = None

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and any(s.holds(token) for s in self._segments)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for i, segment in enumerate(self._segments):
            for token in segment.vocab:
                if token in seen:
                    continue
                if segment.holds(token) or any(s.holds(token) for s in self._segments[i + 1 :]):
                    seen.add(token)
                    yield token

    def __len__(self) -> int:
        if self._size is None:
            self._size = sum(1 for _ in self)
        return self._size

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None


def _best(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best rows by score (ties by row), best first."""
    order = np.lexsort((rows, -scores))[:k]
    return rows[order], scores[order]


def _with(ids: np.ndarray, more: np.ndarray) -> np.ndarray:
    """The sorted unique `ids` with `more` (a few, any order) added: `np.union1d` without sorting `ids` again."""
    more = np.unique(more)
    more = more[~_in_sorted(ids, more)]
    return np.insert(ids, ids.searchsorted(more), more) if len(more) else ids


def _in_sorted(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Whether each needle is in the sorted haystack."""
    if not len(haystack):
        return np.zeros(len(needles), dtype=bool)
    at = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    return haystack[at] == needles


def _live_counts(segment: _Segment, live: np.ndarray) -> np.ndarray:
    """Every column's live postings in a segment with deletions. A segment on disk is read COUNT_POSTINGS at a time
    into one buffer rather than through its memory map, which would then hold a page of every posting: a server's
    resident memory would grow by postings no query reads (at a million passages, 0.2 GB and over issue 17's 2 GB)."""
    from indexer.format import lexical_topk

    counts = np.zeros(len(segment.indptr) - 1, dtype=np.int64)
    if segment.indices_file is None:
        lexical_topk.count_live(segment.indptr, 0, segment.indices, live, counts)
        return counts
    buffer = np.empty(min(COUNT_POSTINGS, len(segment.indices)), dtype=segment.indices.dtype)
    with segment.indices_file.open("rb") as f:
        major, _ = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        read_header(f)  # the postings follow it
        first = 0
        while first < len(segment.indices):
            block = buffer[: min(len(buffer), len(segment.indices) - first)]
            if f.readinto(block) != block.nbytes:  # type: ignore[arg-type]
                raise ValueError(f"{segment.indices_file}: shorter than its header says")
            lexical_topk.count_live(segment.indptr, first, block, live, counts)
            first += len(block)
    return counts


@dataclass(frozen=True)
class _Term:
    """A query token as `LexicalIndex.query` uses it."""

    weight: np.float32  # idf times the token's repeats in the query
    df: int  # live passages holding it
    slices: list[tuple[_Segment, int, int]]  # (segment, first posting, end) of each segment holding it
    bound: float  # no posting scores more than this for it


class _Plan:
    """A query's terms as the compiled loops take them: per segment, each term's postings [start, end) (empty
    where the segment holds none), with the weights and bounds, built once per query."""

    def __init__(self, index: LexicalIndex, terms: list[_Term]) -> None:
        self.position = {id(term): i for i, term in enumerate(terms)}
        self.everything = np.arange(len(terms))
        self.starts = np.zeros((len(index.segments), len(terms)), dtype=np.int64)
        self.ends = np.zeros((len(index.segments), len(terms)), dtype=np.int64)
        for i, term in enumerate(terms):
            for segment, start, end in term.slices:
                self.starts[segment.number, i], self.ends[segment.number, i] = start, end
        self.weights = np.asarray([t.weight for t in terms], dtype=np.float32)
        self.bounds = np.asarray([t.bound for t in terms], dtype=np.float64)

    def order(self, terms: list[_Term]) -> np.ndarray:
        """Positions of the given terms (some of the plan's), in the given order."""
        return np.asarray([self.position[id(t)] for t in terms], dtype=np.int64)

    def columns(self, segment: _Segment, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The terms at `order`: their postings in the segment, weights and bounds, in that order."""
        return (
            self.starts[segment.number, order],
            self.ends[segment.number, order],
            self.weights[order],
            self.bounds[order],
        )


class LexicalIndex:
    """BM25 over an index version's segments, memory-mapped: term-frequency postings scored at query time with
    global statistics (live passages, their mean length, each token's live document frequency).

    The row space is the segments' rows concatenated in the given order; `deleted` holds passage ids (sorted)
    that no longer exist: they never match and count in no statistic.
    """

    def __init__(self, segment_dirs: Sequence[Path], deleted: np.ndarray | None = None) -> None:
        if isinstance(segment_dirs, (str, Path)):
            raise TypeError("LexicalIndex takes a sequence of segment directories")
        offset = 0
        opened: list[_Segment] = []
        for directory in segment_dirs:
            opened.append(_Segment(Path(directory) / LEXICAL_DIR, offset))
            offset += len(opened[-1].row_ids)
        self.segments: list[_Segment] = _join_small(opened)
        for number, segment in enumerate(self.segments):
            segment.number = number
        self.n_rows = offset
        # each segment's first row, then the end: where a query's rows split by segment
        self._starts = np.asarray([*(s.offset for s in self.segments), offset], dtype=np.int64)
        self.row_ids = np.concatenate([np.zeros(0, np.int64)] + [s.row_ids for s in self.segments])
        lengths = np.concatenate([np.zeros(0, np.float32)] + [s.lengths for s in self.segments])
        deleted = np.zeros(0, np.int64) if deleted is None else np.asarray(deleted, dtype=np.int64)
        self.deleted_rows = np.flatnonzero(np.isin(self.row_ids, deleted))
        live = np.ones(self.n_rows, dtype=bool)
        live[self.deleted_rows] = False
        for segment in self.segments:
            rows = live[segment.offset : segment.offset + len(segment.row_ids)]
            segment.live = None if rows.all() else rows
        self.n_docs = self.n_rows - len(self.deleted_rows)
        total = float(lengths[live].sum(dtype=np.float64))
        self.avg_length = total / self.n_docs if self.n_docs and total else 1.0
        # the BM25 length normalisation of each row: its only use of the row's length
        self.norm = (K1 * (1.0 - B + B * lengths.astype(np.float64) / self.avg_length)).astype(np.float32)
        self.vocab = Vocabulary(self.segments)
        self.sorted_ids = bool(np.all(np.diff(self.row_ids) > 0))
        self.live_rows = live
        # a bound at a segment's own mean length holds at this version's mean once scaled (column_bounds)
        self._scales = [max(1.0, self.avg_length / s.mean_length) * (1.0 + SLACK) for s in self.segments]
        self._live_df: dict[tuple[int, int], int] = {}  # (segment, column) -> live postings, counted once
        self._live_columns: dict[int, np.ndarray] = {}  # segment -> every column's live postings (warm_up)
        self._warm = False  # warm_up has loaded the compiled loops
        self._deleted_local = [  # each segment's deleted rows in its own numbering (ascending)
            (self.deleted_rows[(self.deleted_rows >= lo) & (self.deleted_rows < hi)] - lo).astype(np.int32)
            for lo, hi in itertools.pairwise(self._starts.tolist())
        ]

    def _terms(self, tokens: Sequence[str]) -> list[_Term]:
        """The query's distinct tokens held by a live passage, in first-seen order (the order `scores` adds
        them in), each with its weight (idf times repeats), postings and score bound."""
        terms: list[_Term] = []
        for token, repeats in Counter(tokens).items():
            df, slices, bound = 0, [], 0.0
            for number, segment in enumerate(self.segments):
                column = segment.vocab.get(token)
                if column is None:
                    continue
                start, end = int(segment.indptr[column]), int(segment.indptr[column + 1])
                live = self._segment_df(number, column, start, end)
                if not live:
                    continue
                df += live
                slices.append((segment, start, end))
                column_bound = 1.0 if segment.bounds is None else float(segment.bounds[column])
                bound = max(bound, min(1.0, column_bound * self._scales[number]))
            if df:
                weight = np.float32(repeats * math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5)))
                terms.append(_Term(weight, df, slices, float(weight) * bound * (1.0 + SLACK)))
        return terms

    def _segment_df(self, number: int, column: int, start: int, end: int) -> int:
        """Live postings of a segment's column: counted once per version when the segment has deletions (for
        every column at once by `warm_up` on a large index)."""
        live = self.segments[number].live
        if live is None:
            return end - start
        counted = self._live_columns.get(number)
        if counted is not None:
            return int(counted[column])
        key = (number, column)
        count = self._live_df.get(key)
        if count is None:
            segment = self.segments[number]
            postings = segment.indices[start:end]
            deleted = self._deleted_local[number]
            if len(deleted) * 32 < len(postings):  # few deletions: look them up rather than visit every posting
                count = len(postings) - int(np.count_nonzero(_in_sorted(postings, deleted)))
            else:
                count = int(np.count_nonzero(live[postings]))
            self._live_df[key] = count  # a version never changes; a dict write is atomic under the GIL
        return count

    def query(
        self, tokens: Sequence[str], k: int, allowed: np.ndarray | None = None
    ) -> tuple[list[tuple[int, float]], np.ndarray]:
        """The best `k` passages (id, BM25 score) for the tokens, exactly `top(scores(tokens), k, allowed)`
        (the same scores to the bit, ties by row), and the query's matches (sorted passage ids).

        Matches, what `total` and the facets count: the passages holding one of the query's uncommon tokens
        (COMMON_FRACTION), or all of them when every token is common, plus the best `k` themselves (a passage
        holding only common tokens can rank among them). Nothing reads a common token's postings whole unless
        it must: the matches are scored first, a common token looked up only for those whose score so far
        plus the bounds of the common tokens not yet added can still reach the k-th best (MaxScore); then the
        passages holding common tokens only are visited only when those tokens' bounds add up to the k-th best
        score, and only through the tokens whose bounds must (MaxScore's essential terms). Survivors are scored
        again adding the tokens in `scores`' order. `allowed` restricts the ranked passages, not the matches.
        """
        terms = self._terms(tokens)
        if not terms:
            return [], np.zeros(0, dtype=np.int64)
        cutoff = max(COMMON_MIN, COMMON_FRACTION * self.n_docs)
        rare = [t for t in terms if t.df <= cutoff]
        common = [t for t in terms if t.df > cutoff]
        if rare:
            matched, partial = self._compiled_gather(rare) if self.compiled else self._gather(rare)
        else:  # every token is common: the passages holding all of them
            matched, partial = self._conjunction(terms)
        mask = None
        if allowed is not None:
            mask = np.zeros(self.n_rows, dtype=bool)
            mask[self.rows_of(allowed)] = True
        rows, scores = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if k > 0:
            top = self._compiled_top if self.compiled else self._numpy_top
            rows, scores = top(matched, partial, mask, common if rare else [], common if rare else terms, terms, k)
        ids = self.row_ids[matched] if self.sorted_ids else np.sort(self.row_ids[matched])
        matches = _with(ids, self.row_ids[rows])
        return list(zip(self.row_ids[rows].tolist(), scores.tolist(), strict=True)), matches

    def warm_up(self) -> None:
        """Have the compiled loops ready for this index's arrays (compiled once per machine, then loaded from
        numba's cache), so that the first query is as fast as the tenth, and take them from now on whatever the
        index's size: a server warms up, and there the loops matter beyond their speed, as they release the
        interpreter lock its request threads share (a search on zalo's 2,029 passages held it 0.4 ms less)."""
        from indexer.format import lexical_topk

        for segment in self.segments:
            lexical_topk.warm_up(segment.indices, segment.freqs, self.norm, self.live_rows)
            if segment.live is not None:  # every column's live postings at once (under a second at 1M passages)
                self._live_columns[segment.number] = _live_counts(segment, segment.live)
        self._warm = True

    @property
    def compiled(self) -> bool:
        """Is the top k taken by the compiled loops (warmed up, or COMPILED_MIN_ROWS)?"""
        return self._warm or self.n_rows >= COMPILED_MIN_ROWS

    def _numpy_top(
        self,
        matched: np.ndarray,
        partial: np.ndarray,
        mask: np.ndarray | None,
        lookups: list[_Term],
        pool: list[_Term],
        terms: list[_Term],
        k: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """`query`'s k best rows and their exact scores, a term at a time: the allowed matches (with the partial
        scores of the tokens that made them match) completed with the `lookups` tokens while they can still
        reach the k best (`_prune`), then the rows outside the matches holding `pool`'s tokens (`_outside`)."""
        keep = slice(None) if mask is None else mask[matched]
        rows = self._prune(matched[keep], partial[keep], lookups, k)
        scores = self._exact(rows, terms)
        rows, scores = _best(rows, scores, k)
        kth = float(scores[-1]) if len(rows) == k else 0.0
        if sum(t.bound for t in pool) >= kth * (1.0 - SLACK):  # else nothing outside can reach it anyway
            kth = max(kth, self._seed_floor(pool, terms, mask, k))
        outside = self._outside(matched, mask, pool, k, kth)
        if len(outside):
            rows, scores = _best(
                np.concatenate([rows, outside]), np.concatenate([scores, self._exact(outside, terms)]), k
            )
        return rows, scores

    def _compiled_top(
        self,
        matched: np.ndarray,
        partial: np.ndarray,
        mask: np.ndarray | None,
        lookups: list[_Term],
        pool: list[_Term],
        terms: list[_Term],
        k: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """What `_numpy_top` returns, by lexical_topk's compiled loops: each candidate completed a token at a
        time, highest bound first, and dropped at the first that cannot lift it to the k best so far."""
        from indexer.format import lexical_topk

        plan = _Plan(self, terms)
        keep = slice(None) if mask is None else mask[matched]
        candidates, partial = matched[keep], partial[keep]
        top = lexical_topk.TopK(k)
        by_bound = plan.order(sorted(lookups, key=lambda t: -t.bound))
        cut = candidates.searchsorted(self._starts)
        for segment in self.segments:
            lo, hi = int(cut[segment.number]), int(cut[segment.number + 1])
            if hi > lo:
                lexical_topk.score_candidates(
                    top, segment.indices, segment.freqs, segment.offset, candidates[lo:hi], partial[lo:hi],
                    *plan.columns(segment, by_bound), self.norm,
                )  # fmt: skip
        if sum(t.bound for t in pool) >= top.threshold() * (1.0 - SLACK):  # else no row outside can reach it
            if top.size < k:
                top.floor = self._seed_floor(pool, terms, mask, k)
            unread_first = plan.order(sorted(pool, key=lambda t: -t.df / t.bound))  # as `_outside` leaves them
            cut = matched.searchsorted(self._starts)
            for segment in self.segments:
                starts, ends, weights, bounds = plan.columns(segment, unread_first)
                if (ends > starts).any():
                    lexical_topk.score_outside(
                        top, segment.indices, segment.freqs, segment.offset,
                        matched[cut[segment.number] : cut[segment.number + 1]],
                        starts, ends, weights, bounds, self.norm, self.live_rows, mask,
                    )  # fmt: skip
        rows = top.candidates()
        scores = np.zeros(len(rows), dtype=np.float64)
        cut = rows.searchsorted(self._starts)
        for segment in self.segments:
            lo, hi = int(cut[segment.number]), int(cut[segment.number + 1])
            if hi > lo:
                starts, ends, weights, _ = plan.columns(segment, plan.everything)  # in query order, as `scores`
                scores[lo:hi] = lexical_topk.exact_scores(
                    segment.indices, segment.freqs, segment.offset, rows[lo:hi], starts, ends, weights, self.norm
                )
        return _best(rows, scores.astype(np.float32), k)

    def _compiled_gather(self, terms: list[_Term]) -> tuple[np.ndarray, np.ndarray]:
        """`_gather(terms)` by lexical_topk's compiled loops (the same rows; the partial sums in another order)."""
        from indexer.format import lexical_topk

        plan = _Plan(self, terms)
        parts = []
        for segment in self.segments:
            starts, ends, weights, _ = plan.columns(segment, plan.everything)
            if (ends > starts).any():
                parts.append(
                    lexical_topk.gather(
                        segment.indices,
                        segment.freqs,
                        segment.offset,
                        starts,
                        ends,
                        weights,
                        self.norm,
                        self.live_rows,
                    )  # fmt: skip
                )
        if len(parts) == 1:
            return parts[0]
        return (
            np.concatenate([np.zeros(0, np.int64)] + [rows for rows, _ in parts]),
            np.concatenate([np.zeros(0, np.float64)] + [partial for _, partial in parts]),
        )

    def _seed_floor(self, pool: list[_Term], terms: list[_Term], mask: np.ndarray | None, k: int) -> float:
        """A score k passages reach (0: none known), from the passages holding the pool's rarest token: the
        SEED * k best by that token alone, scored exactly. Lets the second phase skip most common tokens when
        the matches give no k-th score (every token common, too few matches, a narrow filter)."""
        if not pool:
            return 0.0
        rows, partial = self._gather([min(pool, key=lambda t: t.df)])
        if mask is not None:
            rows, partial = rows[mask[rows]], partial[mask[rows]]
        if len(rows) < k:
            return 0.0
        if len(rows) > SEED * k:
            rows = np.sort(rows[np.argpartition(partial, len(partial) - SEED * k)[len(partial) - SEED * k :]])
        scores = self._exact(rows, terms)
        return float(np.partition(scores, len(scores) - k)[len(scores) - k])

    def _outside(
        self, matched: np.ndarray, mask: np.ndarray | None, pool: list[_Term], k: int, kth: float
    ) -> np.ndarray:
        """Rows outside `matched` (holding only `pool`'s tokens) that may still score at least `kth`, the k-th
        best so far (0: fewer than k found). MaxScore: tokens whose bounds add up to less than `kth` cannot
        lift a passage there on their own; only the postings of the others are read."""
        floor = kth * (1.0 - SLACK)
        if not pool or sum(t.bound for t in pool) < floor:
            return np.zeros(0, dtype=np.int64)
        # Tokens whose bounds add up to less than the floor are never read whole (a passage holding only
        # them cannot reach it): as many postings as can be left so, the longest per unit of bound first.
        skipped, read, room = [], [], floor
        for term in sorted(pool, key=lambda t: -t.df / t.bound):
            if term.bound < room:
                skipped.append(term)
                room -= term.bound
            else:
                read.append(term)
        rest = sum(t.bound for t in skipped)
        rows, partial = self._gather(read, floor, rest)
        keep = ~_in_sorted(matched, rows)
        if mask is not None:
            keep &= mask[rows]
        return self._prune(rows[keep], partial[keep], skipped, k, floor)

    def _gather(self, terms: list[_Term], floor: float = 0.0, rest: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Live rows (ascending) holding one of the terms, and the sum of those terms' scores on each.

        With a `floor`, a posting is left out when its score plus the bounds of the other terms and `rest`
        (the bounds of terms not gathered) is below it: its row then scores below the floor even if it holds
        every term (when another term brings the row in, its partial sum lacks this posting, and the exact
        scoring adds it back)."""
        rows: list[np.ndarray] = []
        contributions: list[np.ndarray] = []
        bounds = sum(t.bound for t in terms) + rest
        for term in terms:
            needed = floor - (bounds - term.bound)
            for segment, start, end in term.slices:
                column_rows = segment.indices[start:end] + segment.offset
                tf = segment.freqs[start:end]
                if segment.live is not None:
                    live = self.live_rows[column_rows]
                    column_rows, tf = column_rows[live], tf[live]
                contribution = term.weight * (tf / (tf + self.norm[column_rows]))
                if needed > 0:
                    enough = contribution >= needed
                    column_rows, contribution = column_rows[enough], contribution[enough]
                rows.append(column_rows)
                contributions.append(contribution)
        if len(rows) == 1:
            return rows[0].astype(np.int64), contributions[0].astype(np.float64)
        everything = np.concatenate(rows)
        if len(everything) > self.n_rows // 16:  # a sort of this many costs more than a pass over every row
            summed = np.bincount(everything, weights=np.concatenate(contributions), minlength=self.n_rows)
            held = np.flatnonzero(summed)  # every contribution is above 0
            return held, summed[held]
        unique, inverse = np.unique(everything, return_inverse=True)
        return unique, np.bincount(inverse, weights=np.concatenate(contributions), minlength=len(unique))

    def _conjunction(self, terms: list[_Term]) -> tuple[np.ndarray, np.ndarray]:
        """Live rows (ascending) holding every term, and their full scores (partial sums, any order)."""
        by_length = sorted(terms, key=lambda t: t.df)
        rows, partial = self._gather(by_length[:1])
        for term in by_length[1:]:
            tf = self._term_tf(term, rows)
            held = tf > 0
            rows, partial = rows[held], partial[held] + term.weight * (tf[held] / (tf[held] + self.norm[rows[held]]))
        return rows, partial

    def _prune(
        self, rows: np.ndarray, partial: np.ndarray, common: list[_Term], k: int, known: float = 0.0
    ) -> np.ndarray:
        """The rows that may still be among the best `k` once the `common` terms are added (MaxScore): a row
        whose partial score plus the bounds of the terms not yet added is below a score k passages are known to
        reach (`known`, the k-th best partial score, the k-th best full score of the k best partial ones) can
        never make it."""
        if len(rows) <= 2 * k:  # few enough: `_exact` looks every term up for them anyway
            return rows
        floor = known  # a score some k passages already reach (with its slack)
        if common:  # the k best by partial score, fully scored: their k-th score is a far better floor to start from
            seed = np.sort(np.argpartition(partial, len(partial) - k)[len(partial) - k :])
            full = partial[seed].copy()
            for term in common:
                tf = self._term_tf(term, rows[seed])
                full += term.weight * (tf / (tf + self.norm[rows[seed]]))
            floor = max(floor, float(full.min()) * (1.0 - SLACK))
        rest = sum(t.bound for t in common)
        for term in sorted(common, key=lambda t: -t.bound):
            kth = np.partition(partial, len(partial) - k)[len(partial) - k] * (1.0 - SLACK)
            keep = partial + rest >= max(floor, kth)
            rows, partial = rows[keep], partial[keep]
            if len(rows) <= 2 * k:  # few enough: `_exact` looks every term up for them anyway
                return rows
            tf = self._term_tf(term, rows)
            partial = partial + term.weight * (tf / (tf + self.norm[rows]))
            rest -= term.bound
        if len(rows) > k:
            kth = np.partition(partial, len(partial) - k)[len(partial) - k] * (1.0 - SLACK)
            rows = rows[partial >= max(floor, kth)]
        return rows

    def _exact(self, rows: np.ndarray, terms: list[_Term]) -> np.ndarray:
        """Scores of the rows as `scores` computes them: float32 terms added in float64 in query order."""
        total = np.zeros(len(rows), dtype=np.float64)
        for term in terms:
            tf = self._term_tf(term, rows)
            total += term.weight * (tf / (tf + self.norm[rows]))
        return total.astype(np.float32)

    def _term_tf(self, term: _Term, rows: np.ndarray) -> np.ndarray:
        """The term's frequency in each of the (ascending) rows, 0 where it is absent."""
        if len(self.segments) == 1:  # most versions after a merge: no split of the rows by segment
            segment, start, end = term.slices[0]
            return self._lookup(segment, start, end, rows)
        tf = np.zeros(len(rows), dtype=np.float32)
        cut = rows.searchsorted(self._starts)  # where each segment's rows begin among the rows: one call for all
        for segment, start, end in term.slices:
            lo, hi = int(cut[segment.number]), int(cut[segment.number + 1])
            if hi > lo:
                tf[lo:hi] = self._lookup(segment, start, end, rows[lo:hi] - segment.offset)
        return tf

    @staticmethod
    def _lookup(segment: _Segment, start: int, end: int, local: np.ndarray) -> np.ndarray:
        """Frequencies in one column of the segment's (ascending, local) rows; 0 where absent. Binary search
        from the shorter side: the rows into the column, or the column into the rows."""
        column = segment.indices[start:end]
        tf = np.zeros(len(local), dtype=np.float32)
        # rows as the column's own integers: searchsorted would otherwise convert the whole column (a copy of
        # up to every row of the segment, 57x the search itself at 600,000 postings)
        local = local.astype(column.dtype, copy=False)
        if len(local) <= len(column):
            at = np.minimum(np.searchsorted(column, local), len(column) - 1)
            found = column[at] == local
            tf[found] = segment.freqs[start + at[found]]
        else:
            at = np.minimum(np.searchsorted(local, column), len(local) - 1)
            found = local[at] == column
            tf[at[found]] = segment.freqs[start:end][found]
        return tf

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every row, 0 for deleted ones (a repeated token counts again, as in bm25s)."""
        rows: list[np.ndarray] = []
        freqs: list[np.ndarray] = []
        weights: list[float] = []  # idf (times repeats) of each gathered column
        for token, repeats in Counter(tokens).items():
            df, first = 0, len(rows)
            for segment in self.segments:
                column = segment.vocab.get(token)
                if column is None:
                    continue
                start, end = segment.indptr[column], segment.indptr[column + 1]
                column_rows = segment.indices[start:end]
                live = segment.live
                df += int(end - start) if live is None else int(np.count_nonzero(live[column_rows]))
                rows.append(column_rows + segment.offset if segment.offset else column_rows)
                freqs.append(segment.freqs[start:end])
            if df:
                weights += [repeats * math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))] * (len(rows) - first)
            else:
                del rows[first:], freqs[first:]
        if not rows:
            return np.zeros(self.n_rows, dtype=np.float32)
        row = np.concatenate(rows)
        tf = np.concatenate(freqs)
        idf = np.repeat(np.asarray(weights, dtype=np.float32), [len(r) for r in rows])
        # a column lists each row once; columns of one query add up
        scores = np.bincount(row, weights=idf * (tf / (tf + self.norm[row])), minlength=self.n_rows)
        scores = scores.astype(np.float32)
        if len(self.deleted_rows):
            scores[self.deleted_rows] = 0.0
        return scores

    def document_frequency(self, token: str) -> int:
        """Live passages holding `token` (0 when none does); counted once per version in a segment with
        deletions (spelling, highlighting and English query plans ask for the same common tokens again)."""
        total = 0
        for number, segment in enumerate(self.segments):
            column = segment.vocab.get(token)
            if column is not None:
                total += self._segment_df(number, column, int(segment.indptr[column]), int(segment.indptr[column + 1]))
        return total

    def rows_of(self, allowed: np.ndarray) -> np.ndarray:
        """Rows of the allowed passage ids (ids without a row are ignored)."""
        allowed = np.asarray(allowed, dtype=np.int64)
        if not self.sorted_ids:
            return np.flatnonzero(np.isin(self.row_ids, allowed))
        rows = np.searchsorted(self.row_ids, allowed)
        inside = rows < self.n_rows
        rows, allowed = rows[inside], allowed[inside]
        return rows[self.row_ids[rows] == allowed]

    def score_query(self, query: str) -> np.ndarray | None:
        """BM25 score of every row for `query` (None when no query token is in the vocabulary)."""
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
        ids = self.row_ids[np.flatnonzero(scores)]
        return ids if self.sorted_ids else np.sort(ids)  # rows in id order already: no sort of every match

    def top(self, scores: np.ndarray | None, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(passage id, BM25 score) best first from `score_query`'s scores; `allowed` restricts to those ids."""
        if scores is None or k <= 0:
            return []
        if allowed is not None:
            keep = np.zeros(self.n_rows, dtype=bool)
            keep[self.rows_of(allowed)] = True
            scores = np.where(keep, scores, np.float32(0.0))
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        rows = np.flatnonzero(scores >= kth)
        top = rows[np.lexsort((rows, -scores[rows]))[:k]]  # ties by row, as `query` breaks them
        return list(zip(self.row_ids[top].tolist(), scores[top].tolist(), strict=True))

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(passage id, BM25 score) best first among the query's matches (`query`); `allowed` restricts to those
        passage ids."""
        return self.query(query_tokens(query), k, allowed)[0]


__all__ = ["build_lexical", "merge_lexical", "LexicalIndex", "Vocabulary", "passage_tokens", "LEXICAL_DIR"]
