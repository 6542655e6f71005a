"""How well an index's tone-mark restoration puts the marks back on questions typed without them.

Usage: python scripts/restore_accuracy.py INDEX_DIR QUERIES.jsonl [--no-prior] [--show N] [--repeat N]

Each question is folded (marks stripped) and restored with the index's ToneModel, as a search
does; a syllable is right when it equals the question's own (normalised, lower-cased), and a
question is right when all its syllables are. `--no-prior` restores with the corpus alone (as
before the general-language prior), `--show N` prints N questions restored wrong. Latency: each
question restored `--repeat` times (default 5) by a freshly loaded model each round, its fastest time
kept (the machine is shared), reported as mean and 95th percentile in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from indexer.format import layout
from tracuu.text.normalise import fold, words
from tracuu.text.restore import RESTORE_FILE, ToneModel


def accuracy(model: ToneModel, questions: list[str], show: int = 0) -> dict[str, float]:
    """Share of syllables and of whole questions restored exactly."""
    right_syllables = syllables = right_questions = 0
    for question in questions:
        typed = fold(question)
        expected = words(question)
        restored = words(model.restore(typed) or typed)
        if len(restored) != len(expected):  # never expected: restoration keeps the tokens
            restored = words(typed)
        right = sum(a == b for a, b in zip(restored, expected, strict=True))
        right_syllables += right
        syllables += len(expected)
        right_questions += right == len(expected)
        if right != len(expected) and show > 0:
            show -= 1
            print(f"  {question}  ->  {' '.join(restored)}")
    return {
        "questions": len(questions),
        "syllable_accuracy": round(right_syllables / syllables, 4) if syllables else 0.0,
        "question_accuracy": round(right_questions / len(questions), 4) if questions else 0.0,
    }


def latency(path: Path, prior: bool, questions: list[str], repeat: int) -> dict[str, float]:
    """Mean and p95 of each question's fastest restoration (ms) over `repeat` freshly loaded models."""
    typed = [fold(q) for q in questions]
    best = [float("inf")] * len(typed)
    for _ in range(repeat):
        model = ToneModel.load(path, prior=prior)  # the prior is read once per process, before the first round
        for i, query in enumerate(typed):
            start = time.perf_counter()
            model.restore(query)
            best[i] = min(best[i], (time.perf_counter() - start) * 1000)
    best.sort()
    return {"restore_ms_mean": round(statistics.mean(best), 2), "restore_ms_p95": round(best[int(0.95 * len(best))], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", metavar="INDEX_DIR")
    parser.add_argument("queries", metavar="QUERIES.jsonl")
    parser.add_argument("--no-prior", action="store_true", help="the corpus statistics alone")
    parser.add_argument("--show", type=int, default=0, metavar="N", help="print N questions restored wrong")
    parser.add_argument("--repeat", type=int, default=5, metavar="N", help="rounds of the latency measurement")
    args = parser.parse_args()
    path = layout.current_version(Path(args.index)) / RESTORE_FILE
    model = ToneModel.load(path, prior=not args.no_prior)
    lines = Path(args.queries).read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["text"] for line in lines if line.strip()]
    result = accuracy(model, questions, args.show)
    if args.repeat > 0 and questions:
        result |= latency(path, not args.no_prior, questions, args.repeat)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
