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

STAMP_FILE = ".tracuu-build.json"  # inside the artifact: a dot file, so model checksums skip it
DIGESTS_FILE = "file-sha256.json"  # in a cache directory: file_sha256's digests, remembered across processes
MAX_DIGESTS = 64  # files remembered (the newest); a search's keys need three


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
    if is_built(dest, key):  # the common case, without taking the lock (or importing filelock)
        return dest
    from filelock import FileLock

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


def file_sha256(path: str | Path, cache_dir: Path | None = None) -> str:
    """sha256 of a file (what cache keys are made of), memoised per (path, size, mtime): checking a key
    on every load stays cheap.

    With ``cache_dir``, digests are remembered across processes too, in its DIGESTS_FILE, each under the
    file's size, modification and change times and inode (a change time no program can set back): a command
    that starts does not read the 100 MB a search's cache keys are made of again. (As with the memo of one
    process, a file rewritten at its size within one tick of the file system's clock would go unnoticed.)
    """
    st = os.stat(path)
    resolved = str(Path(path).resolve())
    seen = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    if cache_dir is None:
        return _sha256_cached(resolved, st.st_size, st.st_mtime_ns)
    digests = _read_digests(cache_dir)
    known = digests.get(resolved)
    if isinstance(known, list) and known[:-1] == seen and isinstance(known[-1], str):
        return known[-1]
    digest = _sha256_cached(resolved, st.st_size, st.st_mtime_ns)
    digests.pop(resolved, None)
    digests[resolved] = [*seen, digest]
    _write_digests(cache_dir, dict(list(digests.items())[-MAX_DIGESTS:]))
    return digest


def _read_digests(cache_dir: Path) -> dict[str, list]:
    try:
        digests = json.loads((cache_dir / DIGESTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return digests if isinstance(digests, dict) else {}


def _write_digests(cache_dir: Path, digests: dict[str, list]) -> None:
    """Replaced whole (a reader sees the old file or the new one); two processes writing at once may lose
    one's entry, which is then computed again. A cache that cannot be written only remembers nothing."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{DIGESTS_FILE}.tmp-", dir=cache_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(digests, out)
            os.chmod(tmp, 0o644)
            os.replace(tmp, cache_dir / DIGESTS_FILE)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass
