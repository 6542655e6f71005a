"""A real `tracuu serve` in a child process on a free port, for the benchmark and the tests."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`tracuu serve --index DIR` started at once, with this process's environment as it is now plus `env`.

    Its output goes to a log file in `log_dir` (a temporary file, removed by `stop`, without one).
    """

    def __init__(
        self, index_dir: Path, log_dir: Path | None = None, workers: int = 1, env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        cmd = [sys.executable, "-m", "tracuu_cli.main", "serve", "--index", str(index_dir), "--port", str(self.port)]
        if workers > 1:
            cmd += ["--workers", str(workers)]
        self._own_log = log_dir is None
        self.log_path = Path(tempfile.gettempdir() if log_dir is None else log_dir) / f"serve-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

    def request(self, path: str, timeout: float = 60) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def wait_ready(self, timeout: float = 120) -> float:
        """Seconds until /health answered 200 (and every worker is up); raises if the server dies or stalls."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tracuu serve exited ({self.proc.returncode}): {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                healthy = self.request("/health", timeout=5)[0] == 200
                if healthy and (self.workers <= 1 or self.all_listening()):
                    return time.monotonic() - started
            time.sleep(0.2)
        raise TimeoutError(f"tracuu serve did not become ready in {timeout:.0f} s")

    def all_listening(self) -> bool:
        """Every worker started and listening: on Linux each has a socket of its own on the port
        (search_api.server.WorkerSocket), so that no connection of a measurement goes to the first worker only
        because the other was not up yet."""
        if len(self.worker_pids()) < self.workers:
            return False
        if not Path("/proc/net/tcp").is_file():
            return True
        port = f"{self.port:04X}"
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    count += fields[1].rsplit(":", 1)[-1] == port and fields[3] == "0A"  # 0A: LISTEN
        return count >= self.workers

    def worker_pids(self) -> list[int]:
        """The processes holding the index: the server itself, or its uvicorn workers."""
        if self.workers <= 1:
            return [self.proc.pid]
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        return []

    def memory_mb(self) -> dict[str, float]:
        """From /proc/PID/status, summed over workers: VmHWM (peak resident set), and now: RssAnon
        (private memory) and RssFile (pages of mapped files: the index, shared with other processes)."""
        total = {"VmHWM": 0, "RssAnon": 0, "RssFile": 0}
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    key = line.split(":", 1)[0]
                    if key in total:
                        total[key] += int(line.split()[1])
        return {k: round(v / 1024, 1) for k, v in total.items()}

    def peak_rss_mb(self) -> float:
        """VmHWM (peak resident set) of the serving process, summed over workers."""
        return self.memory_mb()["VmHWM"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        if self._own_log:
            self.log_path.unlink(missing_ok=True)


@contextlib.contextmanager
def serving(
    index_dir: Path,
    log_dir: Path | None = None,
    workers: int = 1,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Iterator[Server]:
    """A ready server for the block, stopped after it."""
    server = Server(index_dir, log_dir, workers, env)
    try:
        server.wait_ready(timeout)
        yield server
    finally:
        server.stop()
