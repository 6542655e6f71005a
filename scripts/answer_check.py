"""answer@1 of the answer-sentence options on viqa-web, Vietnamese and English questions, with latency.

    python scripts/answer_check.py [--index DIR] [--no-dense] [--data ../shared/eval/viqa-web]

answer@1: the share of (question, text) pairs whose chosen span contains one of the question's
answer strings (NFC, lower-cased), averaged per question, then over questions. Texts:

* ``passage``: a relevant paragraph among its corpus neighbours (3 either side: the other paragraphs
  gathered for the same question, keeping only those holding none of its answers, i.e. same topic,
  no answer), joined by line breaks and cut by the indexer's chunker (200 tokens) into the passage
  holding the paragraph: a ~200-token hit with the answer in one of ~4.4 sentences, the others
  often web headlines that restate the question. The hard, discriminating setting.
* ``para``: the relevant paragraph alone (median 62 tokens, 1.8 sentences).
* ``search`` (with ``--index DIR``, an index of the corpus built by ``tracuu index``): the top hit
  of a real search, for the questions whose top hit is a relevant paragraph.

Questions: ``vi`` as written; ``vi-nomark`` the same with every tone and vowel mark stripped (as
typed on many keyboards); ``en`` scripts/viqa_en_sample.jsonl, 77 of the questions (every fifth)
translated by hand, names typed without tone marks as Vietnamese users type them, over the same
texts as their Vietnamese originals.

Latency, per query, for k=10 passages (the question's passages filled up with others), the
per-query analysis not cached (each query is new): wall and CPU (this thread) milliseconds,
median. Dense options embed every sentence of the 10 passages with the e5 passage encoder in one
batch (median over 30 queries). With ``--index``, a full search (k=10) is timed the same way, so
the ratio to the search itself can be read off.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.chunking import ChunkingParams, chunk_text  # noqa: E402
from retrieval.answers import Weights, analyse_query, answer_and_snippet, best_sentence  # noqa: E402
from tracuu.text.lang import detect_query_language  # noqa: E402
from tracuu.text.normalise import fold, words  # noqa: E402
from tracuu.text.sentences import sentence_spans  # noqa: E402

NEIGHBOURS = 3  # corpus positions on either side of the relevant paragraph
Span = tuple[int, int]
# (text, query, query language, query vector or None, encoder or None) -> span
Option = Callable[[str, str, "str | None", "np.ndarray | None", "Callable | None"], Span]


def _nfc_lower(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load(data: Path) -> tuple[dict[str, str], dict[str, str], dict[str, list[str]], dict[str, list[str]]]:
    corpus = {r["_id"]: unicodedata.normalize("NFC", r["text"]) for r in _jsonl(data / "corpus.jsonl")}
    queries = {r["_id"]: r["text"] for r in _jsonl(data / "queries.jsonl")}
    answers = {r["_id"]: [_nfc_lower(a) for a in r["answers"]] for r in _jsonl(data / "answers.jsonl")}
    relevant: dict[str, list[str]] = defaultdict(list)
    for line in (data / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, pid, score = line.split("\t")
        if int(score) > 0:
            relevant[qid].append(pid)
    return corpus, queries, answers, relevant


def _holds(text: str, answers: list[str]) -> bool:
    lower = text.lower()
    return any(a in lower for a in answers)


def paragraph_texts(
    corpus: dict[str, str],
    answers: dict[str, list[str]],
    relevant: dict[str, list[str]],
    count_tokens: Callable[[str], int],
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(para, passage): qid -> texts, one per relevant paragraph holding an answer."""
    order = list(corpus)
    position = {pid: i for i, pid in enumerate(order)}
    params = ChunkingParams(max_tokens=200)
    para: dict[str, list[str]] = defaultdict(list)
    passage: dict[str, list[str]] = defaultdict(list)
    for qid, pids in relevant.items():
        for pid in pids:
            gold = corpus[pid]
            if not _holds(gold, answers[qid]):
                continue
            p = position[pid]
            neighbours = range(max(0, p - NEIGHBOURS), min(len(order), p + NEIGHBOURS + 1))
            parts = [corpus[order[i]] for i in neighbours if i == p or not _holds(corpus[order[i]], answers[qid])]
            article = "\n".join(parts)
            gold_start = article.index(gold)
            gold_end = gold_start + len(gold)
            chunks = chunk_text(article, count_tokens, params)
            best = max(chunks, key=lambda c: min(c.end, gold_end) - max(c.start, gold_start))
            para[qid].append(gold)
            passage[qid].append(best.text if _holds(best.text, answers[qid]) else gold)
    return para, passage


def search_texts(index: Path, runs: dict[str, dict[str, str]], relevant: dict[str, list[str]], embedder) -> tuple:
    """lang -> qid -> [top hit's passage] where the top hit is relevant; and search ms per query."""
    from retrieval.contract import SearchParams
    from retrieval.searcher import Searcher

    searcher = Searcher(index, embedder=embedder)
    out: dict[str, dict[str, list[str]]] = {}
    wall: list[float] = []
    for lang, run in runs.items():
        out[lang] = {}
        for qid, query in run.items():
            t0 = time.perf_counter()
            hits = searcher.search(SearchParams(q=query, k=10)).hits
            wall.append(time.perf_counter() - t0)
            if hits and hits[0].doc_id in relevant[qid]:
                out[lang][qid] = [hits[0].text]
    return out, 1000 * statistics.median(wall)


# ---------------------------------------------------------------------------- options


def _spans(text: str) -> list[Span]:
    return [(s.start, s.end) for s in sentence_spans(text)] or [(0, len(text))]


def first_sentence(text: str, query: str, lang, qvec, encode) -> Span:
    return _spans(text)[0]


def word_overlap(text: str, query: str, lang, qvec, encode) -> Span:
    """The sentence sharing most distinct words (as typed, lower-cased) with the query."""
    q = set(words(query))
    spans = _spans(text)
    return spans[int(np.argmax([len(q & set(words(text[a:b]))) for a, b in spans]))]


def dense_only(text: str, query: str, lang, qvec, encode) -> Span:
    spans = _spans(text)
    return spans[int(np.argmax(encode([text[a:b] for a, b in spans]) @ qvec))]


def lexical(weights: Weights) -> Option:
    def pick(text: str, query: str, lang, qvec, encode) -> Span:
        return best_sentence(text, query, lang, weights=weights)

    return pick


def combined(dense: float, only_en: bool = False) -> Option:
    def pick(text: str, query: str, lang, qvec, encode) -> Span:
        if only_en and lang != "en":
            return best_sentence(text, query, lang)
        return best_sentence(text, query, lang, qvec, encode, weights=Weights(dense=dense))

    return pick


NO_TYPE = {"answer_type": 0.0, "answer_type_en": 0.0, "asking": 0.0, "anaphora": False}
OPTIONS: dict[str, tuple[Option, bool]] = {
    "a first sentence": (first_sentence, False),
    "b most shared words": (word_overlap, False),
    "c folded syllables": (lexical(Weights(idf=False, phrase=0.0, **NO_TYPE)), False),
    "c  + local idf": (lexical(Weights(phrase=0.0, **NO_TYPE)), False),
    "c  + phrases": (lexical(Weights(**NO_TYPE)), False),
    "c  + answer type": (lexical(Weights(asking=0.0, anaphora=False)), False),
    "c  + asking penalty": (lexical(Weights(anaphora=False)), False),
    "c  + pronoun -> sentence before (default)": (lexical(Weights()), False),
    "c  default, type bonus 0.3 (vi)": (lexical(Weights(answer_type=0.3)), False),
    "c  default, type bonus 0.5 (en)": (lexical(Weights(answer_type_en=0.5)), False),
    "c  default, person/other name alike": (lexical(Weights(weak_name=1.0)), False),
    "d dense cosine": (dense_only, True),
    "e default + 0.5 dense": (combined(0.5), True),
    "e default + 1.0 dense": (combined(1.0), True),
    "e default, + 1.0 dense for en only": (combined(1.0, only_en=True), True),
}


def answer_at_1(
    option: Option,
    texts: dict[str, list[str]],
    run: dict[str, str],
    answers: dict[str, list[str]],
    langs: dict[str, str | None],
    vectors: dict[str, np.ndarray],
    encode: Callable | None,
) -> float:
    per_query = []
    for qid, query in run.items():
        if qid not in texts:
            continue
        hits = []
        for text in texts[qid]:
            a, b = option(text, query, langs[query], vectors.get(query), encode)
            hits.append(_holds(text[a:b], answers[qid]))
        per_query.append(sum(hits) / len(hits))
    return 100 * statistics.mean(per_query)


def lexical_latency(
    passages: dict[str, list[str]], pool: list[str], run: dict[str, str]
) -> dict[str, tuple[float, float]]:
    """Median (wall ms, CPU ms) per query over k=10 passages, the per-query analysis not cached:
    of best_sentence alone, and of answer_and_snippet (the answer and a 300-character snippet)."""
    times: dict[str, tuple[list[float], list[float]]] = {"best_sentence": ([], []), "answer_and_snippet": ([], [])}
    for n, (qid, query) in enumerate(run.items()):
        hits = (passages.get(qid, []) + pool[n % len(pool) :] + pool)[:10]
        lang = detect_query_language(query)
        for name, call in (("best_sentence", best_sentence), ("answer_and_snippet", answer_and_snippet)):
            analyse_query.cache_clear()
            t0, c0 = time.perf_counter(), time.thread_time()
            for text in hits:
                call(text, query, lang)
            times[name][0].append(time.perf_counter() - t0)
            times[name][1].append(time.thread_time() - c0)
    return {name: (1000 * statistics.median(w), 1000 * statistics.median(c)) for name, (w, c) in times.items()}


def dense_latency(passages: dict[str, list[str]], pool: list[str], run: dict[str, str], embedder) -> float:
    """Median wall ms per query to embed and score every sentence of k=10 passages (30 queries)."""
    wall = []
    for n, (qid, query) in enumerate(list(run.items())[:30]):
        hits = (passages.get(qid, []) + pool[n % len(pool) :] + pool)[:10]
        qvec = embedder.encode_query(query)
        t0 = time.perf_counter()
        sentences = [text[a:b] for text in hits for a, b in _spans(text)]
        _ = embedder.encode_passages(sentences, batch_size=64) @ qvec
        wall.append(time.perf_counter() - t0)
    return 1000 * statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval" / "viqa-web")
    parser.add_argument("--en", type=Path, default=ROOT / "scripts" / "viqa_en_sample.jsonl")
    parser.add_argument("--index", type=Path, help="an index of the corpus: adds the 'search' setting")
    parser.add_argument("--no-dense", action="store_true", help="skip the options that embed sentences")
    args = parser.parse_args()

    from models.embedder import Embedder

    embedder = Embedder.load()
    corpus, queries, answers, relevant = load(args.data)
    para, passage = paragraph_texts(corpus, answers, relevant, embedder.count_tokens)
    runs = {
        "vi": {q: queries[q] for q in passage},
        "vi-nomark": {q: fold(queries[q]) for q in passage},
        "en": {r["_id"]: r["text"] for r in _jsonl(args.en)},
    }
    settings: dict[str, dict[str, dict[str, list[str]]]] = {
        "passage": dict.fromkeys(runs, passage),
        "para": dict.fromkeys(runs, para),
    }
    search_ms = None
    if args.index:
        found, search_ms = search_texts(args.index, runs, relevant, embedder)
        settings["search"] = found

    langs = {text: detect_query_language(text) for run in runs.values() for text in run.values()}
    vectors: dict[str, np.ndarray] = {}
    encode = None
    if not args.no_dense:
        sentences = sorted(
            {
                t[a:b]
                for by_lang in settings.values()
                for texts in by_lang.values()
                for ts in texts.values()
                for t in ts
                for a, b in _spans(t)
            }
        )
        cache = dict(zip(sentences, embedder.encode_passages(sentences, batch_size=64), strict=True))
        vectors = {text: embedder.encode_query(text) for run in runs.values() for text in run.values()}

        def encode(texts: list[str]) -> np.ndarray:
            return np.stack([cache[t] for t in texts])

    columns = [(setting, lang) for setting in settings for lang in runs]
    counts = {(s, lang): sum(1 for q in runs[lang] if q in settings[s][lang]) for s, lang in columns}
    sizes = ", ".join(f"{s} {lang} {n}" for (s, lang), n in counts.items())
    print(f"viqa-web answer@1 (%); questions per column: {sizes}")
    print(f"{'option':44}" + "".join(f"{s + ' ' + lang:>19}" for s, lang in columns))
    for name, (option, dense) in OPTIONS.items():
        if dense and args.no_dense:
            continue
        cells = [
            answer_at_1(option, settings[s][lang], runs[lang], answers, langs, vectors, encode) for s, lang in columns
        ]
        print(f"{name:44}" + "".join(f"{c:19.1f}" for c in cells))

    pool = [t for ts in passage.values() for t in ts]
    print(f"\nlatency per query, k=10 passages of ~{statistics.mean(len(t) for t in pool):.0f} characters:")
    for name, (wall, cpu) in lexical_latency(passage, pool, runs["vi"]).items():
        print(f"  {name} (default, lexical): {wall:.2f} ms wall, {cpu:.2f} ms CPU")
    if not args.no_dense:
        dense_ms = dense_latency(passage, pool, runs["vi"], embedder)
        print(f"  dense (embed every sentence, one batch): {dense_ms:.0f} ms wall")
    if search_ms is not None:
        print(f"  the search itself (k=10, query embedding included): {search_ms:.1f} ms wall")


if __name__ == "__main__":
    main()
