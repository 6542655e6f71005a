"""One text normalisation shared by indexing and querying.

Vietnamese text arrives composed (NFC) or decomposed (NFD), with the tone mark of
"oa", "oe", "uy" on either vowel ("hòa" or "hoà"), and is often typed without tone marks. Everything that compares
text (embedding, lexical matching, highlighting) goes through these functions so that the
index and the query always see the same form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

NORMALISATION_NAME = "tracuu-textnorm-1"

# A tone mark on the first vowel of a word-final oa/oe/uy moves to the second vowel
# ("hòa" -> "hoà", "thủy" -> "thuỷ"). Both placements are correct Vietnamese and both are
# common; picking one makes them match each other.
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below
_OLD_TONE = re.compile(r"([oOuU])([" + _TONE_MARKS + r"])([aAeEyY])(?![\w])")

_WORD = re.compile(r"\w+", re.UNICODE)
# The rule above also moves the mark of a word-final "ua" that is not "qua" ("của" -> "cuả"), a spelling no
# one writes: the canonical form keeps it (indexes and their vectors' keys were built so), but text shown to a
# reader (a restored or corrected query, which the dense leg also embeds) gets it back on the u.
_SHOWN_UA = re.compile(r"(?<![qQ])([uU])([aA])([" + _TONE_MARKS + r"])(?![\w\u0300-\u036f])")  # not "luật"


def nfc(text: str) -> str:
    """Compose to NFC: decomposed input embeds ~0.88 cosine to the same text in NFC."""
    return unicodedata.normalize("NFC", text)


def unify_tone_placement(text: str) -> str:
    """Move tone marks of word-final oa/oe/uy to the second vowel ("hòa" -> "hoà")."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _OLD_TONE.sub(r"\1\3\2", decomposed))


def as_written(text: str) -> str:
    """Normalised text as Vietnamese writes it: "cuả" (the canonical form of "của") -> "của"; NFC."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _SHOWN_UA.sub(r"\1\3\2", decomposed))


def normalise(text: str) -> str:
    """The canonical form used everywhere: NFC, unified tone placement, collapsed spaces."""
    text = unify_tone_placement(nfc(text)).replace("\u00a0", " ")
    return re.sub(r"[ \t\u200b]+", " ", text).strip()


def fold_by_decomposition(text: str) -> str:
    """The definition of ``fold``: decompose, drop the combining marks, recompose."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


class _FoldTable(dict[int, str]):
    """Code point -> its fold, filled on first sight of each character (for ``str.translate``)."""

    def __missing__(self, code: int) -> str:
        self[code] = folded = fold_by_decomposition(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Strip tone and vowel marks and map đ to d: 'Đảng viên' -> 'Dang vien'.

    Character by character through a table (a C loop, several times faster than decomposing the
    whole text, and folding ran for every candidate passage of every search). For composed text
    whose folded form is composed too, this equals ``fold_by_decomposition``; anything else takes
    that slower path.
    """
    if text.isascii():
        return text
    folded = text.translate(_FOLD_TABLE)
    if unicodedata.is_normalized("NFC", text) and unicodedata.is_normalized("NFC", folded):
        return folded
    return fold_by_decomposition(text)


@lru_cache(maxsize=1 << 17)
def fold_word(word: str) -> str:
    """``fold`` of one syllable, memoised: text repeats a small vocabulary, and folding is per-character work."""
    return fold(word)


def words(text: str) -> list[str]:
    """Lower-cased syllables (Vietnamese words are written as space-separated syllables)."""
    return [w.lower() for w in _WORD.findall(normalise(text))]


def has_marks(text: str) -> bool:
    """True when the text carries any Vietnamese diacritic (tone or vowel mark, or đ)."""
    return fold(text) != text


def fold_every_other_marked_word(text: str) -> str:
    """The marks of every second word that has them dropped: how a hurried typist or a phone keyboard
    leaves a query ("kết nap đảng vien"); `tracuu eval --fold-half` evaluates such queries."""
    out, marked = [], 0
    for word in text.split():
        if has_marks(word):
            marked += 1
            if marked % 2 == 0:
                word = fold(word)
        out.append(word)
    return " ".join(out)
