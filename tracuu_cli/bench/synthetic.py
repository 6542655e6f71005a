"""Passage vectors for index sizes beyond what a benchmark run can embed, fitted to real embeddings.

Uniform random unit vectors would be meaningless here: in 384 dimensions all of them are nearly
equidistant (a query's 1st and 10th neighbours differ by a few hundredths of cosine), so no index
finds neighbours and none needs to. Real passage embeddings are clustered: passages of one article
lie close together, articles of a topic are close, and everything sits in a narrow cone (mean cosine
about 0.78). So the vectors are drawn from a two-level Gaussian fitted to real embeddings:

    article centre  ~ N(mean of real article centres, covariance of real article centres)
    passage         =  centre + N(0, covariance of real passages around their article's centre)

normalised to unit length, about PASSAGES_PER_ARTICLE passages an article, from a fixed seed.
Queries keep their real relation to the archive: a real query's offset from the centre of the
article it is about is moved onto a synthetic article ("in-archive" queries); real query vectors
as such, which have no answer among synthetic passages, are the hard case and are measured too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PASSAGES_PER_ARTICLE = 8
BLOCK = 65_536
SHRINK = 1e-4  # added to the covariances' diagonals: a few hundred real articles do not fill 384 dims


@dataclass
class Fitted:
    center_mean: np.ndarray  # (dim,)
    center_factor: np.ndarray  # (dim, dim): centre = mean + z @ center_factor.T
    residual_factor: np.ndarray  # (dim, dim)
    real_centers: dict[str, np.ndarray]  # group -> real centre (unnormalised mean of its passages)

    @property
    def dim(self) -> int:
        return int(self.center_mean.shape[0])


def _factor(cov: np.ndarray) -> np.ndarray:
    dim = cov.shape[0]
    return np.linalg.cholesky(cov + SHRINK * np.mean(np.diag(cov)) * np.eye(dim)).astype(np.float32)


def fit(vectors: np.ndarray, groups: list[str]) -> Fitted:
    """Fit on real passage vectors grouped by article (any grouping of passages that belong together)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    labels = np.asarray(groups)
    names, inverse = np.unique(labels, return_inverse=True)
    centers = np.zeros((len(names), vectors.shape[1]))
    np.add.at(centers, inverse, vectors)
    counts = np.bincount(inverse, minlength=len(names))
    centers /= counts[:, None]
    residuals = vectors - centers[inverse]
    multi = counts[inverse] > 1  # single-passage groups say nothing about spread within an article
    if len(names) >= 8 and multi.sum() > vectors.shape[1]:
        center_cov, residual_cov = np.cov(centers.T), np.cov(residuals[multi].T)
    else:  # too little structure to fit two levels: one Gaussian around the mean
        center_cov, residual_cov = np.cov(vectors.T) * 0.5, np.cov(vectors.T) * 0.5
    return Fitted(
        center_mean=centers.mean(axis=0).astype(np.float32),
        center_factor=_factor(center_cov),
        residual_factor=_factor(residual_cov),
        real_centers={str(n): centers[i].astype(np.float32) for i, n in enumerate(names)},
    )


def articles_for(n: int) -> int:
    return max(1, n // PASSAGES_PER_ARTICLE)


def generate(fitted: Fitted, n: int, seed: int = 0, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(vectors (n, dim) float32 unit rows, article number of each row); deterministic for (n, seed)."""
    rng = np.random.default_rng(seed)
    dim = fitted.dim
    n_articles = articles_for(n)
    centers = article_centers(fitted, n_articles, seed)
    article = np.sort(rng.integers(0, n_articles, n))  # an article's passages are consecutive, like ids
    out = np.empty((n, dim), dtype=np.float32) if out is None else out
    for start in range(0, n, BLOCK):
        part = article[start : start + BLOCK]
        x = centers[part] + rng.standard_normal((len(part), dim), dtype=np.float32) @ fitted.residual_factor.T
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start : start + len(part)] = x
    return out, article


def article_centers(fitted: Fitted, n_articles: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 1])
    z = rng.standard_normal((n_articles, fitted.dim), dtype=np.float32)
    return fitted.center_mean + z @ fitted.center_factor.T


def in_archive_queries(
    fitted: Fitted, queries: np.ndarray, query_groups: list[str], n: int, seed: int = 0
) -> np.ndarray:
    """Real queries moved onto random synthetic articles: q - centre(its real article) + centre(synthetic).
    None when no query is about a fitted article (no copy of zalo beside the checkout): an empty array."""
    if len(queries) == 0:
        return np.zeros((0, fitted.dim), dtype=np.float32)
    rng = np.random.default_rng([seed, 2])
    n_articles = articles_for(n)
    centers = article_centers(fitted, n_articles, seed)
    picked = rng.integers(0, n_articles, len(queries))
    moved = np.stack(
        [q - fitted.real_centers[g] + centers[a] for q, g, a in zip(queries, query_groups, picked, strict=True)]
    )
    return (moved / np.linalg.norm(moved, axis=1, keepdims=True)).astype(np.float32)
