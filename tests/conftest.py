"""Shared fixtures: one real embedding model and one real index of corpus/ per test session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracuu_cli.bench.server import Server as LiveServer
from tracuu_cli.bench.server import free_port, serving

__all__ = ["CORPUS", "ROOT", "SHARED", "LiveServer", "copy_index", "free_port"]  # imported by test modules

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def embedder():
    from models.embedder import Embedder

    return Embedder.load()


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """corpus/ indexed once; tests that change an index copy it first."""
    from indexer.build import build_index

    index_dir = tmp_path_factory.mktemp("sample") / "index"
    build_index([CORPUS], index_dir, embedder)
    return index_dir


@pytest.fixture(scope="session")
def searcher(sample_index: Path, embedder):
    from retrieval.searcher import Searcher

    return Searcher(sample_index, embedder=embedder)


def copy_index(index_dir: Path, dest: Path) -> Path:
    shutil.copytree(index_dir, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def live_server(sample_index: Path) -> Iterator[LiveServer]:
    with serving(sample_index) as server:
        yield server
