"""`tracuu index --ray` without Ray, or with a bad address: a clear error, nothing written (runs without the extra)."""

from __future__ import annotations

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
