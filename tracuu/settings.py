"""Every setting of tracuu in one typed object, read from the environment (TRACUU_*) once, at start-up.

The command line builds one `Settings` and passes it down (to the indexer, the Searcher, the web app,
the embedder); no other module reads the environment. The environment variable of a field is TRACUU_
plus its name in capitals (TRACUU_MAX_K=50). README.md ("Configuration") lists them; a test keeps the
two in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

Backend = Literal["onnx-int8", "onnx", "onnx-q4", "openvino-bf16", "openvino-int8", "torch"]
BACKENDS: tuple[str, ...] = get_args(Backend)


class SettingsError(ValueError):
    """A TRACUU_* variable with a value that cannot be used; the message is one line naming it."""


class Settings(BaseSettings):
    """tracuu's settings; each field's environment variable is TRACUU_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="TRACUU_", frozen=True, extra="ignore")

    # Searching and serving
    max_query_chars: int = Field(2000, ge=1, description="a longer query is refused (400)")
    default_k: int = Field(10, ge=1, description="hits per page when `k` is not given")
    max_k: int = Field(100, ge=1, description="the largest `k` accepted (a larger one gets 400)")
    max_request_bytes: int = Field(
        32 * 1024, ge=1024, description="request line (path and query) and body; longer ones get 414 / 413"
    )
    cors_origins: str = Field("", description="comma-separated origins allowed to `GET` the API; empty: CORS off")
    admin_token: str = Field(
        "", description="`Authorization: Bearer` token of the admin endpoints; empty: they answer 403"
    )
    max_ingest_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="body of `POST /api/articles` (one article or a batch); larger gets 413"
    )
    reload_interval_s: float = Field(
        1.0, ge=0, description="seconds between checks of `DIR/current` by `tracuu serve`; 0: only on SIGHUP"
    )
    query_cache: int = Field(1024, ge=0, description="query embeddings kept per server process (LRU); 0: off")
    request_threads: int = Field(
        0, ge=0, description="requests a server process works on at once (others wait in order); 0: its CPUs"
    )
    # Indexing
    max_article_bytes: int = Field(
        2 * 1024 * 1024, ge=1, description="a larger source article (file or JSON line) is skipped with a warning"
    )
    max_segments: int = Field(
        10, ge=1, description="segments an update may leave; more, and the smallest are merged (`tracuu optimize`)"
    )
    # Embedding models
    cache: Path = Field(Path("~/.cache/tracuu"), description="where converted models and other derived files are kept")
    backend: Backend | None = Field(
        None,
        description="embedding backend of the built-in model; unset: onnx-int8 (an index records the one it was "
        "built with, and other models always run on torch)",
    )
    threads: int = Field(0, ge=0, description="threads for embedding; 0: all CPUs (torch: unless OMP_NUM_THREADS)")
    onnx_threads: int = Field(1, ge=1, description="intra-op threads per ONNX batch when embedding passages")
    batch_tokens: int = Field(512, ge=16, description="padded tokens per embedding batch (ONNX backends)")
    ray_watchdog_s: float = Field(
        600, gt=0, description="`tracuu index --ray`: seconds without a finished group before the run gives up"
    )

    @property
    def cache_dir(self) -> Path:
        return self.cache.expanduser()

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of this process's environment, or SettingsError naming the first bad variable."""
        try:
            return cls()
        except ValidationError as exc:
            raise SettingsError(describe_error(exc)) from None


def describe_error(exc: ValidationError) -> str:
    """One line: 'TRACUU_MAX_K: expected a whole number, got 'lots''."""
    error = exc.errors()[0]
    name = f"TRACUU_{str(error['loc'][0]).upper()}"
    expected = {
        "int_parsing": "a whole number",
        "float_parsing": "a number",
        "literal_error": "one of " + ", ".join(BACKENDS),
    }.get(error["type"], error["msg"].lower())
    if error["type"] in ("int_parsing", "float_parsing", "literal_error"):
        return f"{name}: expected {expected}, got {error['input']!r}"
    return f"{name}: {expected}, got {error['input']!r}"
