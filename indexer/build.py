"""`tracuu index`: read sources, re-use what is unchanged, embed the rest, publish atomically."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.boilerplate import Boilerplate
from indexer.chunking import ChunkingParams
from indexer.dedup import assign_groups
from indexer.embedding import Embedding, GroupRunner, cache_for
from indexer.format import ann, layout
from indexer.format.faults import fault_point
from indexer.format.records import Article, Passage
from indexer.format.segments import MAX_SEGMENTS, Snapshot, read_signatures
from indexer.format.store import STORE_FILE, SegmentedStore, Store
from indexer.format.writer import Recipe, VersionWriter, write_version
from indexer.posted import EMPTY_FINGERPRINT, PostedArticles, PostedChanges, apply_posted
from indexer.progress import Progress
from indexer.readers import MAX_ARTICLE_BYTES, SourceError, read_articles
from indexer.source_warnings import SourceWarnings
from indexer.sources import SourceFiles, file_key, file_stat, reading_options
from tracuu.settings import Settings
from tracuu.text.lang import detect_language
from tracuu.text.normalise import NORMALISATION_NAME
from tracuu.text.restore import RESTORE_FILE, ToneModel

if TYPE_CHECKING:
    from models.embedder import Embedder

TITLE_TOKEN_BUDGET = 64
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
    merged_segments: int = 0  # segments merged into one by this run
    cached_passages: int = 0  # of the embedded: vectors an interrupted run had finished (indexer.embedding)

    def line(self) -> str:
        rate = self.embedded_passages / self.seconds if self.seconds else 0.0
        skipped = f"; skipped {self.skipped} bad source items (see warnings)" if self.skipped else ""
        return (
            f"indexed {self.articles} articles, {self.passages} passages in {self.seconds:.1f} s "
            f"(embedded {self.embedded_passages} passages of {self.embedded_articles} articles, {rate:.1f}/s; "
            f"reused {self.reused_articles}; removed {self.removed_articles}{skipped}"
            + (f"; {self.cached_passages} of them finished by an earlier run" if self.cached_passages else "")
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
    reading: Reading | None = None,
    detect: bool = True,
) -> list[Article]:
    """Read every source up front, so that bad input is reported, or stops the run, before any write.

    With `warnings`, a bad item is warned about and left out (see indexer.source_warnings);
    without, the first one raises SourceError. With `reading`, files unchanged since the last run are not
    read (their ids are `reading.kept`). `detect=False` leaves languages unset (detected elsewhere, in parallel).
    """
    seen: dict[str, str] = {}
    articles = []
    stage = (progress or Progress()).stage("read", unit="articles")
    wanted = reading.wants if reading is not None else None
    for article in read_articles(sources, warnings, max_article_bytes, raw=raw, wanted=wanted):
        fault_point("read")
        stage.update()
        first = seen.get(article.id) or (reading.kept.get(article.id) if reading is not None else None)
        if first is not None:
            problem = SourceError(f"{article.origin}: duplicate article id {article.id!r} (first seen in {first})")
            if warnings is None:
                raise problem
            warnings(problem)
            continue
        seen[article.id] = article.origin
        articles.append(_with_language(article) if detect else article)
    stage.close()
    if warnings is not None:
        warnings.check(len(articles) + (len(reading.kept) if reading is not None else 0))
    return articles


class Reading:
    """Which source files this run reads: those changed since the version in service (indexer.sources)."""

    def __init__(self, known: SourceFiles, raw: bool, max_article_bytes: int) -> None:
        self.known = known
        self.options = reading_options(raw, max_article_bytes)
        self.stats: dict[str, list[int]] = {}  # every source file (as named this run) -> its stat before reading
        self.kept: dict[str, str] = {}  # ids of the unchanged files' articles -> their file

    def wants(self, path: Path) -> bool:
        stat = file_stat(path)
        self.stats[str(path)] = stat
        ids = self.known.unchanged_ids(path, stat, self.options)
        if ids is None:
            return True
        self.kept.update((doc_id, str(path)) for doc_id in ids)
        return False

    def record(self, articles: list[Article], warnings: SourceWarnings) -> SourceFiles:
        """What this run read, for the next one: every file but those that gave warnings (read again)."""
        ids: dict[str, list[str]] = {name: [] for name in self.stats}
        for doc_id, name in self.kept.items():
            ids[name].append(doc_id)
        for article in articles:
            name = article.origin if article.origin in ids else article.origin.rpartition(":")[0]
            if name in ids:
                ids[name].append(article.id)
        warned = {name for name in ids for message in warnings.messages if message.startswith(name + ":")}
        files = {
            file_key(Path(name)): {"stat": stat, "ids": ids[name]}
            for name, stat in self.stats.items()
            if name not in warned
        }
        return SourceFiles(self.options, files)


def _detect_languages(articles: list[Article], embedding: Embedding, progress: Progress) -> None:
    unknown = [a for a in articles if not a.lang]
    with progress.stage("language", total=len(unknown), unit="articles") as stage:
        for article, lang in zip(
            unknown, embedding.step("language", [_language_text(a) for a in unknown]), strict=True
        ):
            article.lang = lang
        stage.update(len(unknown))


def _language_text(article: Article) -> str:
    return article.title + "\n" + article.text


def _with_language(article: Article) -> Article:
    if not article.lang:
        article.lang = detect_language(_language_text(article))
    return article


def _with_posted(articles: list[Article], changes: PostedChanges) -> list[Article]:
    """`articles` with what was posted over HTTP applied (indexer.posted), languages detected as for sources."""
    if not changes.articles and not changes.deleted:
        return articles
    return [_with_language(a) for a in apply_posted(articles, changes)]


def _served(index_dir: Path) -> Path | None:
    """The version in service, or None when there is none yet."""
    try:
        return layout.current_version(index_dir)
    except layout.IndexNotFound:
        return None


@dataclass
class _Base:
    """The published version an update builds on: its segments are kept, its tone counts updated."""

    snapshot: Snapshot
    store: SegmentedStore

    @property
    def next_id(self) -> int:
        return int(self.snapshot.manifest["counts"]["next_id"])


@dataclass
class _Reuse:
    """A version of an earlier format (one store, one vectors.npy): rewritten whole, its vectors re-used."""

    manifest: dict[str, Any]
    store: Store
    vectors: np.ndarray
    id_rows: dict[int, int]


def _same_recipe(manifest: dict[str, Any], model_identity: dict[str, Any], params: ChunkingParams) -> bool:
    """Whether the version of ``manifest`` holds passages and vectors this run would make: the same model (and
    backend recipe) and chunking. Otherwise every article is chunked and embedded again."""
    return manifest.get("model") == model_identity and manifest.get("chunking") == params.as_dict()


def _known_sources(index_dir: Path, model_identity: dict[str, Any], params: ChunkingParams) -> SourceFiles:
    """The source files whose articles may stay unread (indexer/sources.py): those of the served version, when
    this run builds on its segments (same recipe and format). Otherwise none: its articles are not kept, so every
    file is read, or a change of model or chunking would publish the unchanged files' articles as gone."""
    served = _served(index_dir)
    if served is None:
        return SourceFiles()
    manifest = layout.read_manifest(served, check_format=False)
    if manifest.get("format_version") != layout.FORMAT_VERSION or not _same_recipe(manifest, model_identity, params):
        return SourceFiles()
    return SourceFiles.load(served)


def _open_previous(
    index_dir: Path, model_identity: dict[str, Any], params: ChunkingParams
) -> tuple[_Base | None, _Reuse | None]:
    try:
        version_dir = layout.current_version(index_dir)
        manifest = layout.read_manifest(version_dir, check_format=False)
    except layout.IndexNotFound:
        return None, None
    if not _same_recipe(manifest, model_identity, params):
        print("note: model or chunking changed since the last run; embedding every article again", file=sys.stderr)
        return None, None
    if manifest.get("format_version") == layout.FORMAT_VERSION:
        snapshot = Snapshot.open(version_dir, manifest)
        return _Base(snapshot, snapshot.store()), None
    # An older format still holds re-usable passages and vectors: the store's passage and hash columns and
    # vectors.npy have not changed between formats.
    vectors, ids = ann.load_vectors(version_dir)
    rows = {int(i): r for r, i in enumerate(ids)}
    return None, _Reuse(manifest, Store(version_dir / STORE_FILE), vectors, rows)


@contextlib.contextmanager
def _previous(
    index_dir: Path, embedder: Embedder, params: ChunkingParams
) -> Iterator[tuple[_Base | None, _Reuse | None]]:
    base, reuse = _open_previous(index_dir, embedder.identity, params)
    try:
        yield base, reuse
    finally:
        for opened in (base, reuse):
            if opened is not None:
                opened.store.close()


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
    runner: GroupRunner | None = None,
) -> IndexSummary:
    """Build or update `index_dir` from `sources`; the served version is replaced atomically.

    An update writes one new segment for the articles added or changed and records the ones changed or
    gone as deleted; the segments of the version before are kept as they are (indexer.format.segments).

    Bad source items are skipped with a warning (`strict`: the run stops instead). A failed
    write (a full disk) removes the half-built version and raises IndexWriteError; the
    published version is never touched before the final atomic swap.

    `progress` reports each stage as it runs (the CLI passes `Progress(sys.stderr)`); None is silent.
    `runner` embeds the passages elsewhere (a Ray cluster: indexer.distributed), with the same groups and so
    the same vectors as the local run; groups finished by a run that did not publish are not embedded again.
    """
    params = params or ChunkingParams()
    settings = settings or Settings()
    progress = progress or Progress()  # silent, still timed for the summary
    started = time.perf_counter()
    layout.check_index_dir(index_dir)  # a wrong DIR fails before the sources are read
    warnings = SourceWarnings(strict=strict)
    known = _known_sources(index_dir, embedder.identity, params)  # checked again under the writer lock
    reading = Reading(known, raw, settings.max_article_bytes)
    embedding = Embedding(embedder, batch_size, runner, cache_for(index_dir, embedder, batch_size))
    articles = collect_articles(sources, warnings, settings.max_article_bytes, raw, progress, reading, runner is None)
    if runner is not None:  # the languages on the workers: the slowest step of reading (langdetect)
        _detect_languages(articles, embedding, progress)
    with write_version(index_dir) as version:
        changes = PostedArticles(index_dir).changes()  # under the writer lock, with what it re-uses
        if reading.kept and _known_sources(index_dir, embedder.identity, params) != known:
            raise layout.IndexBusy(f"{index_dir}: another run published while this one read its sources; run again")
        reading.record(articles, warnings).save(version.directory)
        with _previous(index_dir, embedder, params) as (base, reuse):
            summary = _fill_version(
                version,
                _Update(_with_posted(articles, changes), changes.deleted, removes_missing=True, kept=set(reading.kept)),
                embedding,
                params,
                base,
                reuse,
                progress,
                changes,
                raw,
                settings.max_segments,
            )
        publish = progress.stage("publish")  # ends once the block has swapped the new version in
    publish.close()
    embedding.published()
    return _finished(summary, version, started, progress, len(warnings))


def publish_posted(
    index_dir: Path,
    embedder: Embedder,
    batch_size: int = 32,
    progress: Progress | None = None,
    max_segments: int = MAX_SEGMENTS,
) -> IndexSummary | None:
    """Publish the served version with the posted changes applied; None when it has them all already.

    The server calls this after each POST or DELETE of `/api/articles` (and once at start, for changes
    acknowledged before a crash): the same writer lock and atomic switch as `tracuu index`, and an update
    that costs what it changes: a new segment for the posted articles, deletions for the deleted ones.
    """
    progress = progress or Progress()
    started = time.perf_counter()
    manifest = layout.read_manifest(layout.current_version(index_dir), check_format=False)
    if manifest.get("posted", EMPTY_FINGERPRINT) == PostedArticles(index_dir).fingerprint():
        return None
    params = ChunkingParams(**manifest["chunking"])
    with write_version(index_dir) as version:
        changes = PostedArticles(index_dir).changes()
        with _previous(index_dir, embedder, params) as (base, reuse):
            if base is not None:  # the posted changes on top of the segments in service
                update = _Update(
                    [_with_language(a) for a in changes.articles.values() if a.id not in changes.deleted],
                    deleted=changes.deleted,
                )
            else:  # another model or an earlier format: every published article again, with the changes
                store = reuse.store if reuse else Store(layout.current_version(index_dir) / STORE_FILE)
                try:
                    update = _Update(_with_posted(list(store.articles()), changes), removes_missing=True)
                finally:
                    if reuse is None:
                        store.close()
            SourceFiles.load(_served(index_dir)).save(version.directory)  # for the next `tracuu index`
            embedding = Embedding.local(embedder, batch_size, index_dir)
            summary = _fill_version(
                version, update, embedding, params, base, reuse, progress, changes, False, max_segments
            )
    embedding.published()
    return _finished(summary, version, started, progress, 0)


def optimize_index(
    index_dir: Path, max_segments: int = 1, progress: Progress | None = None, expunge: bool = True
) -> IndexSummary:
    """Merge the served version's segments into at most `max_segments`, and with `expunge` rewrite any other
    that holds deleted articles, so none is left; nothing is embedded or tokenised again (`tracuu optimize`)."""
    progress = progress or Progress()
    started = time.perf_counter()
    with write_version(index_dir) as version:
        manifest = layout.read_manifest(layout.current_version(index_dir))
        snapshot = Snapshot.open(layout.current_version(index_dir), manifest)
        version.keep(snapshot)
        Boilerplate.load(snapshot.version_dir).save(version.directory)
        SourceFiles.load(snapshot.version_dir).save(version.directory)
        recipe_of = Recipe(
            manifest["model"], manifest["dimension"], manifest["chunking"], manifest["title_token_budget"]
        )
        counts = manifest["counts"]
        version.finish(
            np.zeros((0, manifest["dimension"]), dtype=np.float32),
            np.zeros(0, dtype=np.int64),
            snapshot.version_dir / RESTORE_FILE,  # a merge changes no count
            recipe_of,
            int(counts["next_id"]),
            progress,
            manifest.get("posted"),
            max_segments=max_segments,
            expunge=expunge,
        )
    summary = IndexSummary(articles=counts["articles"], passages=counts["passages"], reused_articles=counts["articles"])
    return _finished(summary, version, started, progress, 0)


def _finished(
    summary: IndexSummary, version: VersionWriter, started: float, progress: Progress, skipped: int
) -> IndexSummary:
    assert version.published is not None
    summary.version = version.published.name
    summary.seconds = time.perf_counter() - started
    summary.skipped = skipped
    summary.stages = dict(progress.timings)
    summary.merged_segments = len(version.merged)
    return summary


@dataclass
class _Update:
    """What a run brings: articles (added, changed or unchanged), and what is gone."""

    articles: list[Article]
    deleted: set[str] = field(default_factory=set)  # ids to delete
    removes_missing: bool = False  # every article is given: an indexed one not among them is deleted
    kept: set[str] = field(default_factory=set)  # ids of articles in unchanged source files: kept, not given


def _fill_version(
    version: VersionWriter,
    update: _Update,
    embedding: Embedding,
    params: ChunkingParams,
    base: _Base | None,
    reuse: _Reuse | None,
    progress: Progress,
    posted: PostedChanges,
    raw: bool,
    max_segments: int = MAX_SEGMENTS,
) -> IndexSummary:
    """Keep the base's segments, delete what changed or went, write the added and changed articles into a new
    segment (vectors re-used from `reuse` where unchanged, else embedded), update the tone counts, finish.

    Boilerplate (indexer.boilerplate): what the base found is left out of every article; more is found among
    the new ones (not with `raw`: sources already clean).
    """
    articles = update.articles
    embedder = embedding.embedder
    live = base.store.located_hashes() if base else {}
    old_hashes = reuse.store.article_hashes() if reuse else {}
    next_id = base.next_id if base else int(reuse.manifest["counts"]["next_id"]) if reuse else 0
    if base:
        version.keep(base.snapshot)
    boilerplate = None if raw else Boilerplate.load(base.snapshot.version_dir) if base else Boilerplate()

    stage = progress.stage("chunk", total=len(articles), unit="articles")
    if boilerplate is not None:
        boilerplate.strip(articles)
    pending = [a for a in articles if live.get(a.id, (None, None))[1] != content_hash(a, params)]
    gone = {a.id for a in pending if a.id in live} | (update.deleted & set(live))
    if update.removes_missing:
        gone |= set(live) - {a.id for a in articles} - update.kept
    summary = IndexSummary(reused_articles=len(articles) - len(pending) + len(update.kept & set(live)))
    summary.removed_articles = len(gone - {a.id for a in pending})
    gone_articles = _articles_of(base.store, gone) if base else []
    for doc_id in gone:
        version.delete(base.snapshot.segments[live[doc_id][0]].name, doc_id)  # type: ignore[union-attr]

    signatures = embedding.step("signature", [a.text for a in pending])
    groups = assign_groups(pending, signatures, *(_known_signatures(base, gone) if base else ()))
    if boilerplate is not None:
        boilerplate = boilerplate.merged(Boilerplate.detect(pending, groups))
        summary.boilerplate_sentences = boilerplate.strip(pending)
        boilerplate.save(version.directory)
    new_ids: list[np.ndarray] = []
    new_vectors: list[np.ndarray] = []
    to_embed: list[tuple[Article, list[Passage], list[int]]] = []
    digests = [content_hash(article, params) for article in pending]
    reused = [bool(reuse) and old_hashes.get(a.id) == digest for a, digest in zip(pending, digests, strict=True)]
    fresh = [a.text for a, old in zip(pending, reused, strict=True) if not old]
    chunks = iter(embedding.step("chunks", fresh, params))
    for article, article_signature, digest, old in zip(pending, signatures, digests, reused, strict=True):
        stage.update()
        if old:
            rows = reuse.store.passages_of(article.id)
            ids = [r[0] for r in rows]
            version.add_article(
                article, digest, groups[article.id], ids, [Passage(*r[1:]) for r in rows], article_signature
            )
            new_ids.append(np.asarray(ids, dtype=np.int64))
            new_vectors.append(np.asarray(reuse.vectors[[reuse.id_rows[i] for i in ids]]))
            summary.reused_articles += 1
            continue
        passages = next(chunks)
        ids = list(range(next_id, next_id + len(passages)))
        next_id += len(passages)
        version.add_article(article, digest, groups[article.id], ids, passages, article_signature)
        to_embed.append((article, passages, ids))
        summary.embedded_ids.append(article.id)
    stage.update(len(articles) - len(pending))
    stage.close()

    texts = [embed_text(_short_title(a.title, embedder), p.text) for a, ps, _ in to_embed for p in ps]
    with progress.stage("embed", total=len(texts), unit="passages") as stage:
        if texts:
            fault_point("embed")
            new_vectors.append(embedding.vectors(texts, stage.update))
            summary.cached_passages = embedding.cached
        new_ids.append(np.asarray([i for _, _, ids in to_embed for i in ids], dtype=np.int64))
    summary.embedded_articles = len(to_embed)
    summary.embedded_passages = len(texts)

    vectors = np.concatenate(new_vectors) if new_vectors else np.zeros((0, embedder.dim), dtype=np.float32)
    ids = np.concatenate(new_ids) if new_ids else np.zeros(0, dtype=np.int64)
    with progress.stage("tones", total=len(pending) + len(gone_articles), unit="articles") as stage:
        tones: ToneModel | Path
        if base and not pending and not gone_articles:  # the same articles: the same counts
            tones = base.snapshot.version_dir / RESTORE_FILE
        elif base:  # counts add and subtract: only what changed is read
            tones = ToneModel.load(base.snapshot.version_dir / RESTORE_FILE, prior=False)
            tones.learn(text for a in pending for text in (a.title, a.text))
            tones.forget(text for a in gone_articles for text in (a.title, a.text))
        else:
            tones = ToneModel()
            tones.learn_corpus(text for a in pending for text in (a.title, a.text))
        stage.update(len(pending) + len(gone_articles))
    version.finish(vectors, ids, tones, recipe(embedder, params), next_id, progress, posted.fingerprint, max_segments)
    summary.articles, summary.passages = version.counts
    return summary


def _articles_of(store: SegmentedStore, doc_ids: set[str]) -> list[Article]:
    """The indexed articles with these ids, as stored (what the tone counts learnt from them)."""
    found = []
    for doc_id in sorted(doc_ids):
        row = store.article(doc_id)
        if row is not None:
            found.append(Article(id=doc_id, title=row["title"], text=row["text"]))
    return found


def _known_signatures(base: _Base, gone: set[str]) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """The live indexed articles' ids, near-duplicate signatures and groups: what new articles are compared to."""
    ids: list[str] = []
    matrices: list[np.ndarray] = []
    for segment in base.snapshot.segments:
        dead = base.snapshot.dead.get(segment.name, frozenset()) | gone
        doc_ids, matrix = read_signatures(segment)
        keep = [i for i, d in enumerate(doc_ids) if d not in dead]
        ids.extend(doc_ids[i] for i in keep)
        if len(keep):
            matrices.append(matrix[keep])
    groups = {doc_id: group for doc_id, _, _, group in base.store.live_articles()}
    return ids, (np.concatenate(matrices) if matrices else np.zeros((0, 0), dtype=np.uint64)), groups


def _short_title(title: str, embedder: Embedder) -> str:
    """Keep the title within its token budget so title + passage fit the model's window."""
    if embedder.count_tokens(title) <= TITLE_TOKEN_BUDGET:
        return title
    words = title.split()
    while words and embedder.count_tokens(" ".join(words)) > TITLE_TOKEN_BUDGET:
        words = words[: max(1, len(words) * 3 // 4)] if len(words) > 1 else []
    return " ".join(words)
