"""`tracuu bench --ray N`: embedding throughput of N Ray workers of one CPU each against one 1-CPU local run.

Both embed the same real passages with the same groups (indexer.embedding), alternated in rounds in one run;
the workers' start (model load) and a first warm-up on each side are left out, as they are paid once per
run, not per passage.
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
    local_rates: list[float] = []
    ray_rates: list[float] = []
    with ray_cluster(f"local:{workers}"), RayRunner(embedder, None, settings, BATCH, workers) as runner:
        distributed, local = Embedding(embedder, BATCH, runner), Embedding(embedder, BATCH)
        for warm_up in (local, distributed):  # first batches of a new session are slower: not what is measured
            warm_up.vectors(texts[: BATCH * 8 * workers], lambda n: None)
        for round_number in range(ROUNDS):
            started = time.perf_counter()
            local.vectors(texts, lambda n: None)
            local_rates.append(len(texts) / (time.perf_counter() - started))
            busy = runner.busy_seconds
            distributed.vectors(texts, lambda n: None)
            ray_rates.append(len(texts) / (runner.busy_seconds - busy))
            log(f"round {round_number + 1}: 1 CPU {local_rates[-1]:.1f}/s, {workers} workers {ray_rates[-1]:.1f}/s")
    one, many = statistics.median(local_rates), statistics.median(ray_rates)
    return {
        "ray_workers": workers,
        "passages": len(texts),
        "one_worker_passages_per_s": round(one, 1),
        "ray_passages_per_s": round(many, 1),
        "ray_scaling": round(many / one / workers, 3),  # the bar: at least 0.8
    }


def render(result: dict[str, Any]) -> str:
    return (
        f"Embedding on Ray ({result['passages']} real passages, median of {ROUNDS} rounds):\n"
        f"  one local worker, 1 CPU:        {result['one_worker_passages_per_s']:.1f} passages/s\n"
        f"  {result['ray_workers']} Ray workers, 1 CPU each:     {result['ray_passages_per_s']:.1f} passages/s "
        f"({result['ray_scaling']:.2f} of {result['ray_workers']} x one worker's)"
    )
