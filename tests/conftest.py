"""Shared fixtures: one real embedding model and one real index of corpus/ per test session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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
    from search_api.searcher import Searcher

    return Searcher(sample_index, embedder=embedder)


def copy_index(index_dir: Path, dest: Path) -> Path:
    shutil.copytree(index_dir, dest, symlinks=True)
    return dest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`tracuu serve` in a child process on a free port."""

    def __init__(self, index_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "tracuu.cli", "serve", "--index", str(index_dir), "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{out}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError("server did not become ready")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def live_server(sample_index: Path) -> Iterator[LiveServer]:
    server = LiveServer(sample_index)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
