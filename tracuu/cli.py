"""`tracuu`: the command line. Bad input gets one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"tracuu: error: {message}", file=sys.stderr)
    return code


def cmd_model(args: argparse.Namespace) -> int:
    from models.embedder import Embedder

    embedder = Embedder.load(args.model)
    print(json.dumps(embedder.identity, ensure_ascii=False))
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from indexer.build import build_index
    from indexer.chunking import ChunkingParams
    from models.embedder import Embedder

    embedder = Embedder.load(args.model)
    params = ChunkingParams(max_tokens=args.max_tokens)
    sources = [Path(s) for s in args.sources]
    summary = build_index(sources, Path(args.index), embedder, params, args.batch_size, strict=args.strict)
    print(summary.line())
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from search_api.params import make_request
    from search_api.searcher import Searcher

    request = make_request(
        args.query, args.k, args.source, getattr(args, "from"), args.to, args.lang, args.mode, args.exact
    )
    searcher = Searcher(Path(args.index), model=args.model)
    result = searcher.search(request)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        _print_hits(result)
    return 0


def _print_hits(result: dict) -> None:
    if result.get("interpreted_query"):
        print(f"Kết quả cho: {result['interpreted_query']}")
    print(f"{result['total']} kết quả ({result['took_ms']} ms)")
    for hit in result["hits"]:
        meta = " · ".join(x for x in (hit["source"], hit["published"], hit["author"]) if x)
        print(f"\n{hit['rank']}. [{hit['score']:.3f}] {hit['title']}  ({meta})")
        text = hit["text"].replace("\n", " ")
        print(f"   {text[:300]}{'…' if len(text) > 300 else ''}")


def cmd_serve(args: argparse.Namespace) -> int:
    from search_api.server import serve

    serve(Path(args.index), host=args.host, port=args.port, model=args.model, workers=args.workers)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from tracuu.evaluate import run_eval

    return run_eval(args)


def cmd_bench(args: argparse.Namespace) -> int:
    from bench.runner import run_bench

    return run_bench(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracuu", description="Semantic search over Vietnamese report articles.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("model", help="prepare the embedding model (the embedded default needs no download)")
    p.add_argument("--model", default=None, help="sentence-transformers model name or path (default: built in)")
    p.set_defaults(func=cmd_model)

    p = sub.add_parser("index", help="index articles (.txt, .jsonl files or directories) into DIR")
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p.add_argument("--index", required=True, metavar="DIR")
    p.add_argument("--model", default=None, help="sentence-transformers model name or path (default: built in)")
    p.add_argument("--max-tokens", type=int, default=200, help="passage size in model tokens (default 200)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--strict", action="store_true", help="stop on any bad source item instead of skipping it")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="search an index")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--index", required=True, metavar="DIR")
    p.add_argument("-k", type=str, default="10", help="number of passages (1..100)")
    p.add_argument("--source", default=None)
    p.add_argument("--from", default=None, metavar="DATE", help="published on or after (YYYY-MM-DD)")
    p.add_argument("--to", default=None, metavar="DATE", help="published on or before (YYYY-MM-DD)")
    p.add_argument("--lang", default=None)
    p.add_argument("--mode", default="hybrid", help="hybrid (default), dense or lexical")
    p.add_argument("--exact", action="store_true", help="search the query exactly as typed")
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
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--mode", default="hybrid", help="hybrid (default), dense or lexical")
    typing = p.add_mutually_exclusive_group()
    typing.add_argument("--fold-queries", action="store_true", help="strip tone marks from the queries first")
    typing.add_argument(
        "--fold-half", action="store_true", help="strip the marks of every second word that has them"
    )
    p.add_argument("--model", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="measure speed, memory and recall on this machine")
    p.add_argument("--passages", type=int, default=None, help="index size(s) to measure (default: 10k, 100k, 1M)")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--json", action="store_true", help="the last line of stdout is one JSON object")
    p.set_defaults(func=cmd_bench)
    return parser


def _write_errors() -> tuple[type[BaseException], ...]:
    from indexer.layout import IndexWriteError

    return (IndexWriteError,)


def _known_errors() -> tuple[type[BaseException], ...]:
    from indexer.layout import IndexBusy, IndexNotFound
    from indexer.readers import SourceError
    from search_api.params import QueryError
    from search_api.searcher import ModelMismatch

    return (SourceError, QueryError, IndexNotFound, IndexBusy, ModelMismatch, FileExistsError, NotADirectoryError)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except _write_errors() as exc:
        return _fail(str(exc), EXIT_FAILURE)
    except _known_errors() as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), EXIT_FAILURE)


if __name__ == "__main__":
    sys.exit(main())
