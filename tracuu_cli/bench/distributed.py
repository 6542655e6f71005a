"""`tracuu bench --ray N`: embedding throughput of N Ray workers of one CPU each against one 1-CPU local run.

All embed the same real passages with the same groups (indexer.embedding), alternated in rounds in one run;
the workers' start (model load) and a first warm-up on each side are left out, as they are paid once per
run, not per passage. A third figure, one local run on N CPUs (the embedder's own threads), says what this
machine gives N processes at once: on a shared or hyperthreaded host it is less than N x one CPU's, and
no cluster on it can do better.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from indexer.distributed import RayRunner, ray_cluster
from indexer.embedding import Embedding
from models.embedder import Embedder
from tracuu_cli.bench.runner import BenchConfig, embed_sample, load_real_data, log

BATCH = 8  # groups of 64 passages: enough groups to keep every worker busy
ROUNDS = 3


def measure_ray_scaling(cfg: BenchConfig, workers: int, passages: int = 768) -> dict[str, Any]:
    settings = cfg.settings.model_copy(update={"threads": 1})  # one CPU, as each worker has
    embedder = Embedder.load(settings=settings)
    texts = embed_sample(load_real_data(cfg, embedder.count_tokens), passages)
    rates: dict[str, list[float]] = {"one": [], "ray": [], "local": []}
    with ray_cluster(f"local:{workers}"), RayRunner(embedder, None, settings, BATCH, workers) as runner:
        sides = {
            "one": Embedding(embedder, BATCH),
            "ray": Embedding(embedder, BATCH, runner),
            "local": Embedding(Embedder.load(settings=cfg.settings.model_copy(update={"threads": workers})), BATCH),
        }
        for side in sides.values():  # the first batches of a new session are slower: not what is measured
            side.vectors(texts[: BATCH * 8 * workers], lambda n: None)
        for round_number in range(ROUNDS):
            for name, side in sides.items():
                started, busy = time.perf_counter(), runner.busy_seconds
                side.vectors(texts, lambda n: None)
                seconds = runner.busy_seconds - busy if name == "ray" else time.perf_counter() - started
                rates[name].append(len(texts) / seconds)
            log(f"round {round_number + 1}: " + ", ".join(f"{k} {v[-1]:.1f}/s" for k, v in rates.items()))
    one, ray, local = (statistics.median(rates[name]) for name in ("one", "ray", "local"))
    return {
        "ray_workers": workers,
        "passages": len(texts),
        "one_worker_passages_per_s": round(one, 1),
        "ray_passages_per_s": round(ray, 1),
        "local_all_cpus_passages_per_s": round(local, 1),
        "ray_scaling": round(ray / one / workers, 3),  # the bar: at least 0.8
        "machine_scaling": round(local / one / workers, 3),  # what N busy CPUs give here, without Ray
    }


def render(result: dict[str, Any]) -> str:
    n = result["ray_workers"]
    return (
        f"Embedding on Ray ({result['passages']} real passages, median of {ROUNDS} rounds):\n"
        f"  one local worker, 1 CPU:     {result['one_worker_passages_per_s']:.1f} passages/s\n"
        f"  {n} Ray workers, 1 CPU each:  {result['ray_passages_per_s']:.1f} passages/s "
        f"({result['ray_scaling']:.2f} of {n} x one worker's)\n"
        f"  one local run on {n} CPUs:     {result['local_all_cpus_passages_per_s']:.1f} passages/s "
        f"({result['machine_scaling']:.2f} of {n} x one worker's: what this machine gives {n} at once)"
    )
