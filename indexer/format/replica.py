"""Read-only replicas: a published version copied into another index directory (`tracuu replicate`).

The copy goes through the same protocol as any publication (a temporary directory, every file fsynced, one
rename and one atomic switch of `current`, under the writer lock), so every `tracuu serve` on the replica
reloads it as it reloads a local update, and a copy cut short is never served. The version keeps its name:
`/health` then reports the same `version` on every replica that serves it, which is what a load balancer
compares. Segments are immutable and named once per index, so a segment the replica already serves is hard-linked
rather than copied again: a replica pays for what changed, like the update that made it.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from indexer.format import layout
from indexer.format.segments import SEGMENT_FILE, link_segment


@dataclass
class Replicated:
    version: str
    copied_segments: int = 0
    linked_segments: int = 0
    already: bool = False  # the replica served this version already: nothing was written


def replicate(source: Path, index_dir: Path) -> Replicated:
    """Publish in `index_dir` the version `source` serves (`source`: an index directory, such as a mirror of
    another host's made with `rsync -aH --delete PRIMARY:INDEX/ STAGING/`, or a version directory)."""
    version_dir = source if (source / layout.MANIFEST).is_file() else layout.current_version(source)
    manifest = layout.read_manifest(version_dir)  # refuses another format before anything is written
    name = version_dir.resolve().name
    if not name.startswith(layout.VERSION_PREFIX):
        stamp = str(manifest.get("created", "copy")).replace(":", "").replace("+", "")
        name = f"{layout.VERSION_PREFIX}{stamp}"
    layout.check_index_dir(index_dir)
    with layout.writer_lock(index_dir):
        layout.remove_leftovers(index_dir)
        served = _served(index_dir)
        if served is not None and served.name == name:
            return Replicated(name, already=True)
        temp = index_dir / f"{layout.TMP_PREFIX}{name[len(layout.VERSION_PREFIX) :]}"
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir()
        result = Replicated(name)
        try:
            for path in sorted(version_dir.iterdir()):
                if path.name == layout.MANIFEST:
                    continue  # last: a version without its manifest is never published
                mine = served / path.name if served is not None else None
                if path.is_dir() and mine is not None and _same_segment(path, mine):
                    link_segment(mine, temp / path.name)
                    result.linked_segments += 1
                elif path.is_dir():
                    shutil.copytree(path, temp / path.name)
                    result.copied_segments += 1
                else:
                    shutil.copy2(path, temp / path.name)
            shutil.copy2(version_dir / layout.MANIFEST, temp / layout.MANIFEST)
            layout.publish(index_dir, temp)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
    return result


def _served(index_dir: Path) -> Path | None:
    try:
        return layout.current_version(index_dir)
    except layout.IndexNotFound:
        return None


def _same_segment(theirs: Path, mine: Path) -> bool:
    """The replica's segment of that name holds the same files: same segment.json, same names and sizes."""
    if not (mine / SEGMENT_FILE).is_file() or not (theirs / SEGMENT_FILE).is_file():
        return False
    if not filecmp.cmp(theirs / SEGMENT_FILE, mine / SEGMENT_FILE, shallow=False):
        return False
    files = {p.relative_to(theirs): p.stat().st_size for p in theirs.rglob("*") if p.is_file()}
    return files == {p.relative_to(mine): os.stat(p).st_size for p in mine.rglob("*") if p.is_file()}
