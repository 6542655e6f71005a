"""A short text's SentencePiece ids without loading the 250,000-piece model: a model of only the pieces it holds.

Loading the default model's SentencePiece file builds a double-array trie of every piece: half a second of CPU,
most of what ``tracuu search`` spent before answering its one query. The Unigram model's Viterbi search only ever
weighs pieces that occur in the normalised text, and the vocabulary's lowest score (an unknown character costs it
minus 10). So a model of those pieces, with the same scores, the same normaliser and the lowest-scoring piece,
segments the text exactly as the full model does; its ids map back to the full model's.

``write_piece_table`` writes, beside the model file, its normal pieces sorted (``.pieces``), their ids and every
piece's score (``.index``), and the model without its normal pieces: the specs and the normalisation map
(``.head``). ``PieceTable`` reads those (a few milliseconds), finds a text's pieces by binary search, and builds
and loads its small model (about a millisecond for a query). That it segments as the full model rests on how
SentencePiece's Unigram encoder works: tests/test_compact_tokenizer.py checks that the ids equal the full model's
on the corpus and on random strings of marks, spaces and scripts, so a version that worked otherwise would fail it.
"""

from __future__ import annotations

import array
import bisect
import sys
import threading
from pathlib import Path
from typing import Any

SPECIALS = 3  # <unk>, <s>, </s>: ids 0-2 of the SentencePiece model; the normal pieces follow
SUFFIXES = (".pieces", ".index", ".head")
_NORMAL = 1  # SentencePiece.Type.NORMAL, the default of a piece's type field (so not written)


def table_paths(model: Path) -> tuple[Path, Path, Path]:
    """The files ``write_piece_table`` writes beside the model file ``model``."""
    pieces, index, head = (model.with_name(model.name + suffix) for suffix in SUFFIXES)
    return pieces, index, head


def _int32(values: list[int]) -> bytes:
    out = array.array("i", values)
    if sys.byteorder == "big":  # the files are little-endian, as protobuf's fixed-width fields are
        out.byteswap()
    return out.tobytes()


def _read_int32(data: bytes) -> array.array:
    out = array.array("i")
    out.frombytes(data)
    if sys.byteorder == "big":
        out.byteswap()
    return out


def write_piece_table(model: Any, out: Path) -> None:
    """The table of the SentencePiece ModelProto ``model`` (written to ``out``), beside ``out``."""
    pieces = [p.piece.encode("utf-8") for p in model.pieces]
    if any(p.type != _NORMAL for p in model.pieces[SPECIALS:]) or any(b"\n" in p for p in pieces):
        raise ValueError("a piece table needs normal pieces, without line breaks, after the three special ones")
    order = sorted(range(SPECIALS, len(pieces)), key=pieces.__getitem__)  # UTF-8 sorts as the code points do
    offsets = [0]
    for i in order:
        offsets.append(offsets[-1] + len(pieces[i]) + 1)
    lowest = min(range(SPECIALS, len(pieces)), key=lambda i: model.pieces[i].score)  # its place in the table
    scores = array.array("f", [p.score for p in model.pieces])  # float32, as in the model: bit for bit
    if sys.byteorder == "big":
        scores.byteswap()
    head = type(model)()
    head.CopyFrom(model)
    del head.pieces[SPECIALS:]
    pieces_file, index_file, head_file = table_paths(out)
    pieces_file.write_bytes(b"\n".join(pieces[i] for i in order) + b"\n")
    counts = _int32([len(order), len(pieces), order.index(lowest)])
    index_file.write_bytes(counts + _int32(offsets) + _int32(order) + scores.tobytes())
    head_file.write_bytes(head.SerializeToString())


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class _Sorted:
    """The sorted pieces as a sequence (for bisect) of UTF-8 bytes, sliced from the file's on demand (not decoded:
    that alone took longer than the rest of a short query)."""

    def __init__(self, data: bytes, offsets: array.array) -> None:
        self.data, self.offsets = data, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, k: int) -> bytes:
        return self.data[self.offsets[k] : self.offsets[k + 1] - 1]


class PieceTable:
    """A SentencePiece model's pieces, for encoding texts one at a time without loading the model."""

    def __init__(self, model: Path) -> None:
        pieces_file, index_file, head_file = table_paths(model)
        index = index_file.read_bytes()
        count, total, lowest = _read_int32(index[:12])
        start = 12 + 4 * (count + 1)
        self._sorted = _Sorted(pieces_file.read_bytes(), _read_int32(index[12:start]))
        self._ids = _read_int32(index[start : start + 4 * count])
        self._scores = index[start + 4 * count : start + 4 * (count + total)]  # little-endian float32, by id
        self._head = head_file.read_bytes()
        self._lowest = (self._ids[lowest], self._sorted[lowest])  # the lowest-scoring piece: (id, piece)
        self._normaliser: Any = None
        self._lock = threading.Lock()

    def piece_id(self, piece: str) -> int:
        """The piece's id in the full model, as its ``piece_to_id``: 0 (the unknown piece's) when it has none."""
        raw = piece.encode("utf-8")
        k = bisect.bisect_left(self._sorted, raw)
        if k < len(self._sorted) and self._sorted[k] == raw:
            return self._ids[k]
        return self._specials().piece_to_id(piece)  # <s> and </s> are 1 and 2; anything else 0

    def encode(self, text: str) -> list[int]:
        """The full model's ``encode(text)``."""
        found = sorted(self._pieces_in(self._specials().normalize(text)).items())
        ids = [*range(SPECIALS), *(i for i, _ in found)]
        return [ids[i] for i in self._model(found).encode(text)]

    def _specials(self) -> Any:
        """The model of the specials and the lowest-scoring piece: the full model's normaliser, pieces aside."""
        if self._normaliser is None:
            with self._lock:
                if self._normaliser is None:
                    self._normaliser = self._model([self._lowest])
        return self._normaliser

    def _pieces_in(self, normalised: str) -> dict[int, bytes]:
        """id -> piece of every piece occurring in ``normalised``, and of the lowest-scoring piece."""
        found = dict([self._lowest])
        sorted_, ids, end = self._sorted, self._ids, len(normalised)
        for start in range(end):
            lo = 0
            for stop in range(start + 1, end + 1):
                prefix = normalised[start:stop].encode("utf-8")  # whole characters, as pieces are
                k = bisect.bisect_left(sorted_, prefix, lo)
                if k == len(sorted_):
                    break
                piece = sorted_[k]
                if piece == prefix:
                    found[ids[k]] = piece
                elif not piece.startswith(prefix):  # no piece goes on like this: no longer one either
                    break
                lo = k
        return found

    def _model(self, pieces: list[tuple[int, bytes]]) -> Any:
        """A SentencePiece processor of the specials and ``pieces`` (id, piece), in that order, with their scores."""
        import sentencepiece  # C++ extension, needed only by the ONNX backends

        fields = []
        for piece_id, raw in pieces:
            score = self._scores[4 * piece_id : 4 * piece_id + 4]
            message = b"\n" + _varint(len(raw)) + raw + b"\x15" + score  # piece = 1 (bytes), score = 2 (float)
            fields.append(b"\n" + _varint(len(message)) + message)  # ModelProto.pieces = 1
        processor = sentencepiece.SentencePieceProcessor()
        processor.LoadFromSerializedProto(self._head + b"".join(fields))
        return processor
