"""Progress of `tracuu index`: log lines off a terminal, per-stage seconds in the summary, silence by default."""

from __future__ import annotations

import io
import re
from pathlib import Path

from conftest import CORPUS

from indexer.build import IndexSummary, build_index
from indexer.progress import Progress

STAGES = ("read", "chunk", "embed", "tones", "vectors", "lexical", "publish")


class FakeClock:
    """Advances one second each time it is read: rates and ETAs come out non-zero without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_log_lines_off_a_terminal_have_counts_rate_and_eta() -> None:
    stream = io.StringIO()
    progress = Progress(stream, interval=0, clock=FakeClock())
    assert not progress.tty
    with progress.stage("embed", total=10, unit="passages") as stage:
        for _ in range(5):
            stage.update(2)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "index: embed: started, 10 passages"
    updates = [line for line in lines if re.search(r"embed: \d+/10 passages", line)]
    assert len(updates) == 5  # interval 0: one line per update
    assert re.fullmatch(r"index: embed: 2/10 passages \(20%\), [\d.]+/s, ETA \d+s", updates[0])
    assert updates[-1].startswith("index: embed: 10/10 passages (100%)") and "ETA 0s" in updates[-1]
    assert re.fullmatch(r"index: embed: done, 10 passages in [\d.]+ s, [\d.]+/s", lines[-1])
    assert set(progress.timings) == {"embed"} and progress.timings["embed"] > 0


def test_the_interval_holds_back_log_lines_and_an_unknown_total_has_no_eta() -> None:
    stream = io.StringIO()
    progress = Progress(stream, interval=3600, clock=FakeClock())
    with progress.stage("read", unit="articles") as stage:
        for _ in range(100):
            stage.update()
    assert stream.getvalue().splitlines() == [
        "index: read: started",
        f"index: read: done, 100 articles in {progress.timings['read']:.1f} s, {100 / progress.timings['read']:.1f}/s",
    ]
    stream = io.StringIO()
    progress = Progress(stream, interval=0, clock=FakeClock())
    with progress.stage("read", unit="articles") as stage:
        stage.update(3)
    assert re.search(r"read: 3 articles, [\d.]+/s$", stream.getvalue().splitlines()[1])
    assert "ETA" not in stream.getvalue()


def test_quiet_progress_writes_nothing_but_still_times_stages() -> None:
    for progress in (Progress(None, interval=0), Progress(io.StringIO(), quiet=True, interval=0)):
        with progress.stage("embed", total=2) as stage:
            stage.update(2)
        assert progress.stream is None and "embed" in progress.timings


def test_the_summary_line_ends_with_every_stage_in_seconds() -> None:
    summary = IndexSummary(articles=3, passages=9, embedded_passages=9, embedded_articles=3, seconds=5.0)
    before = summary.line()
    summary.stages = {name: 0.5 for name in STAGES}
    line = summary.line()
    assert line.startswith(before) and line.startswith("indexed 3 articles, 9 passages in 5.0 s")
    assert line.endswith(" (" + ", ".join(f"{name} 0.5 s" for name in STAGES) + ")")


def test_a_real_build_reports_every_stage(tmp_path: Path, embedder, capsys) -> None:
    stream = io.StringIO()
    summary = build_index([CORPUS], tmp_path / "index", embedder, progress=Progress(stream, interval=0))
    log = stream.getvalue()
    for name in STAGES:
        assert f"index: {name}: started" in log
        assert re.search(rf"^index: {name}: done\b.* in [\d.]+ s", log, re.M), name
    assert f"embed: started, {summary.embedded_passages} passages" in log
    assert re.search(rf"embed: {summary.embedded_passages}/{summary.embedded_passages} passages \(100%\)", log)
    assert list(summary.stages) == list(STAGES)
    assert re.search(r"\(read [\d.]+ s, chunk [\d.]+ s, embed [\d.]+ s, .* publish [\d.]+ s\)$", summary.line())
    assert "index:" not in capsys.readouterr().err  # the log went to the stream given, not stderr


def test_a_library_build_is_silent_on_stderr(tmp_path: Path, embedder, capsys) -> None:
    summary = build_index([CORPUS], tmp_path / "index", embedder)
    assert capsys.readouterr().err == ""
    assert list(summary.stages) == list(STAGES)  # timed even when silent


def test_on_a_terminal_each_stage_is_a_bar_not_log_lines() -> None:
    stream = io.StringIO()
    progress = Progress(stream, tty=True, interval=0)
    with progress.stage("embed", total=4, unit="passages") as stage:
        stage.update(4)
    assert "embed" in stream.getvalue() and "4/4" in stream.getvalue()
    assert "index:" not in stream.getvalue()


def test_a_distributed_run_adds_its_workers_to_each_line() -> None:
    stream = io.StringIO()
    progress = Progress(stream, interval=0, clock=FakeClock())
    progress.detail = lambda: "2 of 3 workers active"  # what indexer.distributed.RayRunner sets while it runs
    with progress.stage("embed", total=4, unit="passages") as stage:
        stage.update(2)
    assert re.search(
        r"embed: 2/4 passages \(50%\), [\d.]+/s, ETA \d+s, 2 of 3 workers active$", stream.getvalue(), re.M
    )
