"""A distributed build (`--ray`) on a real local Ray cluster gives the same index as a local build.

The cluster is Ray's own test cluster (`ray.cluster_utils.Cluster`): a head and a worker node of one CPU each
on this machine, with small object stores. Skipped without the `tracuu[ray]` extra (`.ci/run` installs it).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CORPUS, ROOT

from indexer.build import build_index
from indexer.format import layout
from indexer.progress import Progress
from tracuu.settings import Settings

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

from indexer.distributed import DistributedError, RayRunner  # noqa: E402  (after the skip: needs ray)

OBJECT_STORE = 80 * 1024 * 1024


def _cluster(nodes: int) -> Any:
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "object_store_memory": OBJECT_STORE, "include_dashboard": False},
    )
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1, object_store_memory=OBJECT_STORE)
    cluster.wait_for_nodes()
    return cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Head plus one worker node; this process is the driver."""
    cluster = _cluster(2)
    ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def _articles(path: Path, count: int = 40, changed: tuple[int, ...] = ()) -> Path:
    """`count` news-like articles of five paragraphs each, drawn in turn from corpus/ (JSON Lines)."""
    paragraphs = [
        p.strip()
        for source in sorted(CORPUS.glob("*.txt"))
        for p in source.read_text(encoding="utf-8").split("\n")
        if len(p.strip()) > 80
    ]
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            body = [paragraphs[(n * 7 + i * 13) % len(paragraphs)] for i in range(5)]
            if n in changed:
                body.append(f"Cập nhật: bài số {n} được bổ sung số liệu mới về kết nạp đảng viên năm 2024.")
            article = {
                "id": f"bai-{n:03d}",
                "title": f"Bài {n}: " + body[0][:60],
                "text": "\n\n".join(body),
                "source": ["baoA.vn", "baoB.vn", "baoC.vn"][n % 3],
                "published": f"2023-{n % 12 + 1:02d}-{n % 27 + 1:02d}",
            }
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
    return path


BATCH = 8  # groups of 64 passages: several groups for a few dozen articles


def _runner(embedder: Any, **kwargs: Any) -> RayRunner:
    return RayRunner(embedder, None, Settings(**kwargs), batch_size=BATCH, workers=2)


def _tables(store: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(store) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {name: db.execute(f"SELECT * FROM {name}").fetchall() for name in names}  # noqa: S608


def assert_same_index(local: Path, distributed: Path) -> None:
    """Every file of the two versions the same bytes, SQLite stores the same rows, manifests equal but for the time."""
    one, two = layout.current_version(local), layout.current_version(distributed)
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for name in files:
        if name.name == layout.MANIFEST:
            first, second = (json.loads((v / name).read_text()) for v in (one, two))
            first.pop("created"), second.pop("created")
            assert first == second
        elif name.suffix == ".sqlite":
            assert _tables(one / name) == _tables(two / name), name
        else:
            assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_ray_build_equals_local_build_and_again_after_an_update(cluster: Any, embedder: Any, tmp_path: Path) -> None:
    sources = _articles(tmp_path / "articles.jsonl")
    local, distributed = tmp_path / "local", tmp_path / "ray"
    build_index([sources], local, embedder, batch_size=BATCH)
    with _runner(embedder) as runner:
        summary = build_index([sources], distributed, embedder, batch_size=BATCH, runner=runner)
    assert summary.embedded_passages > 100
    assert_same_index(local, distributed)
    nodes = {worker.split()[1] for worker in runner.stats}
    assert len(nodes) == 2, f"the groups ran on one node only: {runner.stats}"
    assert sum(s.passages for s in runner.stats.values()) == summary.embedded_passages

    _articles(sources, changed=(3, 17))  # two articles change: only they are embedded again, on the cluster
    build_index([sources], local, embedder, batch_size=BATCH)
    with _runner(embedder) as runner:
        again = build_index([sources], distributed, embedder, batch_size=BATCH, runner=runner)
    assert again.embedded_ids == ["bai-003", "bai-017"]
    assert_same_index(local, distributed)
    assert not (distributed / layout.EMBEDDING_CACHE).exists()  # published: the group cache is gone


def test_a_killed_worker_is_replaced_and_the_index_is_the_same(
    cluster: Any, embedder: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = _articles(tmp_path / "articles.jsonl", count=24)
    build_index([sources], tmp_path / "local", embedder, batch_size=BATCH)
    marker = tmp_path / "killed"
    monkeypatch.setenv("TRACUU_FAULT_AT", "worker")  # the first group a worker starts: SIGKILL, once
    monkeypatch.setenv("TRACUU_FAULT_ONCE", str(marker))
    with _runner(embedder) as runner:
        build_index([sources], tmp_path / "ray", embedder, batch_size=BATCH, runner=runner)
    assert marker.exists(), "no worker was killed"
    assert_same_index(tmp_path / "local", tmp_path / "ray")


def _tracuu(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracuu_cli.main", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_killed_driver_leaves_the_index_and_the_rerun_embeds_only_the_rest(
    cluster: Any, embedder: Any, tmp_path: Path
) -> None:
    sources = _articles(tmp_path / "articles.jsonl", count=60)
    index_dir = tmp_path / "index"
    first = _articles(tmp_path / "first.jsonl", count=2)
    build_index([first], index_dir, embedder, batch_size=BATCH)
    served = layout.current_version(index_dir).name
    address = ["--ray", cluster.address, "--batch-size", str(BATCH)]
    killed = _tracuu("index", str(sources), "--index", str(index_dir), *address, env={"TRACUU_FAULT_AT": "group"})
    assert killed.returncode == -9, killed.stderr
    assert layout.current_version(index_dir).name == served
    assert len(list((index_dir / layout.EMBEDDING_CACHE).glob("*.npy"))) == 1  # killed after its first group

    rerun = _tracuu("index", str(sources), "--index", str(index_dir), *address)
    assert rerun.returncode == 0, rerun.stderr
    assert "finished by an earlier run" in rerun.stdout, rerun.stdout
    assert "Ray workers" in rerun.stderr and "per worker" in rerun.stderr
    for run in (first, sources):  # the same two runs, locally
        build_index([run], tmp_path / "local", embedder, batch_size=BATCH)
    assert_same_index(tmp_path / "local", index_dir)


def test_workers_that_embed_differently_are_refused(cluster: Any, embedder: Any, tmp_path: Path) -> None:
    sources = _articles(tmp_path / "articles.jsonl", count=4)
    other = RayRunner(embedder, None, Settings(batch_tokens=256), workers=1)  # int8 batches differ: vectors too
    with other, pytest.raises(DistributedError, match="batching"):
        build_index([sources], tmp_path / "index", embedder, runner=other)
    assert not (tmp_path / "index" / layout.CURRENT).exists()


def test_workers_that_cannot_start_end_the_run_with_a_clear_error(
    cluster: Any, embedder: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = _articles(tmp_path / "articles.jsonl", count=4)
    monkeypatch.setenv("TRACUU_FAULT_AT", "enospc:worker-start")  # as a node without the model's files would
    with _runner(embedder) as runner, pytest.raises(DistributedError, match="could not start"):
        build_index([sources], tmp_path / "index", embedder, runner=runner)
    assert not (tmp_path / "index" / layout.CURRENT).exists()


def test_a_lost_node_ends_in_the_watchdog_error_not_a_hang(embedder: Any, tmp_path: Path) -> None:
    """Ray waits forever for an actor that cannot be placed again (ray-project/ray#26991): the run stops."""
    sources = _articles(tmp_path / "articles.jsonl", count=30)
    ray.shutdown()  # this test has a cluster of its own, which it breaks
    doomed = _cluster(2)
    ray.init(address=doomed.address, log_to_driver=False, configure_logging=False)
    try:
        worker_node = doomed.list_all_nodes()[1]
        runner = RayRunner(embedder, None, Settings(ray_watchdog_s=5), workers=2, progress=Progress())
        embed_groups = runner.embed_groups

        def losing_a_node(groups: Any, done: Any) -> None:
            def first_done(number: int, vectors: np.ndarray) -> None:
                if worker_node in doomed.list_all_nodes():
                    doomed.remove_node(worker_node)  # no node is left to restart its worker on
                done(number, vectors)

            embed_groups(groups, first_done)

        runner.embed_groups = losing_a_node  # type: ignore[method-assign]
        with runner, pytest.raises(DistributedError, match="ray-project/ray#26991"):
            build_index([sources], tmp_path / "index", embedder, batch_size=2, runner=runner)
        assert not (tmp_path / "index" / layout.CURRENT).exists()
    finally:
        ray.shutdown()
        doomed.shutdown()
