"""Input hardening end to end, against a real `tracuu serve`: every bad input gets a 4xx JSON body
that names the problem (or a clean result where that is the right answer), never a 500 or a
traceback. Limits live in one typed settings object whose defaults README.md documents."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import ROOT
from fastapi.testclient import TestClient

from search_api.app import create_app
from tracuu.settings import Settings, SettingsError
from tracuu_cli import main as cli

SETTINGS = Settings()


def assert_json_error(response: httpx.Response | tuple[int, dict, bytes], status: int, param: str | None) -> dict:
    if not isinstance(response, tuple):  # httpx's, or the test client's
        code, headers, body = response.status_code, dict(response.headers), response.content
    else:
        code, headers, body = response
    headers = {k.lower(): v for k, v in headers.items()}
    assert code == status, body[:300]
    assert headers["content-type"].startswith("application/json")
    assert headers["x-content-type-options"] == "nosniff" and "content-security-policy" in headers
    assert b"Traceback" not in body and b'File "' not in body
    data = httpx.Response(200, content=body).json()
    assert set(data) == {"error", "param", "code"} and isinstance(data["error"], str) and data["error"]
    assert data["param"] == param
    assert re.fullmatch(r"[a-z0-9_]+", data["code"]), data
    if param:
        assert data["error"].startswith(param + ":") or param in data["error"], data
    return data


def raw_get(port: int, target: bytes) -> tuple[int, dict, bytes]:
    """Send a request line exactly as given (httpx would re-encode or refuse it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


BAD = [
    ({"q": ""}, "q"),
    ({"q": " \t\n "}, "q"),
    ({}, "q"),
    ({"q": "\x00\x01\x1f\x7f"}, "q"),
    ({"q": "x" * 10_000}, "q"),
    ({"q": "x" * (SETTINGS.max_query_chars + 1)}, "q"),
    ({"q": "đảng", "k": "0"}, "k"),
    ({"q": "đảng", "k": "-1"}, "k"),
    ({"q": "đảng", "k": "101"}, "k"),
    ({"q": "đảng", "k": str(10**12)}, "k"),
    ({"q": "đảng", "k": "9" * 5000}, "k"),
    ({"q": "đảng", "k": "abc"}, "k"),
    ({"q": "đảng", "k": "1e3"}, "k"),
    ({"q": "đảng", "k": "10_0"}, "k"),
    ({"q": "đảng", "k": "٣"}, "k"),
    ({"q": "đảng", "k": "2.5"}, "k"),
    ({"q": "đảng", "k": ""}, "k"),
    ({"q": "đảng", "k": " 5"}, "k"),
    ({"q": "đảng", "from": "2023-02-30"}, "from"),
    ({"q": "đảng", "to": "2023-13-01"}, "to"),
    ({"q": "đảng", "from": "2023-1-1"}, "from"),
    ({"q": "đảng", "to": "hôm qua"}, "to"),
    ({"q": "đảng", "from": "2024-01-01", "to": "2023-01-01"}, "from"),
    ({"q": "đảng", "mode": "magic"}, "mode"),
    ({"q": "đảng", "mode": ""}, "mode"),
    ({"q": "đảng", "exact": "1"}, "exact"),
    ({"q": "đảng", "lang": "<script>"}, "lang"),
    ({"q": "đảng", "exact": "maybe"}, "exact"),
    ({"q": "đảng", "source": "s" * 5000}, "source"),
    ({"q": "đảng", "foo": "1"}, "foo"),
    ({"q": "đảng", "callback": "alert"}, "callback"),
    ([("q", "đảng"), ("q", "viên")], "q"),
    ([("q", "đảng"), ("k", "1"), ("k", "2")], "k"),
]


@pytest.mark.parametrize(("params", "param"), BAD, ids=[f"{p}-{i}" for i, (_, p) in enumerate(BAD)])
def test_bad_parameters_get_a_4xx_json_naming_them(live_server, params, param: str) -> None:
    assert_json_error(httpx.get(live_server.url + "/api/search", params=params, timeout=60), 400, param)


@pytest.mark.parametrize(("repeat", "status"), [(1000, 400), (1300, 414)])
def test_a_10000_character_vietnamese_query_is_refused_by_name(live_server, repeat: int, status: int) -> None:
    """About 28 KB percent-encoded: over the query limit; 36 KB: over the request line limit."""
    r = httpx.get(live_server.url + "/api/search", params={"q": "đảng viên " * repeat}, timeout=60)
    data = assert_json_error(r, status, "q")
    assert ("TRACUU_MAX_REQUEST_BYTES" in data["error"]) == (status == 414)


@pytest.mark.parametrize(
    ("target", "status", "param"),
    [
        (b"/api/search?q=%FF%FE", 400, "q"),  # invalid UTF-8, percent-encoded
        (b"/api/search?q=ok&k=%C0%AF", 400, "k"),  # an overlong encoding
        (b"/api/search?q=%ED%A0%80", 400, "q"),  # a lone surrogate
        (b"/?q=%FF", 400, "q"),
        (b"/api/search?q=\xff\xfe", 400, None),  # raw bytes that are not ASCII: refused by the HTTP parser
        (b"/api/search?q=" + b"a" * 40_000, 414, "q"),
    ],
)
def test_undecodable_and_oversized_requests(live_server, target: bytes, status: int, param: str | None) -> None:
    assert_json_error(raw_get(live_server.port, target), status, param)


def test_a_request_line_over_the_parser_limit_is_refused_and_the_server_lives(live_server) -> None:
    try:
        response = raw_get(live_server.port, b"/api/search?q=" + b"a" * 1_000_000)
    except (ConnectionResetError, BrokenPipeError):
        response = None  # the server answered 400 and closed while the client was still sending: a race
    if response is not None:
        assert_json_error(response, 400, None)
    assert httpx.get(live_server.url + "/health", timeout=60).status_code == 200


def test_an_oversized_body_is_refused(live_server) -> None:
    r = httpx.post(live_server.url + "/admin/reload", content=b"x" * (SETTINGS.max_request_bytes + 1), timeout=60)
    assert_json_error(r, 413, None)
    conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=60)  # chunked: no length up front
    conn.request("POST", "/admin/reload", body=iter([b"x" * 20_000] * 3), encode_chunked=True)
    response = conn.getresponse()
    assert response.status in (403, 413)  # refused either way; never read into memory without bound
    conn.close()


@pytest.mark.parametrize(
    "query",
    [
        "😀🇻🇳 đảng viên 👍🏽",
        "Đảng 共産党 партия حزب party",
        "đảng\x00viên\x07mới",
        "\u200b\u200d\ufeffđảng",
        "e\u0301 \u0300\u0301\u0302",  # lone combining marks
        "𝔡𝔞𝔫𝔤",
        "' OR 1=1; DROP TABLE passages; --",
        "%s %d {0} ${x} \\x00",
        "a",
        "x" * SETTINGS.max_query_chars,
    ],
)
def test_odd_but_valid_queries_get_a_clean_result(live_server, query: str) -> None:
    r = httpx.get(live_server.url + "/api/search", params={"q": query, "k": 3}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["returned"] == len(body["hits"]) <= 3 and body["total"] >= body["returned"]
    assert "\x00" not in body["query"] and "\x07" not in body["query"]


def test_edge_values_that_are_fine(live_server) -> None:
    for k in ("1", "100", "007"):
        params = {"q": "đảng", "k": k}
        assert httpx.get(live_server.url + "/api/search", params=params, timeout=60).status_code == 200, params
    r = httpx.get(live_server.url + "/api/search", params={"q": "đảng", "from": "2024-02-29", "to": "2024-02-29"})
    assert r.status_code == 200 and r.json()["hits"] == []  # a real day with no articles: a clean empty result


def test_the_page_never_fails_on_bad_input(live_server) -> None:
    for params in [{"q": "đảng", "k": "abc"}, {"q": "đảng", "from": "2023-02-30"}, {"q": "x" * 5000}]:
        r = httpx.get(live_server.url + "/", params=params, timeout=60)
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
        assert 'class="error"' in r.text
    assert httpx.get(live_server.url + "/", params={"utm_source": "x"}).status_code == 200


def test_wrong_methods_and_paths_are_json_4xx(live_server) -> None:
    assert_json_error(httpx.delete(live_server.url + "/api/search?q=x"), 405, None)
    assert_json_error(httpx.post(live_server.url + "/api/search?q=x"), 405, None)
    assert_json_error(httpx.get(live_server.url + "/../../etc/passwd"), 404, None)
    assert_json_error(httpx.get(live_server.url + "/static/../app.py"), 404, None)


def test_cli_search_reports_bad_input_in_one_line(sample_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["", "-k", "5"], ["đảng", "-k", "0"], ["đảng", "--from", "2023-02-30"], ["đảng", "--mode", "x"]):
        assert cli.main(["search", *argv, "--index", str(sample_index)]) == cli.EXIT_BAD_INPUT
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("tracuu: error: ")


def readme_default(value: object) -> str:
    """A default as README's configuration table shows it."""
    return {"": '""', None: "none"}.get(value, str(value)) if isinstance(value, str | None) else str(value)


def test_every_setting_is_one_typed_field_documented_in_the_readme(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        env = f"TRACUU_{name.upper()}"
        row = next((line for line in readme.splitlines() if line.startswith("|") and f"`{env}`" in line), None)
        assert row, f"{env} is not documented in README.md"
        assert f"`{readme_default(field.default)}`" in row, (env, row)
        assert field.description, f"{env} has no description"
    monkeypatch.setenv("TRACUU_MAX_K", "50")
    monkeypatch.setenv("TRACUU_RELOAD_INTERVAL_S", "0.25")
    settings = Settings.from_env()
    assert (settings.max_k, settings.reload_interval_s) == (50, 0.25)
    monkeypatch.setenv("TRACUU_MAX_K", "lots")
    with pytest.raises(SettingsError, match=re.escape("TRACUU_MAX_K: expected a whole number, got 'lots'")):
        Settings.from_env()


def test_a_bad_setting_is_one_line_and_exit_2(sample_index: Path) -> None:
    env = {**os.environ, "TRACUU_MAX_K": "abc"}
    run = subprocess.run(
        [sys.executable, "-m", "tracuu_cli.main", "search", "x", "--index", str(sample_index)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == "tracuu: error: TRACUU_MAX_K: expected a whole number, got 'abc'\n"


def test_the_apps_settings_are_enforced_and_published(sample_index: Path, searcher) -> None:
    app = create_app(sample_index, searcher=searcher, settings=Settings(max_k=50, max_query_chars=300))
    with TestClient(app) as client:
        k = next(
            p
            for p in client.get("/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]
            if p["name"] == "k"
        )
        assert (k["schema"]["minimum"], k["schema"]["maximum"]) == (1, 50)
        assert_json_error(client.get("/api/search", params={"q": "đảng", "k": "51"}), 400, "k")
        assert client.get("/api/search", params={"q": "đảng", "k": "50"}).status_code == 200
        assert_json_error(client.get("/api/search", params={"q": "x" * 301}), 400, "q")
