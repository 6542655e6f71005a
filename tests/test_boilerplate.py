"""Boilerplate of a source (a donation notice, a footer) is found across articles and left out of passages."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.boilerplate import Boilerplate
from indexer.build import build_index, publish_posted
from indexer.format import layout
from indexer.format.records import Article
from indexer.format.segments import Snapshot
from indexer.posted import PostedArticles

FOOTER = "Mọi đóng góp xin gửi về Báo Thử Nghiệm, số tài khoản 0011002643148 tại Ngân hàng Ngoại thương Việt Nam."
QUOTE = "Chủ tịch tỉnh nhấn mạnh rằng phải hoàn thành dứt điểm việc giải phóng mặt bằng trước tháng 6 năm nay."
TOPICS = ["cầu treo", "trường học", "trạm y tế", "chợ nông thôn", "đường liên xã"]


def body(topic: str, n: int, quote: bool = False) -> str:
    lines = [f"Xã số {n} khánh thành {topic} với tổng kinh phí {n + 2} tỷ đồng từ ngân sách tỉnh."]
    lines.append(f"Công trình {topic} phục vụ hơn {300 + n} hộ dân trong xã và các xã lân cận.")
    lines.append(QUOTE if quote else f"Người dân xã số {n} phấn khởi khi {topic} đi vào sử dụng.")
    lines.append(f"Huyện sẽ tiếp tục đầu tư thêm {n + 1} công trình {topic} trong năm tới để phục vụ dân sinh.")
    lines += ["Xin cảm ơn.", FOOTER]
    return "\n".join(lines)


def corpus() -> list[Article]:
    return [
        Article(id=f"a{n}", title=f"Khánh thành {t}", text=body(t, n, quote=n < 3), source="Báo Thử Nghiệm")
        for n, t in enumerate(TOPICS)
    ]


def test_a_footer_repeated_at_the_end_of_many_articles_is_boilerplate_a_repeated_quote_is_not() -> None:
    articles = corpus()
    other_source = Article(id="b", title="T", text=body("cầu treo", 9) + "\n" + FOOTER, source="Báo Khác")
    found = Boilerplate.detect([*articles, other_source], {a.id: a.id for a in articles})
    assert found.sentences == {"Báo Thử Nghiệm": {FOOTER}}  # once in another source: not that source's boilerplate
    assert found.strip(articles) == len(articles)
    for article in articles:
        assert FOOTER not in article.text
        assert "Xin cảm ơn." in article.text  # short: repeats by chance, never taken
    assert sum(QUOTE in a.text for a in articles) == 3  # in the middle of three reports: their own sentence


def test_copies_of_one_story_do_not_make_its_sentences_boilerplate() -> None:
    articles = corpus()[:3]
    copies = {a.id: "a0" for a in articles}  # one group of syndicated copies
    assert Boilerplate.detect(articles, copies).sentences == {}


def test_an_article_is_never_emptied() -> None:
    only_footer = [Article(id=f"f{n}", title="T", text=FOOTER, source="S") for n in range(4)]
    found = Boilerplate.detect(only_footer, {})
    assert found.strip(only_footer) == 0 and all(a.text == FOOTER for a in only_footer)


def test_indexing_leaves_boilerplate_out_and_applies_it_to_articles_posted_later(tmp_path: Path, embedder) -> None:
    source = tmp_path / "articles.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for a in corpus():
            handle.write(json.dumps({"id": a.id, "title": a.title, "text": a.text, "source": a.source}) + "\n")
    index_dir = tmp_path / "index"
    summary = build_index([source], index_dir, embedder)
    assert summary.boilerplate_sentences == len(TOPICS)
    version = layout.current_version(index_dir)
    assert json.loads((version / "boilerplate.json").read_text())["sentences"] == {"Báo Thử Nghiệm": [FOOTER]}

    late = {
        "id": "late",
        "title": "Khánh thành nhà văn hóa",
        "text": body("nhà văn hóa", 7),
        "source": "Báo Thử Nghiệm",
    }
    PostedArticles(index_dir).put([("late", late)])
    assert publish_posted(index_dir, embedder) is not None
    store = Snapshot.current(index_dir).store()
    try:
        texts = {a.id: a.text for a in store.articles()}
    finally:
        store.close()
    assert set(texts) == {"late", *(f"a{n}" for n in range(len(TOPICS)))}
    assert not any(FOOTER in text for text in texts.values())
    assert "nhà văn hóa" in texts["late"]

    raw = build_index([source], tmp_path / "raw", embedder, raw=True)  # --raw: clean already, nothing left out
    assert raw.boilerplate_sentences == 0
