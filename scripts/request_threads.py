"""Side by side: 16 closed-loop HTTP clients against `tracuu serve` with different TRACUU_REQUEST_THREADS.

    python scripts/request_threads.py INDEX_DIR QUERIES_JSONL [--workers N] [--threads 40,0] [--rounds 2]

Distinct questions, query cache off (every request embeds its query), rounds interleaved so that
background noise hits every setting alike. 40 was the number of threads before the limit existed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tracuu.system import available_cpus
from tracuu_cli.bench import runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("queries", type=Path, help="BEIR queries.jsonl")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", default="40,0", help="TRACUU_REQUEST_THREADS values, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    lines = args.queries.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["text"] for line in lines if line.strip()]
    paths = [runner.search_path(q, k=10) for q in questions[: args.requests]]
    cfg = runner.BenchConfig()
    env = {"TRACUU_QUERY_CACHE": "0"}
    if args.workers > 1:
        env["TRACUU_THREADS"] = str(max(1, available_cpus() // args.workers))
    print("| workers | request threads | p50 ms | p95 ms | p99 ms | qps | errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for _ in range(args.rounds):
        for threads in args.threads.split(","):
            with runner.serving(args.index, cfg, args.workers, TRACUU_REQUEST_THREADS=threads, **env) as server:
                runner.http_load(server.port, paths[:32], 16)  # warm-up
                r = runner.http_load(server.port, paths, 16)
            print(
                f"| {args.workers} | {threads} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['qps']} | "
                f"{r['errors']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
