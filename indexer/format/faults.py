"""Test-only fault injection for `tracuu index` (used by tests/test_crash*.py).

Set `TRACUU_FAULT_AT` to make an indexing run fail at one named stage:

    TRACUU_FAULT_AT=embed          the process kills itself with SIGKILL on reaching "embed"
    TRACUU_FAULT_AT=enospc:store   an OSError(ENOSPC) is raised there instead (a full disk)

Stages, in the order a run reaches them: `read` (an article has been read), `store` (the new
version's SQLite store is being written), `embed` (embedding starts), `faiss` (the FAISS index and
vectors are on disk), `manifest` (the version is complete, not yet published), `publish` (renamed
to v-*, `current` not yet switched), `swap` (the new `current` link exists beside the old one).
Unset, which is always the case outside tests, a stage costs one environment lookup. This hook is the
only place the indexer reads the environment itself; settings come down as `tracuu.settings.Settings`.
"""

from __future__ import annotations

import errno
import os
import signal

ENV = "TRACUU_FAULT_AT"
STAGES = ("read", "store", "embed", "faiss", "merge", "manifest", "publish", "swap")


def fault_point(stage: str, path: object = None) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    kind, _, where = spec.rpartition(":")
    if where != stage:
        return
    if kind == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path) if path is not None else None)
    os.kill(os.getpid(), signal.SIGKILL)
