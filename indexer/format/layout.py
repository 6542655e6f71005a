"""The on-disk layout of an index directory, and its atomic publication.

    DIR/current -> v-<stamp>/        the served version (a relative symlink)
    DIR/v-<stamp>/manifest.json      written last inside a version: a version without it is incomplete
    DIR/.tmp-<stamp>/                a version being built; never loaded, removed by the next run
    DIR/.lock                        held by a writer for the whole run

A new version is built in a temporary directory, renamed to `v-<stamp>`, and published by
renaming a new symlink over `current` (rename(2) is atomic), so readers see the old version
or the new one, never a half-written one, and a crash at any point leaves `current` intact
(docs/format.md describes the whole directory).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from indexer.format.faults import fault_point

FORMAT_VERSION = 3  # of a version directory's files; readers refuse other formats
CURRENT = "current"
MANIFEST = "manifest.json"
VERSION_PREFIX = "v-"
TMP_PREFIX = ".tmp-"
LOCK = ".lock"
POSTED = "posted"  # articles posted over HTTP, kept for every later version (indexer.posted)
EMBEDDING_CACHE = "embedding-cache"  # vectors of a run not yet published, kept for its rerun (indexer.embedding)
KEEP_OLD_VERSIONS = 1


class IndexNotFound(FileNotFoundError):
    """DIR holds no published index."""


class IndexBusy(RuntimeError):
    """Another `tracuu index` run holds the lock on DIR."""


class IndexWriteError(RuntimeError):
    """Writing a new version failed (a full disk, an I/O error); the published version is untouched."""


def current_version(index_dir: Path) -> Path:
    """The published version directory of `index_dir` (resolved once, so reads are consistent)."""
    link = index_dir / CURRENT
    if not link.is_symlink() and not link.exists():
        raise IndexNotFound(f"{index_dir}: no index here (run `tracuu index SOURCE --index {index_dir}` first)")
    target = (index_dir / os.readlink(link)) if link.is_symlink() else link
    if not (target / MANIFEST).is_file():
        raise IndexNotFound(f"{index_dir}: the current index version has no manifest")
    return target


def read_manifest(version_dir: Path, check_format: bool = True) -> dict[str, Any]:
    manifest = json.loads((version_dir / MANIFEST).read_text(encoding="utf-8"))
    if check_format and manifest.get("format_version") != FORMAT_VERSION:
        raise IndexNotFound(
            f"{version_dir.parent}: index format {manifest.get('format_version')} is not the format this tracuu "
            f"reads ({FORMAT_VERSION}); run `tracuu index` again to rebuild it"
        )
    return manifest


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_index_dir(index_dir: Path) -> None:
    """Refuse to write into a directory that holds something other than a tracuu index."""
    if not index_dir.exists():
        return
    if not index_dir.is_dir():
        raise NotADirectoryError(f"{index_dir}: exists and is not a directory")
    foreign = [
        p.name
        for p in index_dir.iterdir()
        if p.name not in (CURRENT, LOCK, POSTED, EMBEDDING_CACHE)
        and not p.name.startswith((VERSION_PREFIX, TMP_PREFIX))
    ]
    if foreign:
        raise FileExistsError(f"{index_dir}: not a tracuu index directory (contains {foreign[0]!r}); use an empty DIR")


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time; the lock dies with the process, so a crash never leaves it stale."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(
                f"{index_dir}: another writer is publishing this index (a `tracuu index` run, or `tracuu serve` "
                "publishing articles posted over HTTP); run again when it is done"
            ) from None
        yield


def new_temp_version(index_dir: Path) -> Path:
    path = index_dir / f"{TMP_PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    path.mkdir(parents=True)
    return path


def remove_leftovers(index_dir: Path) -> list[str]:
    """Remove what crashed runs left: temporary build directories and links, and versions that were
    renamed into place but never published (call with the writer lock held)."""
    removed = []
    for path in index_dir.glob(TMP_PREFIX + "*"):
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    with contextlib.suppress(IndexNotFound):
        served = current_version(index_dir).name
        for path in index_dir.glob(VERSION_PREFIX + "*") if (index_dir / CURRENT).is_symlink() else ():
            if path.name > served and path.is_dir():  # stamps sort by time: newer than `current`, never served
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
    return removed


def publish(index_dir: Path, temp_dir: Path) -> Path:
    """Make `temp_dir` (complete, with its manifest) the current version, atomically."""
    if not (temp_dir / MANIFEST).is_file():
        raise RuntimeError(f"{temp_dir}: refusing to publish a version without a manifest")
    for child in temp_dir.rglob("*"):
        if child.is_file():
            with child.open("rb") as handle:
                os.fsync(handle.fileno())
    stamp = temp_dir.name[len(TMP_PREFIX) :]
    final = index_dir / f"{VERSION_PREFIX}{stamp}"
    try:
        served = os.readlink(index_dir / CURRENT)
    except OSError:
        served = None
    os.rename(temp_dir, final)
    fault_point("publish")
    link_tmp = index_dir / f"{TMP_PREFIX}link-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    os.symlink(final.name, link_tmp)
    fault_point("swap")
    os.replace(link_tmp, index_dir / CURRENT)
    fsync_dir(index_dir)
    _prune_old_versions(index_dir, final, served)
    return final


def _prune_old_versions(index_dir: Path, keep: Path, served: str | None) -> None:
    """Keep the version served until now for a moment of grace (a server may still be reading it)."""
    grace = {Path(served).name} if served and KEEP_OLD_VERSIONS else set()
    for path in index_dir.glob(VERSION_PREFIX + "*"):
        if path != keep and path.name not in grace:
            shutil.rmtree(path, ignore_errors=True)
