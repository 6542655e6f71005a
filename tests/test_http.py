"""`tracuu serve` for real, on a free port: the API, the page, health, errors as 4xx JSON."""

from __future__ import annotations

import httpx
import pytest


def test_api_search_returns_the_contract_object(live_server) -> None:
    r = httpx.get(
        live_server.url + "/api/search", params={"q": "Đảng bộ huyện Vĩnh Bảo có bao nhiêu đảng viên", "k": 3}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "Đảng bộ huyện Vĩnh Bảo có bao nhiêu đảng viên"
    assert body["returned"] == 3 and len(body["hits"]) == 3 and body["total"] >= 3
    assert body["hits"][0]["doc_id"] == "003_c32edca671531721"
    assert {
        "rank",
        "score",
        "doc_id",
        "chunk_id",
        "title",
        "source",
        "url",
        "published",
        "author",
        "lang",
        "text",
        "snippet",
    } <= set(body["hits"][0])


def test_api_filters(live_server) -> None:
    r = httpx.get(live_server.url + "/api/search", params={"q": "đảng viên", "from": "2023-01-01", "to": "2023-12-31"})
    assert r.status_code == 200
    assert r.json()["hits"] and all(h["published"].startswith("2023") for h in r.json()["hits"])


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({}, "q"),
        ({"q": "x" * 2001}, "q"),
        ({"q": "đảng", "k": "0"}, "k"),
        ({"q": "đảng", "k": "101"}, "k"),
        ({"q": "đảng", "k": "-1"}, "k"),
        ({"q": "đảng", "k": "abc"}, "k"),
        ({"q": "đảng", "k": str(10**12)}, "k"),
        ({"q": "đảng", "from": "2023-02-30"}, "from"),
        ({"q": "đảng", "to": "hôm qua"}, "to"),
        ({"q": "đảng", "from": "2024-01-01", "to": "2023-01-01"}, "from"),
        ({"q": "đảng", "mode": "magic"}, "mode"),
    ],
)
def test_bad_parameters_get_400_naming_the_problem(live_server, params: dict, param: str) -> None:
    r = httpx.get(live_server.url + "/api/search", params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["param"] == param
    assert param in body["error"]


def test_health_docs_openapi(live_server) -> None:
    health = httpx.get(live_server.url + "/health").json()
    assert health["status"] == "ok" and health["articles"] == 5 and health["passages"] > 5
    assert httpx.get(live_server.url + "/docs").status_code == 200
    spec = httpx.get(live_server.url + "/openapi.json").json()
    assert "/api/search" in spec["paths"]


def test_page_renders_results_and_escapes_the_query(live_server) -> None:
    r = httpx.get(live_server.url + "/", params={"q": "Đảng bộ thị xã Ba Đồn <script>alert(1)</script>"})
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "Đảng bộ thị xã Ba Đồn" in r.text
    assert (
        "script-src" not in r.headers["content-security-policy"]
        or "'unsafe-inline'" not in r.headers["content-security-policy"]
    )
    assert r.headers["x-content-type-options"] == "nosniff"


def test_unknown_path_is_a_json_404(live_server) -> None:
    r = httpx.get(live_server.url + "/nope")
    assert r.status_code == 404 and "error" in r.json()
