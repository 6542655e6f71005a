"""Test-only fault injection for `tracuu index` (used by tests/test_crash*.py).

Set `TRACUU_FAULT_AT` to make an indexing run fail at one named stage:

    TRACUU_FAULT_AT=embed          the process kills itself with SIGKILL on reaching "embed"
    TRACUU_FAULT_AT=enospc:store   an OSError(ENOSPC) is raised there instead (a full disk)
    TRACUU_FAULT_ONCE=PATH         only if PATH does not exist yet (it is created first): a process that
                                   is restarted after the fault (a Ray worker) then goes on

Stages, in the order a run reaches them: `read` (an article has been read), `store` (the new
version's SQLite store is being written), `embed` (embedding starts), `group` (a
group of passages is embedded and cached: indexer.embedding), `faiss` (the FAISS index and
vectors are on disk), `manifest` (the version is complete, not yet published), `publish` (renamed
to v-*, `current` not yet switched), `swap` (the new `current` link exists beside the old one);
`worker` is a Ray worker starting a group of passages, `worker-start` one starting up (indexer.distributed).
Unset, which is always the case outside tests, a stage costs one environment lookup. This hook is the
only place the indexer reads the environment itself; settings come down as `tracuu.settings.Settings`.
"""

from __future__ import annotations

import errno
import os
import signal

ENV = "TRACUU_FAULT_AT"
ONCE_ENV = "TRACUU_FAULT_ONCE"
STAGES = ("read", "store", "embed", "group", "faiss", "merge", "manifest", "publish", "swap")  # of every run
WORKER_STAGE = "worker"  # of a distributed run only: a worker starts a group
WORKER_START_STAGE = "worker-start"  # a worker is starting (loading the model)


def fault_point(stage: str, path: object = None) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    kind, _, where = spec.rpartition(":")
    if where != stage:
        return
    once = os.environ.get(ONCE_ENV)
    if once:
        try:
            open(once, "x").close()
        except FileExistsError:
            return
    if kind == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path) if path is not None else None)
    os.kill(os.getpid(), signal.SIGKILL)
