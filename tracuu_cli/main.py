"""`tracuu`: the command line. Bad input gets one line on stderr and a non-zero exit.

The settings are read from the environment once, here, and passed down. Each command imports what
it runs inside its function: `tracuu --help` or a bad argument should not wait for faiss, the embedding
runtime or the web stack to load.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, get_args

from indexer.format.layout import IndexBusy, IndexNotFound, IndexWriteError
from indexer.source_warnings import SourceError
from retrieval.contract import MODES, QueryError, SearchParams, SearchResult, limited
from tracuu.settings import Settings, SettingsError

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


class UsageError(Exception):
    """A command line argparse refused; reported in one line like every other bad input."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"tracuu: error: {message}", file=sys.stderr)
    return code


def cmd_model(args: argparse.Namespace, settings: Settings) -> int:
    from models.embedder import Embedder

    embedder = Embedder.load(args.model, settings=settings)
    print(json.dumps(embedder.identity, ensure_ascii=False))
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from indexer.build import build_index
    from indexer.chunking import ChunkingParams
    from indexer.progress import Progress
    from models.embedder import Embedder

    if args.ray_workers is not None and (args.ray_workers < 1 or not args.ray):
        return _fail("--ray-workers: a number of workers of at least 1, with --ray")
    embedder = Embedder.load(args.model, settings=settings)
    params = ChunkingParams(max_tokens=args.max_tokens)
    sources = [Path(s) for s in args.sources]
    progress = Progress(sys.stderr)
    with contextlib.ExitStack() as cluster:
        runner = None
        if args.ray:
            from indexer.distributed import RayRunner, ray_cluster

            cluster.enter_context(ray_cluster(args.ray))
            runner = cluster.enter_context(
                RayRunner(embedder, args.model, settings, args.batch_size, args.ray_workers, progress=progress)
            )
        summary = build_index(
            sources,
            Path(args.index),
            embedder,
            params,
            args.batch_size,
            strict=args.strict,
            settings=settings,
            raw=args.raw,
            progress=progress,
            runner=runner,
        )
    print(summary.line())
    return 0


def cmd_optimize(args: argparse.Namespace, settings: Settings) -> int:
    from indexer.build import optimize_index
    from indexer.progress import Progress

    summary = optimize_index(Path(args.index), args.segments, progress=Progress(sys.stderr))
    print(
        f"merged {summary.merged_segments} segments: {summary.articles} articles, {summary.passages} passages "
        f"in {summary.seconds:.1f} s ({summary.version})"
    )
    return 0


def search_params(args: argparse.Namespace, settings: Settings) -> SearchParams:
    """The search contract's model, built from the options `add_search_options` declared."""
    given = {name: getattr(args, name) for name in SEARCH_OPTIONS if getattr(args, name, None) is not None}
    return limited(SearchParams, settings).parse({"q": args.query, **given})


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from retrieval.searcher import Searcher

    params = search_params(args, settings)
    result = Searcher(Path(args.index), model=args.model, settings=settings).search(params)
    if args.json:
        print(result.model_dump_json())
    else:
        _print_hits(result)
    return 0


def _print_hits(result: SearchResult) -> None:
    if result.corrected_query:
        print(f"Bạn có muốn tìm: {result.corrected_query}")
    if result.interpreted_query:
        print(f"Kết quả cho: {result.interpreted_query}")
    if result.interpreted_time:
        period = result.interpreted_time
        print(f"Ưu tiên thời gian: {period['text']} ({period['from']} – {period['to']}); --no-time: bỏ ưu tiên")
    if result.below_floor:
        print("Không tìm thấy kết quả phù hợp; --no-floor: các đoạn gần nhất")
    print(f"{result.total} kết quả ({result.took_ms} ms)")
    for hit in result.hits:
        meta = " · ".join(x for x in (hit.source, hit.published, hit.author) if x)
        print(f"\n{hit.rank}. [{hit.score:.3f}] {hit.title}  ({meta})")
        text = hit.text.replace("\n", " ")
        print(f"   {text[:300]}{'…' if len(text) > 300 else ''}")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from search_api.server import serve

    serve(Path(args.index), settings, host=args.host, port=args.port, model=args.model, workers=args.workers)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from tracuu_cli.evaluate import run_eval

    return run_eval(args, settings)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from tracuu_cli.bench.runner import run_bench

    if args.ray is not None:
        return _bench_ray(args, settings)
    return run_bench(args, settings)


def _bench_ray(args: argparse.Namespace, settings: Settings) -> int:
    from tracuu_cli.bench import distributed
    from tracuu_cli.bench.runner import BenchConfig

    if args.ray < 1:
        return _fail("--ray: need at least 1 worker")
    result = distributed.measure_ray_scaling(BenchConfig(settings=settings), args.ray, args.passages or 768)
    print(distributed.render(result))
    if args.json:
        print(json.dumps(result))
    return 0


# Every search parameter but the query (the positional QUERY), by its API name.
SEARCH_OPTIONS = {field.alias or name: field for name, field in SearchParams.model_fields.items() if name != "q"}


def add_search_options(parser: argparse.ArgumentParser, names: tuple[str, ...] | None = None) -> None:
    """One option per search parameter of the contract (`-k`, `--from`, ...): names, help and defaults come
    from retrieval.contract.SearchParams, and the model validates the values, as for the API."""
    for name, field in SEARCH_OPTIONS.items():
        if names is not None and name not in names:
            continue
        flags = ["-k"] if name == "k" else [f"--{name}", *([f"--{name.replace('_', '-')}"] if "_" in name else [])]
        shown = f" (default {field.default})" if field.default not in (None, False) else ""
        if field.annotation is bool:
            parser.add_argument(*flags, dest=name, action="store_true", default=None, help=field.description)
        else:
            values = get_args(field.annotation)
            choices = f"; one of {', '.join(values)}" if values and all(isinstance(v, str) for v in values) else ""
            parser.add_argument(*flags, dest=name, default=None, help=f"{field.description}{choices}{shown}")
            if values == ("on", "off"):  # a switch also reads as a flag: --no-time is --time off
                parser.add_argument(f"--no-{name}", dest=name, action="store_const", const="off", help=f"--{name} off")


def cmd_replicate(args: argparse.Namespace, settings: Settings) -> int:
    from indexer.format.replica import replicate

    done = replicate(Path(args.source), Path(args.index))
    if done.already:
        print(f"{args.index} serves {done.version} already")
    else:
        print(
            f"{args.index} serves {done.version} ({done.copied_segments} segments copied, "
            f"{done.linked_segments} already there)"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="tracuu", description="Semantic search over Vietnamese report articles.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("model", help="prepare the embedding model (the embedded default needs no download)")
    p.add_argument("--model", default=None, help="sentence-transformers model name or path (default: built in)")
    p.set_defaults(func=cmd_model)

    p = sub.add_parser("index", help="index articles (.txt, .jsonl, .html, .pdf, .docx files or directories) into DIR")
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p.add_argument("--index", required=True, metavar="DIR")
    p.add_argument("--model", default=None, help="sentence-transformers model name or path (default: built in)")
    p.add_argument("--max-tokens", type=int, default=200, help="passage size in model tokens (default 200)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--strict", action="store_true", help="stop on any bad source item instead of skipping it")
    p.add_argument(
        "--raw", action="store_true", help="take JSON Lines text as it is (already clean): no caption or byline removal"
    )
    p.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="embed on a Ray cluster (HOST:PORT, ray://..., auto) or a throwaway local one of N CPUs (local:N); "
        "the same index as without (the tracuu[ray] extra; docs/scale-out.md)",
    )
    p.add_argument("--ray-workers", type=int, default=None, help="embedding workers (default: one per cluster CPU)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("optimize", help="merge an index's segments, dropping deleted articles (nothing re-embedded)")
    p.add_argument("--index", required=True, metavar="DIR")
    p.add_argument("--segments", type=int, default=1, help="merge until at most this many remain (default 1)")
    p.set_defaults(func=cmd_optimize)

    p = sub.add_parser(
        "replicate", help="publish in DIR the version SOURCE serves (a read-only replica; docs/scale-out.md)"
    )
    p.add_argument("source", metavar="SOURCE", help="an index directory, or a copied version directory")
    p.add_argument("--index", required=True, metavar="DIR")
    p.set_defaults(func=cmd_replicate)

    p = sub.add_parser("search", help="search an index")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--index", required=True, metavar="DIR")
    add_search_options(p)
    p.add_argument("--model", default=None, help="must be the model the index was built with")
    p.add_argument("--json", action="store_true", help="print the result object as JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("serve", help="serve the web page and the HTTP API")
    p.add_argument("--index", required=True, metavar="DIR")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--model", default=None)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="score an index on BEIR-style queries and qrels")
    p.add_argument("--index", required=True, metavar="DIR")
    p.add_argument("--queries", required=True, metavar="QUERIES.jsonl")
    p.add_argument("--qrels", required=True, metavar="QRELS.tsv")
    p.add_argument("-k", type=int, default=10, help="cut-off of nDCG and MRR (default 10)")
    p.add_argument("--mode", default="hybrid", choices=MODES, help="hybrid (default), dense or lexical")
    p.add_argument(
        "--group",
        default="passage",
        choices=("passage", "article"),
        help="rank the distinct articles of a deep passage ranking (passage, default) or group=article hits",
    )
    p.add_argument(
        "--answers",
        default=None,
        metavar="ANSWERS.jsonl",
        help='{"_id", "answers": [...]} lines: add answer@1 (first hit relevant and its answer contains one)',
    )
    typing = p.add_mutually_exclusive_group()
    typing.add_argument("--fold-queries", action="store_true", help="strip tone marks from the queries first")
    typing.add_argument("--fold-half", action="store_true", help="strip the marks of every second word that has them")
    p.add_argument(
        "--keywords",
        type=int,
        default=None,
        metavar="N",
        help="cut each query to its N rarest words (by the index's document frequency), kept in order",
    )
    p.add_argument(
        "--typos",
        action="store_true",
        help="one seeded edit (deletion, insertion, substitution or swap) in each query's rarest word of 4+ letters",
    )
    p.add_argument("--by-lang", action="store_true", help="add by_lang: the metrics per query language")
    p.add_argument("--model", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="measure speed, memory and recall on this machine")
    p.add_argument("--passages", type=int, default=None, help="index size(s) to measure (default: 10k, 100k, 1M)")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--json", action="store_true", help="the last line of stdout is one JSON object")
    p.add_argument(
        "--ray",
        type=int,
        nargs="?",
        const=os.cpu_count() or 1,
        default=None,
        metavar="N",
        help="only: embedding on a local Ray cluster of N 1-CPU workers (default: the CPUs) against one 1-CPU run, "
        "of --passages real passages (default 768)",
    )
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        settings = Settings.from_env()
    except (UsageError, SettingsError) as exc:
        return _fail(str(exc))
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        code = func(args, settings)
        if argv is None and args.command == "search":  # the process ends now (not a test calling main)
            # The collector's last pass at exit walked every object the search loaded (a tenth of a second or
            # more); a search leaves nothing to finalise but the output, which exit flushes anyway.
            gc.freeze()
        return code
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except QueryError as exc:
        return _fail(str(exc))
    except Exception as exc:
        return _report(exc)


def _report(exc: Exception) -> int:
    """Known failures in one line (a write that failed: exit 1; bad input: exit 2); anything else propagates."""
    from indexer.distributed import DistributedError
    from retrieval.searcher import ModelMismatch  # only on failure: the searcher pulls in faiss and the model

    if isinstance(exc, (IndexWriteError, DistributedError)):
        return _fail(str(exc), EXIT_FAILURE)
    bad_input = (SourceError, IndexNotFound, IndexBusy, ModelMismatch, FileExistsError, NotADirectoryError)
    if isinstance(exc, bad_input):
        return _fail(str(exc))
    if isinstance(exc, OSError):
        return _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), EXIT_FAILURE)
    raise exc


if __name__ == "__main__":
    sys.exit(main())
