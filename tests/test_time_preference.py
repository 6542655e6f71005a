"""Time words in a search: on an index of dated reports, a query naming a year puts that year's matching
articles (published in it, or saying it) first, keeps the others after them, and time=off (or a query
without time words) ranks exactly as the search does without the preference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from searching import search

from retrieval.contract import SearchParams
from search_api.app import create_app
from tracuu_cli import main as cli

QUERY = "kết nạp đảng viên mới năm 2021"
YEAR_2021 = {"text": "năm 2021", "from": "2021-01-01", "to": "2021-12-31"}

ARTICLES = [
    {
        "id": "kn-2023",
        "title": "Kết nạp đảng viên mới: Đảng bộ huyện Hải Lăng kết nạp đảng viên mới vượt chỉ tiêu",
        "text": "Đảng bộ huyện Hải Lăng chú trọng công tác kết nạp đảng viên mới. Các chi bộ kết nạp đảng viên mới "
        "là đoàn viên thanh niên ưu tú, kết nạp 210 đảng viên mới, vượt chỉ tiêu đề ra.",
        "published": "2023-03-02",
        "source": "Báo Quảng Trị",
    },
    {
        "id": "kn-2020",
        "title": "Cam Lộ kết nạp đảng viên mới trong thanh niên",
        "text": "Huyện ủy Cam Lộ kết nạp đảng viên mới là đoàn viên thanh niên. Công tác phát triển đảng viên mới "
        "được các chi bộ quan tâm, kết nạp 96 đảng viên mới.",
        "published": "2020-09-14",
        "source": "Báo Quảng Trị",
    },
    {
        "id": "kn-2019",
        "title": "Gio Linh phát triển đảng viên ở khu dân cư",
        "text": "Năm 2019, Đảng bộ huyện Gio Linh kết nạp 130 đảng viên mới, tập trung ở các thôn chưa có đảng viên.",
        "published": "2019-12-20",
        "source": "Báo Quảng Trị",
    },
    {
        "id": "tongket-2021",  # published in 2022, about 2021: belongs to 2021 by its text
        "title": "Tổng kết công tác xây dựng Đảng của thị xã Quảng Trị",
        "text": "Trong năm 2021, Đảng bộ thị xã Quảng Trị kết nạp 75 đảng viên, củng cố tổ chức cơ sở đảng.",
        "published": "2022-01-12",
        "source": "Thị xã Quảng Trị",
    },
    {
        "id": "vinh-linh-2021",  # published in 2021, no year in its text
        "title": "Vĩnh Linh chú trọng chất lượng sinh hoạt chi bộ",
        "text": "Huyện Vĩnh Linh nâng cao chất lượng sinh hoạt chi bộ; một số chi bộ đã kết nạp đảng viên.",
        "published": "2021-06-08",
        "source": "Báo Quảng Trị",
    },
    {
        "id": "khong-ro-ngay",
        "title": "Đảng bộ xã kết nạp đảng viên mới",
        "text": "Đảng bộ xã Triệu Phong kết nạp đảng viên mới, bồi dưỡng quần chúng ưu tú.",
        "source": "Xã Triệu Phong",
    },
    {
        "id": "gia-lua-2018",
        "title": "Giá lúa tăng mạnh",
        "text": "Giá lúa trên thị trường tăng mạnh, nông dân phấn khởi sau vụ mùa.",
        "published": "2018-05-02",
        "source": "Báo Quảng Trị",
    },
]
IN_2021 = {"tongket-2021", "vinh-linh-2021"}
OTHERS = {"kn-2023", "kn-2020", "kn-2019", "khong-ro-ngay"}


@pytest.fixture(scope="module")
def dated_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    from indexer.build import build_index

    src = tmp_path_factory.mktemp("dated") / "reports.jsonl"
    src.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8")
    index_dir = src.parent / "index"
    build_index([src], index_dir, embedder)
    return index_dir


@pytest.fixture(scope="module")
def dated(dated_index: Path, embedder):
    from retrieval.searcher import Searcher

    return Searcher(dated_index, embedder=embedder)


def _docs(result: dict) -> list[str]:
    return [hit["doc_id"] for hit in result["hits"]]


@pytest.mark.parametrize("group", ["article", "passage"])
def test_a_year_puts_its_articles_first_by_date_or_by_text_and_keeps_the_rest(dated, group: str) -> None:
    result = search(dated, QUERY, k=20, group=group)
    assert result["interpreted_time"] == YEAR_2021
    docs = list(dict.fromkeys(_docs(result)))
    assert set(docs[: len(IN_2021)]) == IN_2021, docs  # published in 2021, and published in 2022 about 2021
    assert set(docs[len(IN_2021) :]) >= OTHERS, docs  # the others still match, after them


def test_without_the_preference_another_year_ranks_above_them(dated) -> None:
    """The preference does something here: without it, the 2021 article without the year in its text comes after
    articles of other years."""
    docs = _docs(search(dated, QUERY, k=20, group="article", time="off"))
    assert set(docs) >= IN_2021 | OTHERS
    assert docs.index("vinh-linh-2021") > max(docs.index(d) for d in OTHERS)
    assert search(dated, QUERY, k=20, time="off")["interpreted_time"] is None


@pytest.mark.parametrize("query", [QUERY, "kết nạp đảng viên mới", "Vĩnh Linh sinh hoạt chi bộ"])
def test_time_off_and_queries_without_time_words_rank_as_the_search_does(dated, query: str) -> None:
    """time=off, and any query without time words, gives exactly the search's own ranking (Searcher.rank)."""
    restored = dated.tones.restore(query) or query
    ranked = [c.id for c in dated.rank(restored, "hybrid", 2 * 20 + 20)]
    rows = dated.store.passages(ranked)
    expected = [f"{rows[i].doc_id}#{rows[i].chunk_no}" for i in ranked][:20]
    off = search(dated, query, k=20, time="off")
    assert [hit["chunk_id"] for hit in off["hits"]] == expected
    on = search(dated, query, k=20)
    if on["interpreted_time"] is None:  # no time words: on and off are the same search
        assert query != QUERY
        assert {**on, "took_ms": 0} == {**off, "took_ms": 0}
    else:
        assert [hit["chunk_id"] for hit in on["hits"]] != expected


def test_a_date_in_the_query_prefers_that_month_and_a_range_its_years(dated) -> None:
    month = search(dated, "kết nạp đảng viên tháng 6/2021", k=20, group="article")
    assert month["interpreted_time"] == {"text": "tháng 6/2021", "from": "2021-06-01", "to": "2021-06-30"}
    assert _docs(month)[0] == "vinh-linh-2021"
    span = search(dated, "kết nạp đảng viên giai đoạn 2019-2020", k=20, group="article")
    assert span["interpreted_time"]["from"] == "2019-01-01"
    assert set(_docs(span)[:2]) == {"kn-2019", "kn-2020"}


def test_filters_still_hold_under_the_preference(dated) -> None:
    result = search(dated, QUERY, k=20, group="article", source="Báo Quảng Trị")
    assert _docs(result)[0] == "vinh-linh-2021"  # the 2022 summary is from another source
    assert all(hit["source"] == "Báo Quảng Trị" for hit in result["hits"])


def test_sort_by_date_is_not_reordered(dated) -> None:
    result = search(dated, QUERY, k=20, group="article", sort="date")
    assert result["interpreted_time"] is None
    dates = [h["published"] for h in result["hits"] if h["published"]]
    assert dates == sorted(dates, reverse=True)


def test_the_api_reports_the_period_and_takes_time_off(dated_index: Path, dated) -> None:
    with TestClient(create_app(dated_index, searcher=dated)) as client:
        on = client.get("/api/search", params={"q": QUERY, "group": "article"}).json()
        off = client.get("/api/search", params={"q": QUERY, "group": "article", "time": "off"}).json()
        bad = client.get("/api/search", params={"q": QUERY, "time": "maybe"})
        page = client.get("/", params={"q": QUERY})
        page_off = client.get("/", params={"q": QUERY, "time": "off"})
    assert on["interpreted_time"] == YEAR_2021 and off["interpreted_time"] is None
    assert set(_docs(on)[:2]) == IN_2021 and _docs(off)[1] not in IN_2021
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_search_time"
    assert "Ưu tiên thời gian: <strong" in page.text and ">năm 2021</strong>" in page.text
    assert 'id="timeless-link" href="/?q=' in page.text and "time=off" in page.text
    assert "Ưu tiên thời gian:" not in page_off.text and "Không ưu tiên thời gian" in page_off.text


def test_the_cli_takes_no_time(dated_index: Path, capsys) -> None:
    argv = ["search", QUERY, "--index", str(dated_index), "--group", "article", "--json"]
    assert cli.main(argv) == 0
    on = json.loads(capsys.readouterr().out)
    assert cli.main([*argv, "--no-time"]) == 0
    off = json.loads(capsys.readouterr().out)
    assert cli.main([*argv, "--time", "off"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"] == off["hits"]
    assert on["interpreted_time"] == YEAR_2021 and off["interpreted_time"] is None
    assert set(_docs(on)[:2]) == IN_2021 and _docs(off)[1] not in IN_2021


def test_the_parameter_is_part_of_the_contract() -> None:
    assert SearchParams(q="x").time == "on"
    assert SearchParams.parse({"q": "x", "time": "off"}).time == "off"


def test_a_passage_only_naming_the_period_must_also_be_relevant(dated) -> None:
    """Published in the period: always first. Naming it in the text: first when its score is at least
    MENTION_FLOOR of the way from the weakest to the best candidate (a year named in passing is not enough)."""
    from retrieval.searcher import Candidate
    from retrieval.timepref import MENTION_FLOOR

    catalog = dated.catalog

    def passage(doc_id: str) -> int:
        return int(catalog.passage_ids[catalog.article_of == catalog.doc_ids.index(doc_id)][0])

    period = dated.time.interpret(QUERY)
    best, weakest = Candidate(passage("kn-2023"), 3.0), Candidate(passage("kn-2019"), 0.0)
    published_in_2021 = Candidate(passage("vinh-linh-2021"), 0.0)
    for score, first in ((3.0 * MENTION_FLOOR + 0.01, True), (3.0 * MENTION_FLOOR - 0.01, False)):
        saying_2021 = Candidate(passage("tongket-2021"), score)
        ranked = [best, saying_2021, weakest, published_in_2021]
        preferred = dated.time.prefer(period, ranked, [])
        expected = [saying_2021, published_in_2021] if first else [published_in_2021]
        assert preferred[: len(expected)] == expected
        assert sorted(c.id for c in preferred) == sorted(c.id for c in ranked)  # nothing dropped


@pytest.mark.parametrize("group", ["article", "passage"])
def test_pages_of_a_preferred_search_never_repeat_a_hit(dated, group: str) -> None:
    whole = [h["chunk_id"] for h in search(dated, QUERY, k=6, group=group)["hits"]]
    pages = [search(dated, QUERY, k=2, group=group, offset=offset)["hits"] for offset in (0, 2, 4)]
    assert [h["chunk_id"] for page in pages for h in page] == whole
