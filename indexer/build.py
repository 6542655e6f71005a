"""`tracuu index`: read sources, re-use what is unchanged, embed the rest, publish atomically."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.boilerplate import Boilerplate
from indexer.chunking import ChunkingParams, chunk_text
from indexer.dedup import duplicate_groups
from indexer.format import ann, layout
from indexer.format.faults import fault_point
from indexer.format.records import Article, Passage
from indexer.format.store import STORE_FILE, Store
from indexer.format.writer import Recipe, VersionWriter, write_version
from indexer.posted import EMPTY_FINGERPRINT, PostedArticles, PostedChanges, apply_posted
from indexer.progress import Progress
from indexer.readers import MAX_ARTICLE_BYTES, SourceError, read_articles
from indexer.source_warnings import SourceWarnings
from tracuu.settings import Settings
from tracuu.text.lang import detect_language
from tracuu.text.normalise import NORMALISATION_NAME, nfc
from tracuu.text.restore import ToneModel

if TYPE_CHECKING:
    from models.embedder import Embedder

TITLE_TOKEN_BUDGET = 64
EMBED_SLICE_BATCHES = 8  # batches per encode call (256 passages at --batch-size 32): progress after each
EMBEDDING_RECIPE = 1  # bump when what is embedded for a passage changes (see embed_text)


@dataclass
class IndexSummary:
    articles: int = 0
    passages: int = 0
    embedded_articles: int = 0
    embedded_passages: int = 0
    reused_articles: int = 0
    removed_articles: int = 0
    seconds: float = 0.0
    version: str = ""
    embedded_ids: list[str] = field(default_factory=list)
    skipped: int = 0  # bad source items left out, each with a warning on stderr
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage (read, chunk, embed, ...)
    boilerplate_sentences: int = 0  # sentences left out as their source's boilerplate (indexer.boilerplate)

    def line(self) -> str:
        rate = self.embedded_passages / self.seconds if self.seconds else 0.0
        skipped = f"; skipped {self.skipped} bad source items (see warnings)" if self.skipped else ""
        return (
            f"indexed {self.articles} articles, {self.passages} passages in {self.seconds:.1f} s "
            f"(embedded {self.embedded_passages} passages of {self.embedded_articles} articles, {rate:.1f}/s; "
            f"reused {self.reused_articles}; removed {self.removed_articles}{skipped}"
            + (f"; left out {self.boilerplate_sentences} boilerplate sentences" if self.boilerplate_sentences else "")
            + ")"
            + (f" ({Progress.format_timings(self.stages)})" if self.stages else "")
        )


def embed_text(title: str, passage: str) -> str:
    """What the embedder sees for a passage: the article title gives it context."""
    return f"{title}\n{passage}" if title else passage


def recipe(embedder: Embedder, params: ChunkingParams) -> Recipe:
    """What this run's vectors depend on besides the texts (recorded in the manifest)."""
    return Recipe(embedder.identity, embedder.dim, params.as_dict(), TITLE_TOKEN_BUDGET)


def content_hash(article: Article, params: ChunkingParams) -> str:
    """Changes whenever anything that ends up in the index for this article changes."""
    payload = {k: v for k, v in asdict(article).items() if k != "origin"}
    payload["_chunking"] = params.as_dict()
    payload["_norm"] = NORMALISATION_NAME
    payload["_recipe"] = EMBEDDING_RECIPE
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def collect_articles(
    sources: list[Path],
    warnings: SourceWarnings | None = None,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    raw: bool = False,
    progress: Progress | None = None,
) -> list[Article]:
    """Read every source up front, so that bad input is reported, or stops the run, before any write.

    With `warnings`, a bad item is warned about and left out (see indexer.source_warnings);
    without, the first one raises SourceError.
    """
    seen: dict[str, str] = {}
    articles = []
    stage = (progress or Progress()).stage("read", unit="articles")
    for article in read_articles(sources, warnings, max_article_bytes, raw=raw):
        fault_point("read")
        stage.update()
        if article.id in seen:
            problem = SourceError(
                f"{article.origin}: duplicate article id {article.id!r} (first seen in {seen[article.id]})"
            )
            if warnings is None:
                raise problem
            warnings(problem)
            continue
        seen[article.id] = article.origin
        articles.append(_with_language(article))
    stage.close()
    if warnings is not None:
        warnings.check(len(articles))
    return articles


def _with_language(article: Article) -> Article:
    if not article.lang:
        article.lang = detect_language(article.title + "\n" + article.text)
    return article


def _with_posted(articles: list[Article], changes: PostedChanges) -> list[Article]:
    """`articles` with what was posted over HTTP applied (indexer.posted), languages detected as for sources."""
    if not changes.articles and not changes.deleted:
        return articles
    return [_with_language(a) for a in apply_posted(articles, changes)]


@dataclass
class _Previous:
    version_dir: Path
    manifest: dict[str, Any]
    store: Store
    vectors: np.ndarray
    id_rows: dict[int, int]


def _open_previous(index_dir: Path, model_identity: dict[str, Any], params: ChunkingParams) -> _Previous | None:
    try:
        version_dir = layout.current_version(index_dir)
        # An older format still holds re-usable passages and vectors: the store's passage and
        # hash columns and vectors.npy have not changed between formats.
        manifest = layout.read_manifest(version_dir, check_format=False)
    except layout.IndexNotFound:
        return None
    if manifest.get("model") != model_identity or manifest.get("chunking") != params.as_dict():
        print("note: model or chunking changed since the last run; embedding every article again", file=sys.stderr)
        return None
    vectors, ids = ann.load_vectors(version_dir)
    rows = {int(i): r for r, i in enumerate(ids)}
    return _Previous(version_dir, manifest, Store(version_dir / STORE_FILE), vectors, rows)


def build_index(
    sources: list[Path],
    index_dir: Path,
    embedder: Embedder,
    params: ChunkingParams | None = None,
    batch_size: int = 32,
    strict: bool = False,
    settings: Settings | None = None,
    raw: bool = False,
    progress: Progress | None = None,
) -> IndexSummary:
    """Build or update `index_dir` from `sources`; the served version is replaced atomically.

    Bad source items are skipped with a warning (`strict`: the run stops instead). A failed
    write (a full disk) removes the half-built version and raises IndexWriteError; the
    published version is never touched before the final atomic swap.

    `progress` reports each stage as it runs (the CLI passes `Progress(sys.stderr)`); None is silent.
    """
    params = params or ChunkingParams()
    settings = settings or Settings()
    progress = progress or Progress()  # silent, still timed for the summary
    started = time.perf_counter()
    layout.check_index_dir(index_dir)  # a wrong DIR fails before the sources are read
    warnings = SourceWarnings(strict=strict)
    articles = collect_articles(sources, warnings, settings.max_article_bytes, raw=raw, progress=progress)
    with write_version(index_dir) as version:
        changes = PostedArticles(index_dir).changes()  # under the writer lock, with what it re-uses
        previous = _open_previous(index_dir, embedder.identity, params)
        try:
            found = None if raw else Boilerplate()  # --raw: already clean, no sentence is left out
            summary = _fill_version(
                version,
                _with_posted(articles, changes),
                embedder,
                params,
                previous,
                batch_size,
                progress,
                changes,
                found,
            )
        finally:
            if previous:
                previous.store.close()
        publish = progress.stage("publish")  # ends once the block has swapped the new version in
    publish.close()
    return _finished(summary, version, started, progress, len(warnings))


def publish_posted(
    index_dir: Path, embedder: Embedder, batch_size: int = 32, progress: Progress | None = None
) -> IndexSummary | None:
    """Publish the served version's articles with the posted changes applied; None when it has them all already.

    The server calls this after each POST or DELETE of `/api/articles` (and once at start, for changes
    acknowledged before a crash): the same writer lock, re-use of unchanged vectors and atomic switch
    as `tracuu index`, whose sources are simply the published articles.
    """
    progress = progress or Progress()
    started = time.perf_counter()
    manifest = layout.read_manifest(layout.current_version(index_dir), check_format=False)
    if manifest.get("posted", EMPTY_FINGERPRINT) == PostedArticles(index_dir).fingerprint():
        return None
    params = ChunkingParams(**manifest["chunking"])
    with write_version(index_dir) as version:
        changes = PostedArticles(index_dir).changes()
        current = layout.current_version(index_dir)  # read under the lock: the latest version
        store = Store(current / STORE_FILE)
        try:
            published = list(store.articles())
        finally:
            store.close()
        previous = _open_previous(index_dir, embedder.identity, params)  # None: another model, embed everything
        try:
            # Published articles have lost their boilerplate already: what was found then applies to new ones.
            known = Boilerplate.load(current)
            summary = _fill_version(
                version,
                _with_posted(published, changes),
                embedder,
                params,
                previous,
                batch_size,
                progress,
                changes,
                known,
            )
        finally:
            if previous:
                previous.store.close()
    return _finished(summary, version, started, progress, 0)


def _finished(
    summary: IndexSummary, version: VersionWriter, started: float, progress: Progress, skipped: int
) -> IndexSummary:
    assert version.published is not None
    summary.version = version.published.name
    summary.seconds = time.perf_counter() - started
    summary.skipped = skipped
    summary.stages = dict(progress.timings)
    return summary


def _fill_version(
    version: VersionWriter,
    articles: list[Article],
    embedder: Embedder,
    params: ChunkingParams,
    previous: _Previous | None,
    batch_size: int,
    progress: Progress,
    posted: PostedChanges,
    boilerplate: Boilerplate | None,
) -> IndexSummary:
    """Store every article, re-use the vectors of unchanged ones, embed the rest, finish the version.

    `boilerplate`: sentences known to be a source's boilerplate; more are found among `articles`, and all are
    left out of them (None: none, for sources indexed --raw).
    """
    summary = IndexSummary(articles=len(articles))
    old_hashes = previous.store.article_hashes() if previous else {}
    next_id = int(previous.manifest["counts"]["next_id"]) if previous else 0
    all_ids: list[np.ndarray] = []
    all_vectors: list[np.ndarray] = []
    pending: list[tuple[Article, list[Passage], list[int]]] = []

    stage = progress.stage("chunk", total=len(articles), unit="articles")
    groups = duplicate_groups(articles)
    if boilerplate is not None:
        boilerplate = boilerplate.merged(Boilerplate.detect(articles, groups))
        summary.boilerplate_sentences = boilerplate.strip(articles)
        boilerplate.save(version.directory)
    for article in articles:
        stage.update()
        digest = content_hash(article, params)
        if previous and old_hashes.get(article.id) == digest:
            rows = previous.store.passages_of(article.id)
            ids = [r[0] for r in rows]
            version.add_article(article, digest, groups[article.id], ids, [Passage(*r[1:]) for r in rows])
            all_ids.append(np.asarray(ids, dtype=np.int64))
            all_vectors.append(np.asarray(previous.vectors[[previous.id_rows[i] for i in ids]]))
            summary.reused_articles += 1
            summary.passages += len(ids)
            continue
        passages = chunk_text(article.text, embedder.count_tokens, params)
        ids = list(range(next_id, next_id + len(passages)))
        next_id += len(passages)
        version.add_article(article, digest, groups[article.id], ids, passages)
        pending.append((article, passages, ids))
        summary.embedded_ids.append(article.id)
    stage.close()
    summary.removed_articles = len(set(old_hashes) - {a.id for a in articles})

    texts = [embed_text(_short_title(a.title, embedder), p.text) for a, ps, _ in pending for p in ps]
    with progress.stage("embed", total=len(texts), unit="passages") as stage:
        if texts:
            fault_point("embed")
            all_vectors.append(_embed(embedder, texts, batch_size, stage.update))
        all_ids.append(np.asarray([i for _, _, ids in pending for i in ids], dtype=np.int64))
    summary.embedded_articles = len(pending)
    summary.embedded_passages = len(texts)
    summary.passages += len(texts)

    vectors = np.concatenate(all_vectors) if all_vectors else np.zeros((0, embedder.dim), dtype=np.float32)
    ids = np.concatenate(all_ids) if all_ids else np.zeros(0, dtype=np.int64)
    with progress.stage("tones", total=len(articles), unit="articles") as stage:
        tones = ToneModel()
        tones.learn_corpus(text for a in articles for text in (a.title, a.text))
        stage.update(len(articles))
    version.finish(vectors, ids, tones, recipe(embedder, params), next_id, progress, posted.fingerprint)
    return summary


def _embed(embedder: Embedder, texts: list[str], batch_size: int, done: Callable[[int], None]) -> np.ndarray:
    """Embed `texts` a slice at a time, reporting each slice to `done`; vectors come back in input order.

    Longest first over the whole list, as the embedder orders one call's texts, so each slice pads to
    similar lengths.
    """
    order = sorted(range(len(texts)), key=lambda i: len(nfc(texts[i])), reverse=True)
    step = max(batch_size * EMBED_SLICE_BATCHES, 1)
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(order), step):
        rows = order[start : start + step]
        out[rows] = embedder.encode_passages([texts[i] for i in rows], batch_size=batch_size)
        done(len(rows))
    return out


def _short_title(title: str, embedder: Embedder) -> str:
    """Keep the title within its token budget so title + passage fit the model's window."""
    if embedder.count_tokens(title) <= TITLE_TOKEN_BUDGET:
        return title
    words = title.split()
    while words and embedder.count_tokens(" ".join(words)) > TITLE_TOKEN_BUDGET:
        words = words[: max(1, len(words) * 3 // 4)] if len(words) > 1 else []
    return " ".join(words)
