"""Facts about the running machine and libraries, recorded in manifests and benchmarks."""

from __future__ import annotations

import os
from importlib import metadata


def available_cpus() -> int:
    """CPUs this process may run on (respects affinity/cgroup pinning where the OS exposes it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def library_versions(*distributions: str) -> dict[str, str | None]:
    """Installed versions of the named distributions (None when one is not installed), without importing them."""
    versions: dict[str, str | None] = {}
    for name in distributions:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
