"""Crash safety of `tracuu index`: SIGKILL at every stage, a full disk, a failing write.

Each run re-indexes a copy of the session's good index with one new article (so it reads, embeds
and writes a whole new version) and dies on the way: by SIGKILL at a named stage (the test-only
hook TRACUU_FAULT_AT, see indexer/format/faults.py), by SIGKILL from outside at a random moment, by an
injected ENOSPC, or by a real kernel write error (a file-size rlimit). After every death the
index must still load and answer exactly as before, leftovers must never be taken for an
index, and the next ordinary run must complete and clean them up.

The runs are `tracuu_cli.main.main(["index", ...])` in processes forked from one helper that imported
everything and loaded the model once (a cold `tracuu index` costs many seconds on 2 cores).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, ROOT, copy_index
from searching import search

from indexer.format import layout
from indexer.format.faults import STAGES
from indexer.format.records import Article, Passage
from indexer.format.writer import LIBRARIES, Recipe, VersionWriter, write_version
from retrieval.searcher import Searcher
from tracuu.text.restore import ToneModel

NEW_ARTICLE = {
    "id": "crash-test-1",
    "title": "Xã Thử Nghiệm khánh thành cầu treo bắc qua sông Bến Hải",
    "text": "Sáng nay, xã Thử Nghiệm tổ chức lễ khánh thành cầu treo dài 120 mét bắc qua sông Bến Hải. "
    "Cây cầu giúp hơn 300 hộ dân đi lại thuận tiện.",
    "source": "Báo Thử Nghiệm",
    "published": "2024-05-06",
}
QUERIES = ["kết nạp đảng viên mới", "cầu treo sông Bến Hải", "Ba Đồn kỷ luật đảng viên"]

FORKSERVER = textwrap.dedent(
    """
    import json, os, resource, signal, sys, time, traceback
    from models.embedder import Embedder
    import tracuu_cli.main, indexer.build  # noqa: F401  (imported once, before forking)

    _model = Embedder.load()
    Embedder.load = classmethod(lambda cls, *args, **kwargs: _model)
    print("ready", flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        sys.stdout.flush()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            rc = 99
            try:
                os.environ.update(job["env"])
                for fd, path in ((1, job["out"]), (2, job["err"])):
                    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                    os.dup2(handle, fd)
                if job.get("fsize"):
                    resource.setrlimit(resource.RLIMIT_FSIZE, (job["fsize"], job["fsize"]))
                rc = tracuu_cli.main.main(job["argv"])
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(rc)
        status = None
        while status is None:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = raw
            elif job.get("kill_after") is not None and time.monotonic() - started > job["kill_after"]:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
            else:
                time.sleep(0.01)
        result = {"seconds": time.monotonic() - started}
        if os.WIFSIGNALED(status):
            result["signal"] = os.WTERMSIG(status)
        else:
            result["rc"] = os.WEXITSTATUS(status)
        print(json.dumps(result), flush=True)
    """
)


class Indexer:
    """Runs `tracuu index` jobs in processes forked from one warm helper."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        env = {**os.environ, "TRACUU_THREADS": "1", "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FORKSERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert self.proc.stdout.readline().strip() == "ready"
        self.runs = 0

    def run(self, sources: list[Path], index_dir: Path, *extra: str, **job) -> dict:
        self.runs += 1
        out, err = self.workdir / f"out-{self.runs}.txt", self.workdir / f"err-{self.runs}.txt"
        argv = ["index", *map(str, sources), "--index", str(index_dir), *extra]
        job = {"argv": argv, "env": job.pop("env", {}), "out": str(out), "err": str(err), **job}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        result = json.loads(self.proc.stdout.readline())
        result["stdout"] = out.read_text(errors="replace")
        result["stderr"] = err.read_text(errors="replace")
        return result

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def indexer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Indexer]:
    helper = Indexer(tmp_path_factory.mktemp("crash-runs"))
    yield helper
    helper.close()


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    extra = tmp_path_factory.mktemp("crash-src") / "new.jsonl"
    extra.write_text(json.dumps(NEW_ARTICLE, ensure_ascii=False) + "\n", encoding="utf-8")
    return [CORPUS, extra]


def answers(index_dir: Path, embedder) -> tuple[str, list]:
    """The served version and its answers to QUERIES (timings left out)."""
    searcher = Searcher(index_dir, embedder=embedder)
    results = []
    try:
        for query in QUERIES:
            result = search(searcher, query, 5)
            result.pop("took_ms")
            results.append(result)
    finally:
        searcher.close()
    return searcher.version, results


def assert_unharmed(index_dir: Path, before: tuple[str, list], embedder) -> None:
    assert (index_dir / layout.CURRENT).is_symlink()
    assert layout.current_version(index_dir).name == before[0]
    assert answers(index_dir, embedder) == before
    leftovers = [p for p in index_dir.iterdir() if p.name.startswith((layout.TMP_PREFIX, layout.VERSION_PREFIX))]
    for path in leftovers:  # whatever a crash left is never what `current` points to
        assert path.name == before[0] or path.resolve() != (index_dir / layout.CURRENT).resolve()


def assert_clean_after_good_run(indexer: Indexer, sources: list[Path], index_dir: Path, embedder) -> None:
    result = indexer.run(sources, index_dir)
    assert result.get("rc") == 0, result
    assert "indexed 6 articles" in result["stdout"]
    assert not list(index_dir.glob(layout.TMP_PREFIX + "*")), "leftovers of crashed runs were not removed"
    versions = sorted(p.name for p in index_dir.glob(layout.VERSION_PREFIX + "*"))
    assert len(versions) <= 1 + layout.KEEP_OLD_VERSIONS and layout.current_version(index_dir).name in versions
    _, results = answers(index_dir, embedder)
    assert results[1]["hits"][0]["doc_id"] == "crash-test-1"


def test_sigkill_at_every_stage_leaves_the_served_index_intact(
    indexer: Indexer, sources: list[Path], sample_index: Path, tmp_path: Path, embedder
) -> None:
    index_dir = copy_index(sample_index, tmp_path / "index")
    before = answers(index_dir, embedder)
    assert all(h["doc_id"] != "crash-test-1" for h in before[1][1]["hits"])
    for stage in STAGES:
        # one segment at most: the update's new segment is merged with the old one (the "merge" stage)
        result = indexer.run(sources, index_dir, env={"TRACUU_FAULT_AT": stage, "TRACUU_MAX_SEGMENTS": "1"})
        assert result.get("signal") == 9, f"stage {stage}: the run was not killed there: {result}"
        assert_unharmed(index_dir, before, embedder)
        temps = [p for p in index_dir.glob(layout.TMP_PREFIX + "*") if p.is_dir() and not p.is_symlink()]
        unpublished = [p for p in index_dir.glob(layout.VERSION_PREFIX + "*") if p.name > before[0]]
        if stage == "read":  # killed while reading sources: nothing was written yet
            assert not temps and not unpublished
        elif stage in ("publish", "swap"):  # a complete version was renamed into place but never served
            assert unpublished and (unpublished[0] / layout.MANIFEST).is_file(), stage
        else:  # killed while building: a temporary version directory is left behind, unused
            assert len(temps) == 1, stage
            assert (temps[0] / layout.MANIFEST).exists() == (stage == "manifest"), stage
    assert_clean_after_good_run(indexer, sources, index_dir, embedder)


def test_sigkill_at_random_moments(indexer: Indexer, sample_index: Path, tmp_path: Path, embedder):
    index_dir = copy_index(sample_index, tmp_path / "index")
    before = answers(index_dir, embedder)
    probe = copy_index(sample_index, tmp_path / "probe")

    def changed(trial: int) -> list[Path]:
        """The sources with the new article changed again: each run has a segment to write (and to merge)."""
        path = tmp_path / f"new-{trial}.jsonl"
        article = {**NEW_ARTICLE, "text": f"{NEW_ARTICLE['text']} Bản tin cập nhật lần thứ {trial}."}
        path.write_text(json.dumps(article, ensure_ascii=False) + "\n", encoding="utf-8")
        return [CORPUS, path]

    assert indexer.run(changed(0), probe).get("rc") == 0
    full = indexer.run(changed(1), probe, env={"TRACUU_MAX_SEGMENTS": "1"})  # how long an update and a merge take
    assert full.get("rc") == 0, full
    rng = random.Random(int(os.environ.get("TRACUU_CRASH_SEED", "5")))
    outcomes: list[str] = []
    for trial in range(int(os.environ.get("TRACUU_CRASH_RUNS", "3"))):
        merges = {"TRACUU_MAX_SEGMENTS": "1"} if rng.random() < 0.5 else {}  # an update, or an update and a merge
        run = changed(trial + 2)
        result = indexer.run(run, index_dir, env=merges, kill_after=rng.uniform(0, full["seconds"]))
        published = layout.current_version(index_dir).name != before[0]
        killed = "killed after publishing" if published else "killed"
        outcomes.append(("merge " if merges else "") + ("finished" if result.get("rc") == 0 else killed))
        if result.get("rc") != 0:
            assert result.get("signal") == 9, result
        if result.get("rc") == 0 or published:  # the switch was made (a kill can land after it): the new version, whole
            assert published
            assert answers(index_dir, embedder)[1][1]["hits"][0]["doc_id"] == "crash-test-1"
            before = answers(index_dir, embedder)
            continue
        assert_unharmed(index_dir, before, embedder)
    print("\nSIGKILL trials:", ", ".join(f"{n} {o}" for o, n in sorted(Counter(outcomes).items())))


@pytest.mark.parametrize("stage", ["store", "faiss", "manifest"])
def test_full_disk_gives_a_clear_message_and_changes_nothing(
    indexer: Indexer, sources: list[Path], sample_index: Path, tmp_path: Path, embedder, stage: str
) -> None:
    index_dir = copy_index(sample_index, tmp_path / "index")
    before = answers(index_dir, embedder)
    result = indexer.run(sources, index_dir, env={"TRACUU_FAULT_AT": f"enospc:{stage}"})
    assert result.get("rc") == 1, result
    lines = [line for line in result["stderr"].strip().splitlines() if not line.startswith("index: ")]  # progress
    assert len(lines) == 1 and lines[0].startswith("tracuu: error: "), result["stderr"]
    assert "No space left on device" in lines[0] and "the index in service is unchanged" in lines[0]
    assert_unharmed(index_dir, before, embedder)
    assert not list(index_dir.glob(layout.TMP_PREFIX + "*")), "a failed run must remove its half-built version"


def test_real_write_error_from_the_kernel(
    indexer: Indexer, sources: list[Path], sample_index: Path, tmp_path: Path, embedder
) -> None:
    """A file-size limit makes the kernel refuse writes (EFBIG), as a full disk would (ENOSPC)."""
    index_dir = copy_index(sample_index, tmp_path / "index")
    before = answers(index_dir, embedder)
    result = indexer.run(sources, index_dir, fsize=16 * 1024)
    assert result.get("rc") == 1, result
    lines = [line for line in result["stderr"].strip().splitlines() if not line.startswith("index: ")]  # progress
    assert len(lines) == 1 and "could not write the new version" in lines[0], result["stderr"]
    assert "Traceback" not in result["stderr"]
    assert_unharmed(index_dir, before, embedder)
    assert not list(index_dir.glob(layout.TMP_PREFIX + "*"))
    assert_clean_after_good_run(indexer, sources, index_dir, embedder)


def _write_one(version: VersionWriter, doc_id: str) -> None:
    article = Article(id=doc_id, title="Cầu treo", text="Xã khánh thành cầu treo.", published="2024-05-06")
    version.add_article(article, "hash", doc_id, [0], [Passage(0, article.text, 0, len(article.text))])
    vectors = np.ones((1, 8), dtype=np.float32) / np.sqrt(8)
    recipe = Recipe({"name": "test"}, 8, {"max_tokens": 200, "overlap_sentences": 1}, 64)
    version.finish(vectors, np.array([0]), ToneModel(), recipe, next_id=1)


def test_write_version_publishes_only_a_finished_block(tmp_path: Path) -> None:
    """The one writer: a finished block is published whole; an error, or no finish(), leaves `current` alone."""
    index_dir = tmp_path / "index"
    with write_version(index_dir) as version:
        _write_one(version, "a")
    assert version.published == layout.current_version(index_dir) and version.index_type == "Flat"
    manifest = layout.read_manifest(version.published)
    assert manifest["counts"] == {"articles": 1, "passages": 1, "next_id": 1}
    assert manifest["libraries"]["faiss-cpu"] and set(manifest["libraries"]) == set(LIBRARIES)
    with pytest.raises(RuntimeError, match="finish"), write_version(index_dir) as unfinished:
        unfinished.add_article(Article(id="b", title="t", text="x"), "h", "b", [], [])
    with pytest.raises(ZeroDivisionError), write_version(index_dir) as failing:
        _write_one(failing, "c")
        1 / 0  # noqa: B018
    assert layout.current_version(index_dir) == version.published
    assert not list(index_dir.glob(layout.TMP_PREFIX + "*"))
    assert unfinished.published is None and failing.published is None
