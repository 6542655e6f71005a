"""Derived files (a converted model, an ONNX graph, a compiled library) built once into the cache.

Each artifact is a directory, built in a temporary sibling and renamed into place with a stamp naming
what it was built from, so a crash never leaves a half-written one, a changed source is rebuilt, and
processes or threads that need it at the same time build it once: the others wait on a lock and reuse it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

STAMP_FILE = ".tracuu-build.json"  # inside the artifact: a dot file, so model checksums skip it


def is_built(dest: Path, key: str) -> bool:
    """True when ``dest`` is a finished build for ``key``."""
    try:
        stamp = json.loads((dest / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(stamp, dict) and stamp.get("key") == key


def build_once(dest: Path, key: str, builder: Callable[[Path], None]) -> Path:
    """``dest``, built by ``builder(tmp)`` unless it is already built for ``key``.

    ``builder`` fills an empty directory; if it raises, nothing is installed. A ``dest`` built for
    another key (or not stamped at all) is replaced.
    """
    if is_built(dest, key):  # the common case, without taking the lock
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(dest.parent / f".{dest.name}.lock"):
        if is_built(dest, key):  # another process or thread built it while we waited
            return dest
        _remove_leftovers(dest)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
        try:
            builder(tmp)
            stamp = {"key": key, "created_unix": int(time.time())}
            (tmp / STAMP_FILE).write_text(json.dumps(stamp) + "\n", encoding="utf-8")
            _make_readable(tmp)
            _install(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # gone already unless the build failed
    return dest


def _remove_leftovers(dest: Path) -> None:
    """Temporary and stale siblings left by a killed build (only called while holding the lock)."""
    for pattern in (f".{dest.name}.tmp-*", f".{dest.name}.stale-*"):
        for path in dest.parent.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)


def _make_readable(root: Path) -> None:
    """mkdtemp and mkstemp make 0700/0600 entries; a cache shared by users wants 0755/0644."""
    os.chmod(root, 0o755)
    for path in root.rglob("*"):
        executable = path.is_dir() or path.stat().st_mode & 0o100
        os.chmod(path, 0o755 if executable else 0o644)


def _install(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest``; a stale ``dest`` is moved aside first (a directory cannot be renamed
    over a non-empty one), so readers see the old build or the new one, never a mix."""
    if os.path.lexists(dest):
        stale = dest.with_name(f".{dest.name}.stale-{os.getpid()}-{time.monotonic_ns()}")
        os.rename(dest, stale)
        os.rename(tmp, dest)
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink()
    else:
        os.rename(tmp, dest)


@functools.lru_cache(maxsize=32)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    """sha256 of a file (what cache keys are made of), memoised per (path, size, mtime): checking a key
    on every load stays cheap."""
    st = os.stat(path)
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
