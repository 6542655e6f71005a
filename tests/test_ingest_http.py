"""Articles over HTTP against a real `tracuu serve`: POST and DELETE /api/articles, written durably before
the 2xx, published by the same atomic path as `tracuu index`; a kill -9 right after a 2xx loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, LiveServer, copy_index

from indexer.format import layout
from indexer.posted import PostedArticles

TOKEN = "s3cret-ingest"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENV = {"TRACUU_ADMIN_TOKEN": TOKEN, "TRACUU_MAX_INGEST_BYTES": str(64 * 1024), "TRACUU_THREADS": "1"}


def article(doc_id: str, title: str, text: str, **fields: object) -> dict:
    return {"id": doc_id, "title": title, "text": text, "source": "Báo Thử Nghiệm", **fields}


BRIDGE = article(
    "http-cau-treo",
    "Xã Thử Nghiệm khánh thành cầu treo bắc qua sông Bến Hải",
    "Sáng nay, xã Thử Nghiệm tổ chức lễ khánh thành cầu treo dài 120 mét bắc qua sông Bến Hải. "
    "Cây cầu giúp hơn 300 hộ dân đi lại thuận tiện.\nẢnh: Minh Anh\nNguyễn Văn Bình",
    published="2024-05-06",
)


@pytest.fixture(scope="module")
def server(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    index_dir = copy_index(sample_index, tmp_path_factory.mktemp("ingest") / "index")
    server = LiveServer(index_dir, env=ENV)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def client(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=180)


def doc_ids(http: httpx.Client, query: str, k: int = 10) -> list[str]:
    r = http.get("/api/search", params={"q": query, "k": k})
    assert r.status_code == 200, r.text
    return [h["doc_id"] for h in r.json()["hits"]]


def test_admin_token_guards_the_writes(server: LiveServer, sample_index: Path) -> None:
    with client(server) as http:
        assert http.post("/api/articles", json=BRIDGE).status_code == 401
        wrong = http.post("/api/articles", json=BRIDGE, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_admin_token"
        assert http.delete("/api/articles/x", headers={"Authorization": "Bearer nope"}).status_code == 401
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TRACUU_ADMIN_TOKEN", raising=False)
        from fastapi.testclient import TestClient

        from search_api.app import create_app
        from tracuu.settings import Settings

        with TestClient(create_app(sample_index, settings=Settings(admin_token=""))) as off:
            refused = off.post("/api/articles", json=BRIDGE, headers=AUTH)
            assert refused.status_code == 403 and refused.json()["code"] == "admin_disabled"


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        (b"{not json", 400, "body"),
        (b"[]", 400, "body"),
        (b'"just a string"', 400, "body"),
        (json.dumps({"id": "a", "text": "Một câu."}).encode(), 400, "title"),
        (json.dumps({"title": "T", "text": "Một câu."}).encode(), 400, "id"),
        (json.dumps([BRIDGE, {"id": "b", "title": "T", "text": ""}]).encode(), 400, "[1].text"),
        (json.dumps([BRIDGE, {**BRIDGE, "id": "c", "published": "hôm qua"}]).encode(), 400, "[1].published"),
        (json.dumps({**BRIDGE, "author": 7}).encode(), 400, "author"),
        (json.dumps({**BRIDGE, "text": "Câu. " * 20000}).encode(), 413, None),
    ],
)
def test_bad_bodies_are_refused_naming_the_field_and_write_nothing(
    server: LiveServer, body: bytes, status: int, param: str | None
) -> None:
    index_dir = Path(server.proc.args[server.proc.args.index("--index") + 1])
    before = PostedArticles(index_dir).fingerprint()
    with client(server) as http:
        r = http.post("/api/articles", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["param"] == param
    assert PostedArticles(index_dir).fingerprint() == before  # a refused batch writes none of its articles


def test_a_bad_wait_is_refused_naming_it(server: LiveServer) -> None:
    with client(server) as http:
        r = http.post("/api/articles?wait=soon", json=BRIDGE, headers=AUTH)
    assert r.status_code == 400 and r.json() == {
        "error": "wait: expected true or false, got 'soon'",
        "param": "wait",
        "code": "invalid_wait",
    }


def test_post_replace_batch_delete_each_become_searchable(server: LiveServer) -> None:
    with client(server) as http:
        r = http.post("/api/articles", params={"wait": "true"}, json=BRIDGE, headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json()["ids"] == [BRIDGE["id"]] and r.json()["published"] is True
        assert doc_ids(http, "khánh thành cầu treo sông Bến Hải")[0] == BRIDGE["id"]
        shown = http.get(f"/api/articles/{BRIDGE['id']}").json()
        # cleaned as `tracuu index` cleans JSON Lines: the caption goes, the trailing name becomes the author
        assert "Ảnh:" not in shown["text"] and shown["author"] == "Nguyễn Văn Bình"
        assert shown["published"] == "2024-05-06" and shown["source"] == "Báo Thử Nghiệm"

        replaced = article(BRIDGE["id"], "Xã Thử Nghiệm trồng 5.000 cây keo", "Xã Thử Nghiệm trồng 5.000 cây keo lai.")
        assert http.post("/api/articles?wait=1", json=replaced, headers=AUTH).status_code == 200
        assert http.get(f"/api/articles/{BRIDGE['id']}").json()["title"] == replaced["title"]
        assert BRIDGE["id"] not in doc_ids(http, "khánh thành cầu treo sông Bến Hải")

        batch = [
            article(f"http-batch-{i}", f"Hội thi {sport} của huyện Thử Nghiệm", f"Huyện tổ chức hội thi {sport}.")
            for i, sport in enumerate(["bơi chải", "kéo co", "đua thuyền"])
        ]
        r = http.post("/api/articles?wait=true", json=batch, headers=AUTH)
        assert r.status_code == 200 and r.json()["accepted"] == 3
        for a in batch:
            assert http.get(f"/api/articles/{a['id']}").status_code == 200
        assert doc_ids(http, "hội thi kéo co")[0] == "http-batch-1"

        r = http.delete("/api/articles/http-batch-1?wait=true", headers=AUTH)
        assert r.status_code == 200 and r.json()["published"] is True
        assert http.get("/api/articles/http-batch-1").status_code == 404
        assert "http-batch-1" not in doc_ids(http, "hội thi kéo co", k=50)
        missing = http.delete("/api/articles/never-was", headers=AUTH)
        assert missing.status_code == 404 and missing.json()["code"] == "article_not_found"


def test_tracuu_index_keeps_posted_articles_and_deletions(sample_index: Path, tmp_path: Path, embedder) -> None:
    """The CLI rebuilds from its sources plus what was posted: a posted article stays, a deleted one stays gone."""
    index_dir = copy_index(sample_index, tmp_path / "index")
    posted = PostedArticles(index_dir)
    posted.put([(BRIDGE["id"], BRIDGE)])
    first = sorted(p.stem for p in CORPUS.glob("*.txt"))[0]
    posted.delete(first)
    from indexer.build import build_index

    build_index([CORPUS], index_dir, embedder)
    from retrieval.searcher import Searcher

    searcher = Searcher(index_dir, embedder=embedder)
    try:
        assert searcher.store.article(BRIDGE["id"]) is not None
        assert searcher.store.article(first) is None
        assert searcher.manifest["posted"] == posted.fingerprint()
    finally:
        searcher.close()


def test_kill_9_right_after_a_2xx_loses_nothing(sample_index: Path, tmp_path: Path) -> None:
    index_dir = copy_index(sample_index, tmp_path / "index")
    server = LiveServer(index_dir, env=ENV)
    try:
        server.wait_ready()
        with client(server) as http:
            r = http.post("/api/articles", json=BRIDGE, headers=AUTH)  # no wait: 202 once it is on disk
            assert r.status_code in (200, 202), r.text
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
    finally:
        server.stop()
    restarted = LiveServer(index_dir, env=ENV)
    try:
        restarted.wait_ready()  # ready means changes acknowledged before the crash are published
        with client(restarted) as http:
            assert http.get(f"/api/articles/{BRIDGE['id']}").status_code == 200
            assert doc_ids(http, "khánh thành cầu treo sông Bến Hải")[0] == BRIDGE["id"]
    finally:
        restarted.stop()


def test_concurrent_ingestion_and_search_lose_no_request(server: LiveServer) -> None:
    statuses: list[int] = []
    stop = threading.Event()

    def searching() -> None:
        with client(server) as http:
            while not stop.is_set():
                statuses.append(http.get("/api/search", params={"q": "kết nạp đảng viên", "k": 5}).status_code)

    threads = [threading.Thread(target=searching) for _ in range(2)]
    for t in threads:
        t.start()
    posted: list[int] = []
    try:
        with client(server) as http:
            for i in range(6):  # while the searches run, each post waits for its publication
                a = article(f"http-many-{i}", f"Tin số {i} của xã Thử Nghiệm", f"Xã Thử Nghiệm có tin số {i}.")
                posted.append(http.post("/api/articles?wait=true", json=a, headers=AUTH).status_code)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert posted == [200] * 6
    assert statuses and set(statuses) == {200}
    with client(server) as http:
        for i in range(6):
            assert http.get(f"/api/articles/http-many-{i}").status_code == 200


def test_a_running_writer_makes_the_cli_refuse_with_a_clear_message(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    with layout.writer_lock(index_dir):
        run = subprocess.run(
            [sys.executable, "-m", "tracuu_cli.main", "index", str(CORPUS), "--index", str(index_dir)],
            capture_output=True,
            text=True,
        )
    assert run.returncode != 0
    assert "another writer" in run.stderr and "tracuu serve" in run.stderr
