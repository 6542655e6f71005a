"""`tracuu index`: read sources, re-use what is unchanged, embed the rest, publish atomically."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer import ann, layout
from indexer.article import Article
from indexer.chunking import ChunkingParams, Passage, chunk_text
from indexer.dedup import duplicate_groups
from indexer.faults import fault_point
from indexer.lexical import build_lexical
from indexer.readers import SourceError, read_articles
from indexer.source_warnings import SourceWarnings
from indexer.store import STORE_FILE, Store, StoreWriter
from tracuu.lang import detect_language
from tracuu.restore import RESTORE_FILE, ToneModel
from tracuu.textnorm import NORMALISATION_NAME

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

    def line(self) -> str:
        rate = self.embedded_passages / self.seconds if self.seconds else 0.0
        skipped = f"; skipped {self.skipped} bad source items (see warnings)" if self.skipped else ""
        return (
            f"indexed {self.articles} articles, {self.passages} passages in {self.seconds:.1f} s "
            f"(embedded {self.embedded_passages} passages of {self.embedded_articles} articles, {rate:.1f}/s; "
            f"reused {self.reused_articles}; removed {self.removed_articles}{skipped})"
        )


def embed_text(title: str, passage: str) -> str:
    """What the embedder sees for a passage: the article title gives it context."""
    return f"{title}\n{passage}" if title else passage


def content_hash(article: Article, params: ChunkingParams) -> str:
    """Changes whenever anything that ends up in the index for this article changes."""
    payload = {k: v for k, v in asdict(article).items() if k != "origin"}
    payload["_chunking"] = params.as_dict()
    payload["_norm"] = NORMALISATION_NAME
    payload["_recipe"] = EMBEDDING_RECIPE
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def collect_articles(sources: list[Path], warnings: SourceWarnings | None = None) -> list[Article]:
    """Read every source up front, so that bad input is reported, or stops the run, before any write.

    With `warnings`, a bad item is warned about and left out (see indexer.source_warnings);
    without, the first one raises SourceError.
    """
    seen: dict[str, str] = {}
    articles = []
    for article in read_articles(sources, warnings):
        fault_point("read")
        if article.id in seen:
            problem = SourceError(
                f"{article.origin}: duplicate article id {article.id!r} (first seen in {seen[article.id]})"
            )
            if warnings is None:
                raise problem
            warnings(problem)
            continue
        seen[article.id] = article.origin
        if not article.lang:
            article.lang = detect_language(article.title + "\n" + article.text)
        articles.append(article)
    if warnings is not None:
        warnings.check(len(articles))
    return articles


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
) -> IndexSummary:
    """Build or update `index_dir` from `sources`; the served version is replaced atomically.

    Bad source items are skipped with a warning (`strict`: the run stops instead). A failed
    write (a full disk) removes the half-built version and raises IndexWriteError; the
    published version is never touched before the final atomic swap.
    """
    params = params or ChunkingParams()
    started = time.perf_counter()
    layout.check_index_dir(index_dir)
    warnings = SourceWarnings(strict=strict)
    articles = collect_articles(sources, warnings)
    with layout.writer_lock(index_dir):
        layout.remove_leftovers(index_dir)
        previous = _open_previous(index_dir, embedder.identity, params)
        temp_dir = layout.new_temp_version(index_dir)
        try:
            summary, built = _write_version(articles, temp_dir, embedder, params, previous, batch_size)
            summary.seconds = time.perf_counter() - started
            _write_manifest(temp_dir, embedder, params, summary, built)
            fault_point("manifest", temp_dir)
            summary.version = layout.publish(index_dir, temp_dir).name
        except BaseException as exc:
            shutil.rmtree(temp_dir, ignore_errors=True)  # gone already once publish has renamed it
            faiss_write = isinstance(exc, RuntimeError) and "write error" in str(exc)  # FAISS's own I/O errors
            if isinstance(exc, OSError | sqlite3.Error) or faiss_write:
                detail = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else str(exc)
                raise layout.IndexWriteError(
                    f"{index_dir}: could not write the new version ({detail.splitlines()[0][:300]}); "
                    "the index in service is unchanged"
                ) from exc
            raise
        finally:
            if previous:
                previous.store.close()
    summary.skipped = len(warnings)
    return summary


def _write_version(
    articles: list[Article],
    temp_dir: Path,
    embedder: Embedder,
    params: ChunkingParams,
    previous: _Previous | None,
    batch_size: int,
) -> tuple[IndexSummary, dict[str, Any]]:
    summary = IndexSummary(articles=len(articles))
    old_hashes = previous.store.article_hashes() if previous else {}
    next_id = int(previous.manifest["counts"]["next_id"]) if previous else 0
    store = StoreWriter(temp_dir / STORE_FILE)
    all_ids: list[np.ndarray] = []
    all_vectors: list[np.ndarray] = []
    pending: list[tuple[Article, list[Passage], list[int]]] = []
    lexical_ids: list[int] = []
    lexical_texts: list[tuple[str, str]] = []

    groups = duplicate_groups(articles)
    for article in articles:
        digest = content_hash(article, params)
        store.add_article(article, digest, groups[article.id])
        fault_point("store", temp_dir / STORE_FILE)
        if previous and old_hashes.get(article.id) == digest:
            rows = previous.store.passages_of(article.id)
            ids = [r[0] for r in rows]
            store.add_passages(article.id, ids, [Passage(r[1], r[2], r[3], r[4]) for r in rows])
            lexical_ids.extend(ids)
            lexical_texts.extend((article.title, r[2]) for r in rows)
            all_ids.append(np.asarray(ids, dtype=np.int64))
            all_vectors.append(np.asarray(previous.vectors[[previous.id_rows[i] for i in ids]]))
            summary.reused_articles += 1
            summary.passages += len(ids)
            continue
        passages = chunk_text(article.text, embedder.count_tokens, params)
        ids = list(range(next_id, next_id + len(passages)))
        next_id += len(passages)
        store.add_passages(article.id, ids, passages)
        lexical_ids.extend(ids)
        lexical_texts.extend((article.title, p.text) for p in passages)
        pending.append((article, passages, ids))
        summary.embedded_ids.append(article.id)
    summary.removed_articles = len(set(old_hashes) - {a.id for a in articles})

    texts = [embed_text(_short_title(a.title, embedder), p.text) for a, ps, _ in pending for p in ps]
    if texts:
        fault_point("embed")
        # A progress bar on a terminal, silence in logs and CI.
        vectors = embedder.encode_passages(texts, batch_size=batch_size, show_progress=sys.stderr.isatty())
        all_vectors.append(vectors)
        all_ids.append(np.asarray([i for _, _, ids in pending for i in ids], dtype=np.int64))
    summary.embedded_articles = len(pending)
    summary.embedded_passages = len(texts)
    summary.passages += len(texts)
    store.close()

    dim = embedder.dim
    vectors = np.concatenate(all_vectors) if all_vectors else np.zeros((0, dim), dtype=np.float32)
    ids = np.concatenate(all_ids) if all_ids else np.zeros(0, dtype=np.int64)
    built = {"index_type": ann.save(temp_dir, vectors, ids), "next_id": next_id}
    fault_point("faiss", temp_dir / ann.INDEX_FILE)
    build_lexical(temp_dir, lexical_ids, lexical_texts)
    tones = ToneModel()
    tones.learn_corpus(text for a in articles for text in (a.title, a.text))
    tones.save(temp_dir / RESTORE_FILE)
    return summary, built


def _short_title(title: str, embedder: Embedder) -> str:
    """Keep the title within its token budget so title + passage fit the model's window."""
    if embedder.count_tokens(title) <= TITLE_TOKEN_BUDGET:
        return title
    words = title.split()
    while words and embedder.count_tokens(" ".join(words)) > TITLE_TOKEN_BUDGET:
        words = words[: max(1, len(words) * 3 // 4)] if len(words) > 1 else []
    return " ".join(words)


def _library_versions() -> dict[str, str]:
    import faiss
    import sentence_transformers
    import torch

    return {
        "faiss": faiss.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def _write_manifest(
    temp_dir: Path, embedder: Embedder, params: ChunkingParams, summary: IndexSummary, built: dict[str, Any]
) -> None:
    """Written last: a version directory without a manifest is never loaded or published."""
    manifest = {
        "format_version": layout.FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": embedder.identity,
        "dimension": embedder.dim,
        "normalised_vectors": True,
        "metric": "inner_product",
        "index_type": built["index_type"],
        "text_normalisation": NORMALISATION_NAME,
        "chunking": params.as_dict(),
        "title_token_budget": TITLE_TOKEN_BUDGET,
        "counts": {"articles": summary.articles, "passages": summary.passages, "next_id": built["next_id"]},
        "libraries": _library_versions(),
    }
    layout.write_json_atomic(temp_dir / layout.MANIFEST, manifest)
