"""Read-only replicas: a published version copied with `tracuu replicate`, served by `tracuu serve` elsewhere."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
from conftest import CORPUS, copy_index

from indexer.build import build_index
from indexer.format import layout
from indexer.format.replica import replicate
from tracuu_cli.bench.server import serving
from tracuu_cli.main import main

QUERIES = ("kết nạp đảng viên mới", "ket nap dang vien", "party building results")
PICKUP_DEADLINE_S = 60
NEW_ARTICLE = {
    "id": "replica-1",
    "title": "Xã Thử Nghiệm khánh thành cầu treo bắc qua sông Bến Hải",
    "text": "Sáng nay, xã Thử Nghiệm khánh thành cầu treo dài 120 mét bắc qua sông Bến Hải, "
    "giúp hơn 300 hộ dân đi lại thuận tiện.",
}


def _answers(url: str) -> list[list[tuple[str, int, float]]]:
    with httpx.Client(base_url=url, timeout=60) as http:
        return [
            [(h["doc_id"], h["chunk_id"], h["score"]) for h in http.get("/api/search", params={"q": q}).json()["hits"]]
            for q in QUERIES
        ]


def _version(url: str) -> str:
    return httpx.get(f"{url}/health", timeout=10).json()["version"]


def test_replicas_answer_alike_and_follow_each_publication(sample_index: Path, tmp_path: Path, embedder) -> None:
    primary = copy_index(sample_index, tmp_path / "primary")
    replicas = [tmp_path / "replica-1", tmp_path / "replica-2"]
    assert main(["replicate", str(primary), "--index", str(replicas[0])]) == 0
    staging = copy_index(primary, tmp_path / "staging")  # as `rsync -aH --delete PRIMARY:INDEX/ STAGING/` does
    assert replicate(staging, replicas[1]).copied_segments == 1
    served = layout.current_version(primary).name
    assert replicate(primary, replicas[1]).already

    reload = {"TRACUU_RELOAD_INTERVAL_S": "0.2", "TRACUU_THREADS": "1"}
    with serving(replicas[0], env=reload) as one, serving(replicas[1], env=reload) as two:
        assert _version(one.url) == _version(two.url) == served
        before = _answers(one.url)
        assert before == _answers(two.url) and all(before)

        extra = tmp_path / "new.jsonl"
        extra.write_text(json.dumps(NEW_ARTICLE, ensure_ascii=False) + "\n", encoding="utf-8")
        build_index([CORPUS, extra], primary, embedder)  # the primary publishes an update: one new segment
        new = layout.current_version(primary).name
        for replica in replicas:
            kept = layout.current_version(replica) / "seg-000000" / "vectors.npy"
            done = replicate(primary, replica)
            assert (done.version, done.copied_segments, done.linked_segments) == (new, 1, 1)
            assert os.stat(layout.current_version(replica) / "seg-000000" / "vectors.npy").st_ino == kept.stat().st_ino

        deadline = time.monotonic() + PICKUP_DEADLINE_S
        while time.monotonic() < deadline and {_version(one.url), _version(two.url)} != {new}:
            time.sleep(0.1)
        assert _version(one.url) == _version(two.url) == new
        after = _answers(one.url)
        assert after == _answers(two.url)
        with httpx.Client(base_url=one.url) as http:
            hits = http.get("/api/search", params={"q": "cầu treo sông Bến Hải"}).json()["hits"]
        assert hits[0]["doc_id"] == "replica-1"


def test_a_replica_refuses_what_is_not_an_index(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    assert main(["replicate", str(tmp_path / "nothing"), "--index", str(tmp_path / "replica")]) == 2
    assert not (tmp_path / "replica" / layout.CURRENT).exists()
