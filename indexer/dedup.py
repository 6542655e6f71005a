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
from collections.abc import Mapping, Sequence

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
    return assign_groups(articles, [signature(a.text) for a in articles])


def assign_groups(
    articles: Sequence[Article],
    sigs: Sequence[np.ndarray],
    known_ids: Sequence[str] = (),
    known_sigs: np.ndarray | None = None,
    known_groups: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Groups of new `articles` (with their signatures), among themselves and with articles already indexed.

    Only the new articles are compared (LSH buckets of the new ones; the known signatures are looked up in
    them band by band, vectorised), so an update costs what it adds. A new article that copies an indexed
    one joins that one's group (`known_groups`), whose canonical article stays; indexed articles keep
    their groups.
    """
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
    joined: dict[int, str] = {}  # root of new articles -> the indexed group they copy
    if known_sigs is not None and len(known_sigs) and len(articles):
        for k, i in _known_candidates(known_sigs, sigs, buckets):
            root = _find(parent, i)
            if root not in joined and np.mean(known_sigs[k] == sigs[i]) >= THRESHOLD:
                joined[root] = (known_groups or {}).get(known_ids[k], known_ids[k])
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(articles)):
        groups[_find(parent, i)].append(i)
    canonical: dict[str, str] = {}
    for root, members in groups.items():
        first = articles[min(members, key=lambda m: (articles[m].published or "9999", m))].id
        for m in members:
            canonical[articles[m].id] = joined.get(root, first)
    return canonical


def _known_candidates(
    known_sigs: np.ndarray, sigs: Sequence[np.ndarray], buckets: dict[tuple[int, bytes], list[int]]
) -> list[tuple[int, int]]:
    """(indexed row, new article) pairs sharing a band, in indexed-row order."""
    rows = NUM_HASHES // BANDS
    pairs: list[tuple[int, int]] = []
    for band in range(BANDS):
        keys = np.ascontiguousarray(known_sigs[:, band * rows : (band + 1) * rows])
        new_keys = {key for b, key in buckets if b == band}
        wanted = np.asarray([np.frombuffer(key, dtype=np.uint64) for key in new_keys])
        hits = np.flatnonzero(np.isin(keys[:, 0], wanted[:, 0]))  # a cheap first filter on one row of the band
        for k in hits:
            for i in buckets.get((band, keys[k].tobytes()), ()):
                pairs.append((int(k), i))
    return sorted(set(pairs))
