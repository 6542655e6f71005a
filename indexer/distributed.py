"""Embedding on a Ray cluster (`tracuu index ... --ray ADDRESS|local:N`, the `tracuu[ray]` extra).

The driver plans the groups of passages (indexer.embedding) and keeps everything that makes the index what it
is: the index directory and its writer lock, ids, the store, duplicate grouping, publication. Workers, a pool
of actors that each load the model once, turn groups of texts into vectors and run the per-article steps
(language, near-duplicate signature, chunks: indexer.steps); they never see the index directory, and texts
and results travel through Ray's object store, so no shared filesystem is needed. Because a group is
embedded with the same batches wherever it runs, the vectors are the same bytes as a local run's.

Why actors fed by the driver rather than Ray Data's `map_batches`: the unit of work is a group the driver
planned (its batch-mates decide its vectors), results must land at known rows, and the driver bounds the
groups in flight (two per worker), which is the backpressure Ray Data would give; a Ray Data pipeline
re-blocks rows as it sees fit.

A worker that dies is restarted and its group retried (actor restarts and task retries), which changes no
result. A lost node with nothing to replace it can leave Ray waiting forever (ray-project/ray#26991): a
watchdog ends the run with a clear error when no group finishes for `ray_watchdog_s`.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

from indexer.chunking import ChunkingParams
from indexer.embedding import GroupDone
from indexer.format.faults import ENV as FAULT_ENV
from indexer.format.faults import ONCE_ENV as FAULT_ONCE_ENV
from indexer.format.faults import WORKER_STAGE, WORKER_START_STAGE, fault_point
from indexer.progress import Progress
from indexer.steps import STEP_BATCH, Step, run_step
from models.embedder import Embedder
from tracuu.settings import Settings

IN_FLIGHT_PER_WORKER = 2  # groups queued on each worker: one running, one waiting in its mailbox
ACTIVE_WINDOW_S = 60.0  # a worker that finished a group within this is counted active in the progress lines
RETRIES = 3  # restarts of a dead worker, and retries of the group it was embedding
CPU_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")  # int8 kernels differ with these
WORKER_SETTINGS = ("cache", "backend", "onnx_threads", "batch_tokens")  # what a worker's embedder is loaded with
INSTALL_HINT = "install the extra: pip install 'tracuu[ray]'"


class DistributedError(RuntimeError):
    """A distributed run cannot go on (no Ray, workers that differ from the driver, a lost node); the index
    directory is unchanged."""


def runtime_identity(embedder: Embedder) -> dict[str, Any]:
    """What a worker's vectors depend on besides the texts: the same on every worker and on the driver, or the
    vectors of one run would not be interchangeable (int8 kernels differ without VNNI)."""
    return {
        "model": embedder.identity,
        "batching": embedder.batching,
        "onnxruntime": _version("onnxruntime"),
        "openvino": _version("openvino"),  # the runtime of the openvino-bf16 backend
        "machine": platform.machine(),
        "cpu": cpu_features(),
    }


def cpu_features() -> list[str]:
    """The instruction sets among CPU_FEATURES this CPU has (Linux: /proc/cpuinfo; elsewhere none known)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            flags = next((line.split(":", 1)[1].split() for line in info if line.startswith("flags")), [])
    except OSError:
        return []
    return [name for name in CPU_FEATURES if name in flags]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


class GroupEmbedder:
    """A Ray actor (made remote in RayRunner): the model loaded once, then one group per call."""

    def __init__(self, model: str | None, settings: dict[str, Any], cpus: int) -> None:
        import ray

        fault_point(WORKER_START_STAGE)
        self.embedder = Embedder.load(model, settings=Settings(**{**settings, "threads": cpus}))
        self.worker = f"node {ray.get_runtime_context().get_node_id()[:8]} pid {os.getpid()}"

    def identity(self) -> dict[str, Any]:
        return runtime_identity(self.embedder)

    def embed(self, texts: list[str], batch_size: int) -> tuple[np.ndarray, str]:
        fault_point(WORKER_STAGE)
        return self.embedder.encode_passages(texts, batch_size=batch_size), self.worker

    def step(self, step: Step, texts: list[str], params: ChunkingParams | None) -> list[Any]:
        return run_step(step, texts, self.embedder, params)


@dataclass
class WorkerStats:
    groups: int = 0
    passages: int = 0
    last: float = 0.0  # time.monotonic() of its last finished group


@dataclass
class RayRunner:
    """A pool of `workers` GroupEmbedder actors (default: one per `cpus_per_worker` CPUs of the cluster), started
    on first use and checked to embed exactly as the driver's `embedder` would; `close` (or the end of a `with`
    block) stops them. Groups go out two per worker at most, per-article steps in calls of STEP_BATCH."""

    embedder: Embedder
    model: str | None
    settings: Settings
    batch_size: int = 32
    workers: int | None = None
    cpus_per_worker: int = 1
    progress: Progress = field(default_factory=Progress)
    stats: dict[str, WorkerStats] = field(default_factory=dict, init=False)
    busy_seconds: float = field(default=0.0, init=False)  # embedding with every worker ready: throughput's clock
    _actors: list[Any] = field(default_factory=list, init=False, repr=False)

    def __enter__(self) -> RayRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.progress.detail = None
        if self._actors:
            import ray

            for actor in self._actors:
                ray.kill(actor, no_restart=True)
            self._actors = []
        self._summarise()

    def embed_groups(self, groups: Sequence[list[str]], done: GroupDone) -> None:
        import ray

        self._pool(ray)  # started (and checked) before the clock: busy_seconds is embedding only
        started = time.perf_counter()

        def finished(number: int, result: tuple[np.ndarray, str]) -> None:
            vectors, worker = result
            stats = self.stats.setdefault(worker, WorkerStats())
            stats.groups += 1
            stats.passages += len(groups[number])
            stats.last = time.monotonic()
            done(number, vectors)

        self._dispatch([("embed", (texts, self.batch_size)) for texts in groups], finished, "embedding")
        self.busy_seconds += time.perf_counter() - started

    def map_step(self, step: Step, texts: Sequence[str], params: ChunkingParams | None = None) -> list[Any]:
        calls = [("step", (step, list(texts[i : i + STEP_BATCH]), params)) for i in range(0, len(texts), STEP_BATCH)]
        parts: list[list[Any]] = [[] for _ in calls]
        self._dispatch(calls, parts.__setitem__, step)
        return [item for part in parts for item in part]

    def _pool(self, ray: Any) -> list[Any]:
        if self._actors:
            return self._actors
        count = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // self.cpus_per_worker)
        remote = ray.remote(
            num_cpus=self.cpus_per_worker, max_restarts=RETRIES, max_task_retries=RETRIES, runtime_env=_fault_env()
        )(GroupEmbedder)
        settings = self.settings.model_dump(mode="json", include=set(WORKER_SETTINGS))
        nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        self.progress.log(f"starting {count} Ray workers ({self.cpus_per_worker} CPU each) over {nodes} nodes")
        self._actors = [remote.remote(self.model, settings, self.cpus_per_worker) for _ in range(count)]
        self._check(ray, self._actors)
        self.progress.detail = self._active
        return self._actors

    def _active(self) -> str:
        """For the progress lines: workers that finished a group lately (a stalled or lost one drops out)."""
        lately = time.monotonic() - ACTIVE_WINDOW_S
        return f"{sum(1 for s in self.stats.values() if s.last >= lately)} of {len(self._actors)} workers active"

    def _check(self, ray: Any, actors: list[Any]) -> None:
        expected = runtime_identity(self.embedder)
        refs = [actor.identity.remote() for actor in actors]
        _, pending = ray.wait(refs, num_returns=len(refs), timeout=self.settings.ray_watchdog_s)
        if pending:
            raise self._stalled(ray, "starting")
        try:
            identities = ray.get(refs)
        except ray.exceptions.RayError as exc:
            raise DistributedError(
                "a Ray worker could not start: every node needs the same tracuu release with its Ray extra "
                f"(pip install 'tracuu[ray]') and the model's files ({str(exc).strip().splitlines()[-1][:300]})"
            ) from exc
        for identity in identities:
            if identity != expected:
                differs = sorted(k for k in expected if identity.get(k) != expected.get(k))
                raise DistributedError(
                    "a Ray worker would embed differently from this machine ("
                    + "; ".join(f"{k}: worker {identity.get(k)!r}, here {expected.get(k)!r}" for k in differs)
                    + "): vectors of one index must come from one model, runtime and CPU kind; "
                    "run workers on machines like the driver, or index without --ray"
                )

    def _dispatch(
        self, calls: Sequence[tuple[str, tuple[Any, ...]]], done: Callable[[int, Any], None], what: str
    ) -> None:
        """Each (method, args) on a worker, IN_FLIGHT_PER_WORKER at most on each; `done(i, result)` as they end,
        under the watchdog."""
        if not calls:
            return
        import ray

        actors = self._pool(ray)
        queue = list(range(len(calls)))[::-1]  # popped from the end: the first call first
        running: dict[Any, tuple[int, int]] = {}  # result ref -> (call number, its worker's slot)
        load = dict.fromkeys(range(len(actors)), 0)

        def submit() -> None:
            while queue:
                slot = min(load, key=load.__getitem__)
                if load[slot] >= IN_FLIGHT_PER_WORKER:
                    return
                number = queue.pop()
                method, args = calls[number]
                running[getattr(actors[slot], method).remote(*args)] = (number, slot)
                load[slot] += 1

        submit()
        while running:
            ready, _ = ray.wait(list(running), num_returns=1, timeout=self.settings.ray_watchdog_s)
            if not ready:
                raise self._stalled(ray, what)
            number, slot = running.pop(ready[0])
            load[slot] -= 1
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayError as exc:
                raise DistributedError(
                    f"Ray: {what} failed on a worker {RETRIES + 1} times; the index is unchanged ({exc})"
                ) from exc
            done(number, result)
            submit()

    def _stalled(self, ray: Any, what: str) -> DistributedError:
        alive = sum(1 for node in ray.nodes() if node.get("Alive"))
        return DistributedError(
            f"Ray: nothing finished {what} in {self.settings.ray_watchdog_s:g} s with {alive} live nodes; a worker "
            "node was probably lost with none to take its place (Ray then waits forever: ray-project/ray#26991). "
            "The index is unchanged; run again when the cluster is whole: finished groups are not embedded again "
            "(TRACUU_RAY_WATCHDOG_S sets the wait)"
        )

    def _summarise(self) -> None:
        if not self.stats or not self.busy_seconds:
            return
        passages = sum(s.passages for s in self.stats.values())
        per_worker = ", ".join(f"{name} {s.passages} in {s.groups} groups" for name, s in sorted(self.stats.items()))
        self.progress.log(
            f"Ray: embedded {passages} passages in {self.busy_seconds:.1f} s on {len(self.stats)} workers, "
            f"{passages / self.busy_seconds / len(self.stats):.1f}/s per worker ({per_worker})"
        )


def _fault_env() -> dict[str, Any] | None:
    """Test-only: the fault injection of indexer.format.faults reaches the workers too."""
    env = {name: os.environ[name] for name in (FAULT_ENV, FAULT_ONCE_ENV) if os.environ.get(name)}
    return {"env_vars": env} if env else None


@contextlib.contextmanager
def ray_cluster(address: str) -> Iterator[None]:
    """Connected to the cluster at `address` (`ray://...`, `HOST:PORT`, `auto`), or to a throwaway local one
    of N CPUs for `local:N`; disconnected (and a local one stopped) afterwards."""
    try:
        import ray
    except ImportError as exc:
        raise DistributedError(f"--ray needs Ray: {INSTALL_HINT}") from exc
    if address.startswith("local:"):
        cpus = address.removeprefix("local:")
        if not cpus.isdigit() or int(cpus) < 1:
            raise DistributedError(f"--ray local:N takes a number of CPUs, got {address!r}")
        ray.init(num_cpus=int(cpus), include_dashboard=False, log_to_driver=False, configure_logging=False)
    else:
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise DistributedError(f"--ray {address}: cannot connect to a Ray cluster there ({exc})") from exc
    try:
        yield
    finally:
        ray.shutdown()
