"""Live updates: while `tracuu serve` answers a steady stream of queries, `tracuu index` publishes a
new version of the same index directory. The server must pick it up within a few seconds (it
watches DIR/current, see search_api/reload.py), fail no request, and never answer from a mix of
versions: every response must equal, hit for hit, the answer of the one version it names in its
X-Tracuu-Version header."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, ROOT, LiveServer, copy_index
from searching import search

from indexer.format import layout
from indexer.format.segments import Snapshot
from retrieval.searcher import Searcher

NEW_ARTICLE = {
    "id": "live-reload-1",
    "title": "Xã Thử Nghiệm khánh thành cầu treo bắc qua sông Bến Hải",
    "text": "Sáng nay, xã Thử Nghiệm tổ chức lễ khánh thành cầu treo dài 120 mét bắc qua sông Bến Hải. "
    "Cây cầu giúp hơn 300 hộ dân đi lại thuận tiện.",
    "source": "Báo Thử Nghiệm",
    "published": "2024-05-06",
}
REQUESTS = [
    ("cầu treo sông Bến Hải", "hybrid"),
    ("kết nạp đảng viên mới", "lexical"),
    ("Ba Đồn kỷ luật đảng viên", "dense"),
    ("khánh thành cầu treo", "lexical"),
]
CLIENTS = 4
PICKUP_DEADLINE_S = 10.0


def fingerprint(result: dict) -> list[tuple]:
    return [(h["doc_id"], h["chunk_id"], h["title"], h["text"], h["published"]) for h in result["hits"]]


def expected_answers(index_dir: Path, embedder) -> tuple[str, dict]:
    searcher = Searcher(index_dir, embedder=embedder)
    try:
        answers = {(q, m): fingerprint(search(searcher, q, 5, mode=m)) for q, m in REQUESTS}
    finally:
        searcher.close()
    return searcher.version, answers


@pytest.mark.parametrize("merge", [False, True], ids=["update", "update-and-merge"])
def test_publish_while_serving_loses_no_request_and_mixes_no_versions(
    sample_index: Path, tmp_path: Path, embedder, merge: bool
) -> None:
    index_dir = copy_index(sample_index, tmp_path / "index")
    extra = tmp_path / "new.jsonl"
    extra.write_text(json.dumps(NEW_ARTICLE, ensure_ascii=False) + "\n", encoding="utf-8")
    old_version, old_answers = expected_answers(index_dir, embedder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRACUU_RELOAD_INTERVAL_S", "0.5")
        mp.setenv("TRACUU_THREADS", "1")
        server = LiveServer(index_dir)
    records: list[dict] = []
    stop = threading.Event()

    def client(offset: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            n = offset
            while not stop.is_set():
                query, mode = REQUESTS[n % len(REQUESTS)]
                n += 1
                record = {"client": offset, "query": query, "mode": mode, "sent": time.monotonic()}
                try:
                    r = http.get("/api/search", params={"q": query, "k": 5, "mode": mode})
                    record.update(status=r.status_code, version=r.headers.get("x-tracuu-version"), body=r.json())
                except (httpx.HTTPError, ValueError) as exc:
                    record.update(status=None, error=repr(exc))
                record["done"] = time.monotonic()
                record["done_wall"] = time.time()
                records.append(record)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    try:
        server.wait_ready()
        for thread in threads:
            thread.start()
        while len(records) < 2 * CLIENTS:  # the stream is flowing
            time.sleep(0.05)
        # With one segment at most, the update's new segment is merged with the old one in the same run.
        env = {**os.environ, "TRACUU_THREADS": "1", **({"TRACUU_MAX_SEGMENTS": "1"} if merge else {})}
        cmd = [sys.executable, "-m", "tracuu_cli.main", "index", str(CORPUS), str(extra), "--index", str(index_dir)]
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        assert run.returncode == 0, run.stderr
        published = os.lstat(index_dir / layout.CURRENT).st_mtime  # when the new `current` link was swapped in
        new_version, new_answers = expected_answers(index_dir, embedder)
        assert new_version != old_version and old_answers != new_answers
        assert new_answers[REQUESTS[0]][0][0] == "live-reload-1"
        assert len(Snapshot.current(index_dir).segments) == (1 if merge else 2)

        deadline = published + PICKUP_DEADLINE_S
        while time.time() < deadline and sum(r.get("version") == new_version for r in records) < 2 * CLIENTS:
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        stop.set()
        server.stop()

    failed = [r for r in records if r.get("status") != 200]
    assert not failed, failed[:3]
    served_new = [r for r in records if r["version"] == new_version]
    assert served_new, f"the server did not pick up {new_version} within {PICKUP_DEADLINE_S} s"
    pickup = min(r["done_wall"] for r in served_new) - published
    assert pickup < PICKUP_DEADLINE_S
    by_version = {old_version: old_answers, new_version: new_answers}
    assert {r["version"] for r in records} == set(by_version)
    for r in records:  # each answer is exactly one version's answer: no old vectors with new metadata
        assert fingerprint(r["body"]) == by_version[r["version"]][(r["query"], r["mode"])], r
    for client_id in range(CLIENTS):  # and once a client has seen the new version, it never sees the old
        versions = [r["version"] for r in sorted(records, key=lambda r: r["sent"]) if r["client"] == client_id]
        first_new = versions.index(new_version)
        assert set(versions[first_new:]) == {new_version}
    print(f"\n{len(records)} requests, 0 failed; new version served {pickup:.2f} s after publishing")
