"""JSON Lines and file discovery: good articles in, clear errors naming file and line out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.readers import SourceError, iter_source_files, read_articles


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    return path


def test_jsonl_fields_and_extra_metadata(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {
                "id": "a1",
                "title": "Tiêu đề",
                "text": "Nội dung.",
                "source": "Báo X",
                "published": "2023-11-23T10:00:00+07:00",
                "author": "Vũ Hoàng",
                "url": "http://x/1",
                "lang": "vi",
                "section": "Chính trị",
            },
            {"_id": "a2", "title": "Hai", "text": "Cafe\u0301 decomposed"},
        ],
    )
    first, second = list(read_articles([path]))
    assert (first.id, first.published, first.source, first.author, first.url) == (
        "a1",
        "2023-11-23",
        "Báo X",
        "Vũ Hoàng",
        "http://x/1",
    )
    assert first.extra == {"section": "Chính trị"}
    assert first.origin.endswith("a.jsonl:1")
    assert second.id == "a2" and second.text == "Café decomposed" and second.published is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ('["a"]', "expected a JSON object"),
        ('{"title": "t", "text": "x"}', "missing or empty 'id'"),
        ('{"id": "x", "text": "x"}', "missing required field 'title'"),
        ('{"id": "x", "title": "t"}', "'text'"),
        ('{"id": "x", "title": "t", "text": 5}', "'text' must be a string"),
        ('{"id": "x", "title": "t", "text": "x", "published": "yesterday"}', "'published' is not a date"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [{"id": "ok", "title": "t", "text": "fine"}, line])
    with pytest.raises(SourceError, match=message) as info:
        list(read_articles([path]))
    assert "bad.jsonl:2" in str(info.value)


def test_invalid_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes("Tiêu đề\nNội dung".encode("cp1258", errors="replace") + b"\xff\xfe")
    with pytest.raises(SourceError, match="not valid UTF-8"):
        list(read_articles([path]))


def test_directories_are_walked_in_order_and_unknown_files_refused(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("x")
    (tmp_path / "a.jsonl").write_text("")
    (tmp_path / "notes.md").write_text("ignored in a directory")
    assert [p.name for p in iter_source_files([tmp_path])] == ["a.jsonl", "b.txt"]
    with pytest.raises(SourceError, match="unsupported file type"):
        list(iter_source_files([tmp_path / "notes.md"]))
    with pytest.raises(SourceError, match="no such file"):
        list(iter_source_files([tmp_path / "missing"]))
