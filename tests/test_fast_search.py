"""GET /api/search on its fast path (`search_api.app.FastSearch`): a well-formed search skips FastAPI's per-request
work (its dependency solver, run for every route it answers) and answers what the route would; a bad one still
reaches the route and its error handlers; the middleware around sees both."""

from __future__ import annotations

import json

import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from retrieval.contract import SearchParams
from search_api.app import create_app
from search_api.hardening import SECURITY_HEADERS
from tracuu.settings import Settings


@pytest.fixture
def framework_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths FastAPI's own request handling ran for."""
    calls: list[str] = []
    solve = fastapi.routing.solve_dependencies

    async def counted(*args, **kwargs):
        calls.append(kwargs["request"].url.path)
        return await solve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    return calls


def _without_took(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "took_ms"}


def test_a_good_search_skips_the_framework_and_answers_as_the_searcher(searcher, framework_calls) -> None:
    with TestClient(create_app(searcher.index_dir, searcher=searcher, settings=Settings())) as client:
        r = client.get("/api/search", params={"q": "kết nạp đảng viên", "k": 5})
        assert framework_calls == []
        metrics = client.get("/metrics").text
    assert r.status_code == 200
    expected = searcher.search(SearchParams(q="kết nạp đảng viên", k=5)).model_dump_json(by_alias=True)
    assert _without_took(r.json()) == _without_took(json.loads(expected))
    assert r.headers["content-type"] == "application/json"
    assert r.headers["content-length"] == str(len(r.content))
    assert r.headers["x-tracuu-version"] == searcher.version
    assert all(r.headers[name] == value for name, value in SECURITY_HEADERS.items())
    assert 'tracuu_http_requests_total{method="GET",route="/api/search",status="200"} 1.0' in metrics


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"q": "đảng", "k": "0"}, "k", None),
        ({"q": ["đảng", "viên"]}, "q", "repeated_search_param"),
        ({}, "q", None),
    ],
)
def test_a_bad_search_reaches_the_route_and_its_error(searcher, framework_calls, params, param, code) -> None:
    with TestClient(create_app(searcher.index_dir, searcher=searcher, settings=Settings())) as client:
        r = client.get("/api/search", params=params)
    assert r.status_code == 400 and r.json()["param"] == param
    assert code is None or r.json()["code"] == code
    assert framework_calls == ["/api/search"]
    assert all(r.headers[name] == value for name, value in SECURITY_HEADERS.items())
