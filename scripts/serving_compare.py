"""Two checkouts' `tracuu serve` side by side, interleaved in one run, so that a shared machine's noise falls on both.

    python scripts/serving_compare.py INDEX QUERIES.jsonl --old DIR[:PYTHONPATH] --new DIR[:PYTHONPATH]
        [--rounds 12] [--web-only]

Each checkout runs `python -m tracuu_cli.main serve` from its own directory (so it imports its own code; a
`:PYTHONPATH` after the directory puts more on the path, e.g. where a new dependency is installed), with one worker
and with `--workers 2` (TRACUU_THREADS=1, as `tracuu bench`), query cache off. Each round, in rotated order:
16 closed-loop clients x 64 distinct questions on every server (queries/s); one client x 40 questions on the
one-worker servers (p50); and the same 40 questions searched in this process (the search code of this checkout).
Prints a JSON line per round, then the medians, and the ratios per round's medians (`SUMMARY`).

`--web-only`: one-worker servers whose searches are memoised (each question searched once, then answered from
memory), one client, repeated questions: the milliseconds and the server's CPU a request costs outside the search.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tracuu_cli.bench import runner
from tracuu_cli.bench import server as bench_server

MEMOISED = (  # `tracuu serve` whose Searcher.search answers a question it saw from memory
    "import sys\n"
    "from retrieval.searcher import Searcher\n"
    "seen, search = {}, Searcher.search\n"
    "def memo(self, params):\n"
    "    if (id(self), params) not in seen: seen[id(self), params] = search(self, params)\n"
    "    return seen[id(self), params]\n"
    "Searcher.search = memo\n"
    "from tracuu_cli.main import main\n"
    "sys.argv = ['tracuu', *sys.argv[1:]]\n"
    "sys.exit(main())\n"
)


def cpu_ms(pid: int) -> float:
    """User + system CPU of a process so far, in ms (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def start(checkout: str, index: Path, workers: int, log_dir: Path, memo: bool = False) -> bench_server.Server:
    directory, _, path = checkout.partition(":")
    port = bench_server.free_port()
    env = {**os.environ, "PYTHONPATH": ":".join(p for p in (path, directory) if p), "TRACUU_QUERY_CACHE": "0"}
    head = [sys.executable, "-c", MEMOISED] if memo else [sys.executable, "-m", "tracuu_cli.main"]
    cmd = [*head, "serve", "--index", str(index), "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
        env["TRACUU_THREADS"] = "1"
    log = log_dir / f"serve-{port}.log"
    proc = subprocess.Popen(cmd, cwd=directory, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = bench_server.Server.__new__(bench_server.Server)
    server.port, server.proc, server.workers, server.log_path, server.url = (
        port,
        proc,
        1,
        log,
        f"http://127.0.0.1:{port}",
    )
    server.wait_ready(600)
    deadline = time.monotonic() + 600  # every worker up (either checkout's way of listening)
    while log.read_text().count("Application startup complete") < workers and time.monotonic() < deadline:
        time.sleep(0.5)
    return server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("queries", type=Path)
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--web-only", action="store_true")
    args = ap.parse_args()
    index = args.index.resolve()
    lines = args.queries.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["text"] for line in lines if line.strip()][:200]
    paths = [runner.search_path(q, k=10) for q in questions]
    log_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    checkouts = {"old": args.old, "new": args.new}
    if args.web_only:
        web_only(checkouts, index, paths[:100], args.rounds, log_dir)
        return
    servers = {f"{name}{w}": start(c, index, w, log_dir) for name, c in checkouts.items() for w in (1, 2)}
    from retrieval.contract import SearchParams
    from retrieval.searcher import Searcher
    from tracuu.settings import Settings

    local = Searcher(index, settings=Settings(query_cache=0))
    for server in servers.values():
        runner.http_load(server.port, paths[:64], 16)
    keys, rows = list(servers), []
    try:
        for r in range(args.rounds):
            chunk = [paths[(r * 64 + i) % len(paths)] for i in range(64)]
            one = [(r * 40 + i) % len(questions) for i in range(40)]
            row: dict[str, Any] = {"load": round(os.getloadavg()[0], 2)}
            for key in keys[r % len(keys) :] + keys[: r % len(keys)]:
                row[f"qps16_{key}"] = runner.http_load(servers[key].port, chunk, 16)["qps"]
            times = []
            for i in one:
                started = time.perf_counter()
                local.search(SearchParams(q=questions[i]))
                times.append(time.perf_counter() - started)
            row["inprocess_p50"] = round(1000 * statistics.median(times), 2)
            for key in ("old1", "new1")[:: 1 if r % 2 == 0 else -1]:
                row[f"http1_{key}"] = runner.http_load(servers[key].port, [paths[i] for i in one], 1)["p50_ms"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        stop(servers)

    def median(values: Any) -> float:
        return round(statistics.median(values), 2)

    summary = {key: median(row[key] for row in rows) for key in rows[0]}
    for name in checkouts:
        summary[f"http1_minus_inprocess_{name}"] = median(row[f"http1_{name}1"] - row["inprocess_p50"] for row in rows)
        for w in (1, 2):  # qps16 over 0.8 x cores x 1000 / in-process p50 (issue 19's bar, 2 cores), per round
            bar = f"qps16_{name}{w}_of_bar"
            summary[bar] = median(row[f"qps16_{name}{w}"] * row["inprocess_p50"] / 1600 for row in rows)
        summary[f"{name}2_over_{name}1"] = median(row[f"qps16_{name}2"] / row[f"qps16_{name}1"] for row in rows)
        summary[f"rounds_{name}2_below_{name}1"] = sum(row[f"qps16_{name}2"] < row[f"qps16_{name}1"] for row in rows)
    for w in (1, 2):
        summary[f"new{w}_over_old{w}"] = median(row[f"qps16_new{w}"] / row[f"qps16_old{w}"] for row in rows)
    print("SUMMARY " + json.dumps(summary), flush=True)


def stop(servers: dict[str, Any]) -> None:
    """Stop every server started, and wait for each to exit."""
    for server in servers.values():
        server.proc.terminate()
        server.proc.wait()


def web_only(checkouts: dict[str, str], index: Path, paths: list[str], rounds: int, log_dir: Path) -> None:
    servers = {name: start(c, index, 1, log_dir, memo=True) for name, c in checkouts.items()}
    rows = []
    try:
        for server in servers.values():
            runner.http_load(server.port, paths, 1)  # every question searched once: memoised from now on
        for r in range(rounds):
            row: dict[str, Any] = {"load": round(os.getloadavg()[0], 2)}
            for name in list(servers)[:: 1 if r % 2 == 0 else -1]:
                pid = servers[name].proc.pid
                before = cpu_ms(pid)
                result = runner.http_load(servers[name].port, paths * 3, 1)
                row[f"server_cpu_ms_{name}"] = round((cpu_ms(pid) - before) / (3 * len(paths)), 3)
                row[f"p50_ms_{name}"] = result["p50_ms"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        stop(servers)
    summary = {key: round(statistics.median(row[key] for row in rows), 3) for key in rows[0]}
    print("SUMMARY " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
