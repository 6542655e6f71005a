"""`tracuu index --ray` without Ray, or with a bad address: a clear error, nothing written (runs without the extra)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import CORPUS

from tracuu_cli.main import main


def test_without_the_extra_the_run_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as without tracuu[ray]
    assert main(["index", str(CORPUS), "--index", str(tmp_path / "index"), "--ray", "local:2"]) == 1
    assert "pip install 'tracuu[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "index").exists()


def test_a_bad_local_cluster_size_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ray")
    assert main(["index", str(CORPUS), "--index", str(tmp_path / "index"), "--ray", "local:many"]) == 1
    assert "local:N takes a number of CPUs" in capsys.readouterr().err
    assert not (tmp_path / "index").exists()


def test_ray_workers_needs_ray_and_a_positive_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--ray-workers", "2"], ["--ray", "local:2", "--ray-workers", "0"]):
        assert main(["index", str(CORPUS), "--index", str(tmp_path / "index"), *args]) == 2
        assert "--ray-workers" in capsys.readouterr().err
    assert not (tmp_path / "index").exists()


def test_bench_ray_measures_workers_against_one_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    """`tracuu bench --ray 1` for real, on a few passages: a local cluster, all three sides, the JSON line."""
    pytest.importorskip("ray")
    assert main(["bench", "--ray", "1", "--passages", "24", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ray_workers"] == 1 and result["passages"] == 24
    for name in ("one_worker_passages_per_s", "ray_passages_per_s", "local_all_cpus_passages_per_s"):
        assert result[name] > 0, name
    ratio = result["ray_passages_per_s"] / result["one_worker_passages_per_s"]
    assert result["ray_scaling"] == pytest.approx(ratio, rel=0.01)
