"""Bad sources: each bad item is skipped with a warning naming file (and line) and counted in the
summary line, or the run stops with a clear message; `--strict` turns any warning into a stop.
Nothing is dropped silently."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from indexer.build import collect_articles
from indexer.readers import SourceError, read_articles
from indexer.source_warnings import SourceWarnings
from tracuu_cli import main as cli

ARTICLE_TXT = (
    "Xã Thử Nghiệm khánh thành cầu treo\nSáng nay, xã Thử Nghiệm tổ chức lễ khánh thành cầu treo dài 120 mét.\n"
)


def good(doc_id: str, **fields) -> str:
    return json.dumps({"id": doc_id, "title": "Tiêu đề " + doc_id, "text": "Nội dung bài " + doc_id, **fields})


def make(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


BAD_FILES = {
    "empty.txt": (b"", "empty file"),
    "blank.txt": (b"  \n\n ", "empty file"),
    "empty.jsonl": (b"", "empty file"),
    "binary.txt": (bytes(range(256)) * 4, "binary file"),
    "binary.jsonl": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    "cp1258.txt": (ARTICLE_TXT.encode("cp1258", errors="replace"), "not valid UTF-8"),
    "cp1258.jsonl": ('{"id": "x", "title": "Tiêu đề", "text": "Nội dung"}\n'.encode("cp1258", "replace"), "UTF-8"),
    "big.txt": (b"a" * (20 * 1024 * 1024), "over the 2.1 MB limit"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_skipped_with_a_warning_naming_it(tmp_path: Path, name: str) -> None:
    data, reason = BAD_FILES[name]
    bad = make(tmp_path, name, data)
    fine = make(tmp_path, "fine.jsonl", good("ok") + "\n")
    warnings = SourceWarnings(stream=None)
    articles = list(read_articles([bad, fine], warnings))
    assert [a.id for a in articles] == ["ok"]
    assert len(warnings) == 1 and warnings.messages[0].startswith(str(bad)), warnings.messages
    assert reason in warnings.messages[0]
    with pytest.raises(SourceError, match=reason):  # without a warnings sink (the reader's API) it stops
        list(read_articles([bad, fine]))


BAD_LINES = [
    ("{not json", "invalid JSON"),
    ('["a"]', "expected a JSON object"),
    ('{"title": "t", "text": "x"}', "missing or empty 'id'"),
    ('{"id": ["x"], "title": "t", "text": "x"}', "missing or empty 'id'"),
    ('{"id": "x", "text": "x"}', "missing required field 'title'"),
    ('{"id": "x", "title": "t"}', "'text'"),
    ('{"id": "x", "title": "t", "text": 5}', "'text' must be a string"),
    ('{"id": "x", "title": 7, "text": "x"}', "'title' must be a string"),
    ('{"id": "x", "title": "t", "text": "x", "author": {"a": 1}}', "'author' must be a string"),
    ('{"id": "x", "title": "t", "text": "x", "published": "2023-02-30"}', "'published' is not a date"),
    ('{"id": "x", "title": "t", "text": "x", "published": 2023}', "'published' must be a string"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_each_bad_json_line_is_skipped_with_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    path = make(tmp_path, "a.jsonl", "\n".join([good("one"), line, good("three")]) + "\n")
    warnings = SourceWarnings(stream=None)
    assert [a.id for a in read_articles([path], warnings)] == ["one", "three"]
    assert warnings.messages == [warnings.messages[0]] and warnings.messages[0].startswith(f"{path}:2: ")
    assert reason in warnings.messages[0]


def test_utf16_and_bom_files_are_read(tmp_path: Path) -> None:
    utf16 = make(tmp_path, "utf16.txt", codecs.BOM_UTF16_LE + ARTICLE_TXT.encode("utf-16-le"))
    utf16_lines = make(tmp_path, "utf16.jsonl", (good("u1") + "\n" + good("u2") + "\n").encode("utf-16"))
    bom8 = make(tmp_path, "bom.jsonl", codecs.BOM_UTF8 + (good("b1") + "\n").encode())
    warnings = SourceWarnings(stream=None)
    articles = list(read_articles([utf16, utf16_lines, bom8], warnings))
    assert warnings.messages == []
    assert [a.id for a in articles] == ["utf16", "u1", "u2", "b1"]
    assert articles[0].title == "Xã Thử Nghiệm khánh thành cầu treo"


def test_a_20_mb_json_line_is_skipped_with_its_line(tmp_path: Path) -> None:
    huge = json.dumps({"id": "huge", "title": "t", "text": "chữ " * (5 * 1024 * 1024)}, ensure_ascii=False)
    path = make(tmp_path, "big.jsonl", good("a") + "\n" + huge + "\n" + good("c") + "\n")
    warnings = SourceWarnings(stream=None)
    assert [a.id for a in read_articles([path], warnings)] == ["a", "c"]
    assert warnings.messages[0].startswith(f"{path}:2: ") and "TRACUU_MAX_ARTICLE_BYTES" in warnings.messages[0]


def test_duplicate_ids_keep_the_first_and_warn(tmp_path: Path) -> None:
    first = make(tmp_path, "a.jsonl", good("same") + "\n" + good("other") + "\n")
    second = make(tmp_path, "b.jsonl", good("same", title="khác") + "\n")
    warnings = SourceWarnings(stream=None)
    articles = collect_articles([first, second], warnings)
    assert [a.id for a in articles] == ["same", "other"] and articles[0].title == "Tiêu đề same"
    assert warnings.messages == [f"{second}:1: duplicate article id 'same' (first seen in {first}:1)"]


def test_strict_stops_and_all_bad_stops(tmp_path: Path) -> None:
    path = make(tmp_path, "a.jsonl", good("one") + "\n{broken\n")
    with pytest.raises(SourceError, match=r"1 bad source item\(s\) and --strict is set; nothing was written"):
        collect_articles([path], SourceWarnings(strict=True, stream=None))
    only_bad = make(tmp_path, "b.jsonl", "{broken\n[1]\n")
    with pytest.raises(SourceError, match="no article could be read: all 2 source item"):
        collect_articles([only_bad], SourceWarnings(stream=None))


def test_other_files_in_a_directory_are_noted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make(tmp_path, "a.jsonl", good("one") + "\n")
    make(tmp_path, "README.md", "not an article")
    make(tmp_path, ".hidden.jsonl", good("two") + "\n")
    assert [a.id for a in read_articles([tmp_path], SourceWarnings(stream=None))] == ["one"]
    assert (
        "ignored 1 file(s) that are not .txt, .jsonl, .html, .htm, .pdf or .docx and 1 hidden file(s) (e.g. README.md)"
        in (capsys.readouterr().err)
    )


@pytest.fixture
def bad_source_dir(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    make(src, "good.txt", ARTICLE_TXT)
    make(src, "utf16.txt", ARTICLE_TXT.replace("cầu treo", "nhà văn hóa").encode("utf-16"))
    make(src, "empty.txt", b"")
    make(src, "binary.txt", bytes(range(256)))
    make(src, "cp1258.txt", ARTICLE_TXT.encode("cp1258", errors="replace"))
    make(src, "huge.txt", b"x" * (20 * 1024 * 1024 + 1))
    lines = [good("j1"), '{"id": "j2", "title": "t"}', good("j3", text=5), "{oops", "", good("good")]
    make(src, "lines.jsonl", "\n".join(lines) + "\n")
    return src


def test_tracuu_index_skips_warns_and_counts(
    bad_source_dir: Path, tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from models.embedder import Embedder

    monkeypatch.setattr(Embedder, "load", classmethod(lambda cls, *args, **kwargs: embedder))
    index_dir = tmp_path / "index"
    argv = ["index", str(bad_source_dir), "--index", str(index_dir)]

    assert cli.main([*argv, "--strict"]) == cli.EXIT_BAD_INPUT
    out, err = capsys.readouterr()
    assert err.strip().splitlines()[-1].startswith("tracuu: error: 8 bad source item(s) and --strict is set")
    assert not index_dir.exists(), "--strict must stop before anything is written"

    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    expected = [
        f"{bad_source_dir / 'binary.txt'}: binary",
        f"{bad_source_dir / 'cp1258.txt'}: not valid UTF-8",
        f"{bad_source_dir / 'empty.txt'}: empty file",
        f"{bad_source_dir / 'huge.txt'}: 21.0 MB is over",
        f"{bad_source_dir / 'lines.jsonl'}:2: missing or empty required field 'text'",
        f"{bad_source_dir / 'lines.jsonl'}:3: field 'text' must be a string",
        f"{bad_source_dir / 'lines.jsonl'}:4: invalid JSON",
        f"{bad_source_dir / 'lines.jsonl'}:6: duplicate article id 'good'",
    ]
    assert len(warnings) == len(expected), err
    for line, start in zip(sorted(warnings), sorted(expected), strict=True):
        assert line.startswith("warning: " + start), (line, start)
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("indexed 3 articles") and "skipped 8 bad source items (see warnings)" in summary
    # nothing silently dropped: 11 items (6 files, 5 non-blank lines) = 3 indexed + 8 warned about
