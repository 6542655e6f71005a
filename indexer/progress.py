"""Progress of a `tracuu index` run: a bar per stage on a terminal, log lines elsewhere, silence for library calls.

    progress = Progress(sys.stderr)              # the CLI; build_index(..., progress=None) is silent
    with progress.stage("embed", total=len(texts), unit="passages") as stage:
        for batch in batches:
            ...
            stage.update(len(batch))
    progress.timings                             # {"embed": 48.0, ...}: seconds per stage, kept even when silent

Off a terminal a stage logs one line when it starts, one at least every `interval` seconds while it is
updated (counts done/total, rate per second, ETA; checked on each update by a monotonic clock, no thread),
and one when it ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

LOG_INTERVAL = 10.0  # seconds between log lines of a stage, off a terminal


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Stage:
    """One stage of a run; use as a context manager, or call `close` (see `Progress.stage`)."""

    def __init__(self, progress: Progress, name: str, total: int | None, unit: str) -> None:
        self.progress = progress
        self.name = name
        self.total = total
        self.unit = unit
        self.done = 0
        self.closed = False
        self._started = progress.clock()
        self._last_log = self._started
        self._bar: tqdm | None = None
        if progress.stream is None:
            return
        if progress.tty:
            from tqdm import tqdm  # only for a terminal: not on the way of `tracuu search`

            self._bar = tqdm(total=total, desc=name, unit=f" {unit}", file=progress.stream, dynamic_ncols=True)
        else:
            of = f", {total} {unit}" if total is not None else ""
            progress.log(f"{name}: started{of}")

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        if self.progress.stream is None:
            return
        now = self.progress.clock()
        if now - self._last_log >= self.progress.interval:
            self._last_log = now
            self.progress.log(self.status(now))

    def status(self, now: float) -> str:
        """`embed: 1200/5000 passages (24%), 35.2/s, ETA 1m48s`."""
        elapsed = now - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        detail = f", {self.progress.detail()}" if self.progress.detail is not None else ""
        if self.total is None:
            return f"{self.name}: {self.done} {self.unit}, {rate:.1f}/s{detail}"
        percent = 100 * self.done / self.total if self.total else 100.0
        eta = _duration((self.total - self.done) / rate) if rate > 0 else "?"
        return f"{self.name}: {self.done}/{self.total} {self.unit} ({percent:.0f}%), {rate:.1f}/s, ETA {eta}{detail}"

    def close(self) -> float:
        """End the stage (once); returns and records its seconds."""
        if self.closed:
            return self.progress.timings[self.name]
        self.closed = True
        seconds = self.progress.clock() - self._started
        self.progress.timings[self.name] = self.progress.timings.get(self.name, 0.0) + seconds
        if self._bar is not None:
            self._bar.close()
        elif self.progress.stream is not None:
            rate = f", {self.done / seconds:.1f}/s" if seconds > 0 and self.done else ""
            count = f", {self.done} {self.unit}" if self.done else ""
            self.progress.log(f"{self.name}: done{count} in {seconds:.1f} s{rate}")
        return seconds

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class Progress:
    """Where a run reports its stages: `stream=None` (or `quiet=True`) is silent but still times them.

    `tty` defaults to whether `stream` is a terminal; `interval` (seconds between log lines off a
    terminal) may be 0 to log every update; `clock` is monotonic.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        quiet: bool = False,
        interval: float = LOG_INTERVAL,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = None if quiet else stream
        self.interval = interval
        self.clock = clock
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self.timings: dict[str, float] = {}  # seconds per stage, in the order the stages started
        self.detail: Callable[[], str] | None = None  # more for each status line (a distributed run's workers)

    def stage(self, name: str, total: int | None = None, unit: str = "items") -> Stage:
        self.timings.setdefault(name, 0.0)
        return Stage(self, name, total, unit)

    def log(self, message: str) -> None:
        if self.stream is not None:
            print(f"index: {message}", file=self.stream, flush=True)

    def summary(self) -> str:
        """`read 1.2 s, embed 48.0 s, ...`: each stage's seconds, in the order they ran."""
        return self.format_timings(self.timings)

    @staticmethod
    def format_timings(timings: dict[str, float]) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
