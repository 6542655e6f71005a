"""build_once: one finished build per key, whoever asks and whatever crashed before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tracuu.cache import DIGESTS_FILE, STAMP_FILE, build_once, file_sha256, is_built

REPO = Path(__file__).resolve().parents[1]


def writer(text: str, calls: list[Path] | None = None):
    def build(tmp: Path) -> None:
        if calls is not None:
            calls.append(tmp)
        (tmp / "out.txt").write_text(text)

    return build


def test_builds_then_reuses(tmp_path: Path) -> None:
    dest, calls = tmp_path / "art", []
    assert build_once(dest, "k1", writer("one", calls)) == dest
    assert (dest / "out.txt").read_text() == "one" and is_built(dest, "k1") and not is_built(dest, "k2")
    before = (dest / "out.txt").stat()
    assert build_once(dest, "k1", writer("two", calls)) == dest
    assert len(calls) == 1 and (dest / "out.txt").read_text() == "one"
    assert (dest / "out.txt").stat().st_ino == before.st_ino
    assert calls[0].parent == tmp_path and calls[0].name.startswith(".art.tmp-")  # built beside dest
    assert sorted(p.name for p in tmp_path.iterdir()) == [".art.lock", "art"]
    assert sorted(p.name for p in dest.iterdir()) == [STAMP_FILE, "out.txt"]


def test_another_key_or_an_unstamped_dest_is_replaced(tmp_path: Path) -> None:
    dest = tmp_path / "art"
    dest.mkdir()
    (dest / "old.txt").write_text("left by an older version")
    build_once(dest, "k1", writer("one"))
    assert sorted(p.name for p in dest.iterdir()) == [STAMP_FILE, "out.txt"]
    build_once(dest, "k2", writer("two"))
    assert (dest / "out.txt").read_text() == "two" and is_built(dest, "k2")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".art.lock", "art"]  # the stale one removed


def test_a_stale_file_is_replaced_by_a_directory(tmp_path: Path) -> None:
    dest = tmp_path / "art"
    dest.write_text("an earlier layout kept a file here")
    build_once(dest, "k", writer("one"))
    assert dest.is_dir() and (dest / "out.txt").read_text() == "one"


def test_a_failed_build_installs_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "art"

    def fail(tmp: Path) -> None:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("compiler crashed")

    with pytest.raises(RuntimeError, match="compiler crashed"):
        build_once(dest, "k", fail)
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir()] == [".art.lock"]
    build_once(dest, "k", writer("one"))  # the next call builds
    assert (dest / "out.txt").read_text() == "one"


def test_leftovers_of_a_killed_build_are_removed(tmp_path: Path) -> None:
    for name in (".art.tmp-killed", ".art.stale-1-2"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x").write_text("x")
    build_once(tmp_path / "art", "k", writer("one"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".art.lock", "art"]


def test_files_are_readable_by_everyone_and_programs_stay_executable(tmp_path: Path) -> None:
    def build(tmp: Path) -> None:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "data").write_text("d")
        (tmp / "prog").write_text("#!/bin/sh\n")
        os.chmod(tmp / "prog", 0o700)
        os.chmod(tmp / "sub" / "data", 0o600)

    dest = build_once(tmp_path / "art", "k", build)
    mode = {p.relative_to(dest).as_posix(): p.stat().st_mode & 0o777 for p in [dest, *dest.rglob("*")]}
    assert mode == {".": 0o755, "sub": 0o755, "sub/data": 0o644, "prog": 0o755, STAMP_FILE: 0o644}


def test_threads_build_once(tmp_path: Path) -> None:
    dest, calls, results = tmp_path / "art", [], []

    def slow(tmp: Path) -> None:
        calls.append(tmp)
        time.sleep(0.3)
        (tmp / "out.txt").write_text("one")

    threads = [threading.Thread(target=lambda: results.append(build_once(dest, "k", slow))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [dest] * 4


def test_processes_build_once(tmp_path: Path) -> None:
    log = tmp_path / "builds.log"
    code = (
        "import sys, time; from pathlib import Path; from tracuu.cache import build_once\n"
        "def build(tmp):\n"
        "    with open(sys.argv[2], 'a') as f: f.write('built\\n')\n"
        "    time.sleep(0.5); (tmp / 'out.txt').write_text('one')\n"
        "print(build_once(Path(sys.argv[1]), 'k', build))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "art"), str(log)], stdout=subprocess.PIPE, env=env)
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=60)[0].decode().strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert outs == [str(tmp_path / "art")] * 3
    assert log.read_text() == "built\n"


def test_file_sha256_follows_the_content(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("a")
    first = file_sha256(path)
    assert first == file_sha256(path) == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
    path.write_text("bb")  # another size: memoised per (path, size, mtime)
    assert file_sha256(path) != first


def test_file_sha256_remembers_digests_in_a_cache_dir_until_the_file_changes(tmp_path: Path) -> None:
    path, cache = tmp_path / "f", tmp_path / "cache"
    path.write_text("a")
    digest = file_sha256(path, cache)
    assert digest == file_sha256(path) and (cache / DIGESTS_FILE).is_file()
    remembered = json.loads((cache / DIGESTS_FILE).read_text())
    assert remembered[str(path.resolve())][-1] == digest
    # What another process finds: the remembered digest, not the file read again (shown by a forged entry).
    remembered[str(path.resolve())][-1] = "remembered"
    (cache / DIGESTS_FILE).write_text(json.dumps(remembered))
    assert file_sha256(path, cache) == "remembered"
    before = path.stat()
    path.write_text("b")  # the same size; another modification time (set, lest both writes fall in one clock tick)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert file_sha256(path, cache) == "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
    (cache / DIGESTS_FILE).write_text("not json")  # a damaged file is read as empty, then replaced
    assert file_sha256(path, cache) == file_sha256(path)
    assert str(path.resolve()) in json.loads((cache / DIGESTS_FILE).read_text())


def test_file_sha256_works_with_a_cache_dir_it_cannot_write(tmp_path: Path) -> None:
    path, cache = tmp_path / "f", tmp_path / "cache"
    path.write_text("a")
    cache.write_text("a file where the directory should be")  # unwritable as a directory, for root too
    assert file_sha256(path, cache) == file_sha256(path)
    assert cache.read_text() == "a file where the directory should be"
