"""Near-duplicate articles: syndicated copies of one report published on several sites.

Provincial news is republished across sites ("Nguồn: Báo Quảng Trị" on a ward's portal),
with small edits. MinHash over word 5-shingles of the accent-folded text estimates the
Jaccard similarity of two articles; LSH banding finds candidate pairs in linear time, and
pairs above the threshold are merged into groups (union-find). Each group's canonical
member is its earliest-published article (the original), ties broken by reading order.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from indexer.format.records import Article
from tracuu.text.normalise import fold, words

SHINGLE = 5
NUM_HASHES = 64
BANDS = 16  # 16 bands x 4 rows: pairs above ~0.6 Jaccard almost always collide in some band
THRESHOLD = 0.8  # estimated Jaccard at or above which two articles are copies
_PRIME = (1 << 61) - 1
_RNG = np.random.default_rng(20240501)
_A = _RNG.integers(1, _PRIME, size=NUM_HASHES, dtype=np.uint64)
_B = _RNG.integers(0, _PRIME, size=NUM_HASHES, dtype=np.uint64)


def shingles(text: str) -> set[int]:
    """Stable 32-bit hashes of the word 5-grams of the folded text."""
    tokens = [fold(w) for w in words(text)]
    if len(tokens) < SHINGLE:
        return {zlib.crc32(" ".join(tokens).encode())} if tokens else set()
    return {zlib.crc32(" ".join(tokens[i : i + SHINGLE]).encode()) for i in range(len(tokens) - SHINGLE + 1)}


def signature(text: str) -> np.ndarray:
    """MinHash signature: for each of NUM_HASHES hash functions, the minimum over shingles."""
    values = np.fromiter(shingles(text), dtype=np.uint64)
    if values.size == 0:
        return np.full(NUM_HASHES, np.iinfo(np.uint64).max, dtype=np.uint64)
    hashed = (values[None, :] * _A[:, None] + _B[:, None]) % np.uint64(_PRIME)  # wraps mod 2^64: still a fine hash
    return hashed.min(axis=1)


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def duplicate_groups(articles: Sequence[Article]) -> dict[str, str]:
    """Map each article id to its group's canonical id (itself when it has no copy)."""
    sigs = [signature(a.text) for a in articles]
    rows = NUM_HASHES // BANDS
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for i, sig in enumerate(sigs):
        for band in range(BANDS):
            buckets[(band, sig[band * rows : (band + 1) * rows].tobytes())].append(i)
    parent = list(range(len(articles)))
    for members in buckets.values():
        for j in members[1:]:
            i = members[0]
            if _find(parent, i) != _find(parent, j) and np.mean(sigs[i] == sigs[j]) >= THRESHOLD:
                parent[_find(parent, j)] = _find(parent, i)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(articles)):
        groups[_find(parent, i)].append(i)
    canonical: dict[str, str] = {}
    for members in groups.values():
        first = min(members, key=lambda m: (articles[m].published or "9999", m))
        for m in members:
            canonical[articles[m].id] = articles[first].id
    return canonical
