"""The default model's XLM-RoBERTa tokenizer in 50 MB instead of 260: SentencePiece on the same vocabulary.

``tokenizers`` keeps the 250,002-piece Unigram vocabulary in a trie of hash maps that costs every
server process about 260 MB of private memory; SentencePiece, which the vocabulary was trained with,
holds it in a double-array trie. ``write_sentencepiece_model`` converts ``tokenizer.json`` (pieces,
scores and the precompiled normalisation map, all unchanged) into a SentencePiece model;
``CompactTokenizer`` gives the ids ``tokenizers`` gives (fairseq numbering: <s>=0, <pad>=1, </s>=2,
<unk>=3, piece i of SentencePiece = i+1). ``load_compact_tokenizer`` converts once into the cache, with a
piece table beside the model: a text encoded before the model is loaded (the one query of ``tracuu search``)
goes through it instead (models/piece_table.py).

Where the two differ, the result is made to be the Hugging Face one:
- a text ending in whitespace: ``tokenizers`` keeps it as a last "▁" piece, SentencePiece drops it;
  the piece is added back;
- a combining mark left after NFC (on a symbol, a space, a letter it does not compose with), a format
  character (zero-width joiner or space, soft hyphen, byte-order mark) anywhere, or a control or unusual
  space character at the end: the two normalise such grapheme clusters differently, so those texts go
  to the ``tokenizers`` tokenizer itself, loaded only the first time one is seen.
tests/test_compact_tokenizer.py checks equality with ``tokenizers`` on real Vietnamese text and
on random strings built from whitespace, marks, emoji and other scripts.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.piece_table import PieceTable, table_paths, write_piece_table
from tracuu.cache import build_once, file_sha256

FAIRSEQ_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0-3 of tokenizer.json, then the pieces
MASK = "<mask>"
SPACE_PIECE = "\u2581"
SPM_FILE = "tokenizer.spm.model"
# Characters of text encoded through the piece table before the model is loaded instead: a search's query, or a
# few, not an indexer's sentences (the table takes ~0.05 ms a character, loading the model about 500 ms).
PIECE_TABLE_CHARS = 4000
CONVERTER_VERSION = 2  # part of the cache key: bump when write_sentencepiece_model changes its output (2: piece table)


def write_sentencepiece_model(tokenizer_json: Path, out: Path) -> None:
    """Convert an XLM-RoBERTa ``tokenizer.json`` into a SentencePiece Unigram model file at ``out``, and its
    piece table beside it (models/piece_table.py)."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    vocab = spec["model"]["vocab"]
    specials = [piece for piece, _ in vocab[:4]]
    if spec["model"]["type"] != "Unigram" or specials != list(FAIRSEQ_SPECIALS) or vocab[-1][0] != MASK:
        raise ValueError(f"{tokenizer_json}: not an XLM-RoBERTa Unigram tokenizer")
    normalizers = spec["normalizer"]["normalizers"]
    charsmap = next(n["precompiled_charsmap"] for n in normalizers if n["type"] == "Precompiled")
    model = pb.ModelProto()
    kinds = pb.ModelProto.SentencePiece
    for piece, kind in (("<unk>", kinds.UNKNOWN), ("<s>", kinds.CONTROL), ("</s>", kinds.CONTROL)):
        model.pieces.add(piece=piece, score=0.0, type=kind)
    for piece, score in vocab[4:-1]:
        model.pieces.add(piece=piece, score=score, type=kinds.NORMAL)
    trainer = model.trainer_spec
    trainer.model_type = pb.TrainerSpec.UNIGRAM
    trainer.vocab_size, trainer.unk_id, trainer.bos_id, trainer.eos_id, trainer.pad_id = len(model.pieces), 0, 1, 2, -1
    normalizer = model.normalizer_spec
    normalizer.name = "precompiled"
    normalizer.precompiled_charsmap = base64.b64decode(charsmap)
    normalizer.add_dummy_prefix = normalizer.remove_extra_whitespaces = normalizer.escape_whitespaces = True
    out.write_bytes(model.SerializeToString())
    write_piece_table(model, out)  # beside it: what encodes a text before the model is loaded


# Trailing characters both libraries turn into one space (checked on random strings); any other space,
# control or format character at the end sends the text to the reference tokenizer.
PLAIN_SPACES = frozenset(" \t\n\r\u00a0\u3000")


def _mark_or_format_char(char: str) -> bool:
    return bool(unicodedata.combining(char)) or unicodedata.category(char) == "Cf"


def _needs_reference(text: str) -> bool:
    """Texts whose normalisation differs between the two libraries (see the module docstring)."""
    last = text[-1:]
    if last and last not in PLAIN_SPACES and (last.isspace() or unicodedata.category(last)[0] in "CZ"):
        return True
    # Each distinct character looked up once: a regex of every such code point took seconds to build at start.
    return not text.isascii() and any(_mark_or_format_char(c) for c in set(text) if not c.isascii())


def _load_sentencepiece(spm_model: Path) -> Any:
    import sentencepiece  # C++ extension, needed only by the ONNX backends

    return sentencepiece.SentencePieceProcessor(model_file=str(spm_model))


class CompactTokenizer:
    """Untruncated, unpadded token ids on SentencePiece, equal to those of ``tokenizers``.

    Loading the SentencePiece model builds a trie of its 250,000 pieces: half a second of CPU, most of what
    ``tracuu search`` spent before answering its one query. So the first texts encoded one at a time, up to
    PIECE_TABLE_CHARS characters, go through the piece table written beside it where there is one
    (models/piece_table.py: the same ids, from a model of the text's own pieces, in a millisecond for a query);
    the model is loaded for anything more, for a batch, or by ``load_model``.
    """

    def __init__(self, spm_model: Path, tokenizer_json: Path) -> None:
        self._spm_model = spm_model
        self._json = tokenizer_json
        self._reference: Any = None
        self._lock = threading.Lock()
        self.bos, self.pad, self.eos, self.unk = range(4)
        self._processor: Any = None
        self._table: PieceTable | None = None
        self._has_table = all(path.is_file() for path in table_paths(spm_model))
        self._table_chars = PIECE_TABLE_CHARS  # left to encode through the table
        self._loading = threading.Lock()

    def load_model(self) -> Any:
        """The SentencePiece processor, loaded now if it is not yet (a server loads it before it says it is ready:
        every text is encoded with it from then on)."""
        if self._processor is None:
            with self._loading:
                if self._processor is None:
                    self._processor = _load_sentencepiece(self._spm_model)
                    self._table = None  # not needed any more
        return self._processor

    @property
    def _spm(self) -> Any:
        return self.load_model()

    def _one_by_one(self, chars: int = 0) -> PieceTable | None:
        """The piece table while the model is not loaded, for a text of ``chars`` characters (None: use the
        model)."""
        if self._processor is not None or not self._has_table:
            return None
        with self._loading:
            if self._processor is not None or chars > self._table_chars:
                return None
            self._table_chars -= chars
            if self._table is None:
                self._table = PieceTable(self._spm_model)
            return self._table

    def _piece_ids(self, text: str) -> list[int]:
        """SentencePiece's ids of one text."""
        table = self._one_by_one(len(text))
        return table.encode(text) if table is not None else self._spm.encode(text)

    def _piece_id(self, piece: str) -> int:
        table = self._one_by_one()
        return table.piece_id(piece) if table is not None else self._spm.piece_to_id(piece)

    @functools.cached_property
    def space(self) -> int:
        """The id of the lone "▁" piece that ``tokenizers`` ends a text ending in whitespace with."""
        return self._piece_id(SPACE_PIECE) + 1

    def token_to_id(self, token: str) -> int | None:
        if token in FAIRSEQ_SPECIALS:
            return FAIRSEQ_SPECIALS.index(token)
        piece = self._piece_id(token)
        return None if piece == 0 else piece + 1

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self._ids(text, self._piece_ids(text), add_special_tokens)

    def encode_batch(self, texts: Sequence[str], add_special_tokens: bool = True) -> list[list[int]]:
        if len(texts) == 1:  # SentencePiece's batch call starts threads: 6x slower for one text
            return [self.encode(texts[0], add_special_tokens)]
        pieces = self._spm.encode(list(texts))  # one call for the batch, threaded inside SentencePiece
        return [self._ids(text, ids, add_special_tokens) for text, ids in zip(texts, pieces, strict=True)]

    def _ids(self, text: str, pieces: list[int], add_special_tokens: bool) -> list[int]:
        if _needs_reference(text):
            ids = self._reference_ids(text)
        else:
            ids = [self.unk if i == 0 else i + 1 for i in pieces]
            if text[-1:] in PLAIN_SPACES:
                ids.append(self.space)
        return [self.bos, *ids, self.eos] if add_special_tokens else ids

    def _reference_ids(self, text: str) -> list[int]:
        with self._lock:
            if self._reference is None:
                from tokenizers import Tokenizer

                reference = Tokenizer.from_file(str(self._json))
                reference.no_truncation()
                reference.no_padding()
                self._reference = reference
        return list(self._reference.encode(text, add_special_tokens=False).ids)


def sentencepiece_dir(tokenizer_json: Path, cache_dir: Path) -> Path:
    """Where the conversion of ``tokenizer_json`` lives: keyed by its content and the converter version."""
    key = f"{file_sha256(tokenizer_json, cache_dir)[:20]}-v{CONVERTER_VERSION}"
    return cache_dir / "sentencepiece" / key


def load_compact_tokenizer(model_dir: Path, cache_dir: Path) -> CompactTokenizer:
    """The CompactTokenizer of a model directory's tokenizer.json, converted into the cache on first use
    (the model directory itself may be read-only)."""
    source = model_dir / "tokenizer.json"
    dest = sentencepiece_dir(source, cache_dir)
    build_once(dest, dest.name, lambda tmp: write_sentencepiece_model(source, tmp / SPM_FILE))
    return CompactTokenizer(dest / SPM_FILE, source)
