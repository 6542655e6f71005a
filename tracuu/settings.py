"""Limits and defaults in one typed place; each can be set from the environment (TRACUU_*).

The environment variable of a field is TRACUU_ plus its name in capitals (TRACUU_MAX_K=50).
README.md ("Configuration") lists them with their defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Settings:
    max_query_chars: int = 2000  # a longer query is refused (400)
    default_k: int = 10
    max_k: int = 100
    max_request_bytes: int = 32 * 1024  # request line (path + query) and body; longer ones get 414 / 413
    cors_origins: str = ""  # comma-separated; empty = CORS off
    admin_token: str = ""  # required by state-changing endpoints; empty = those are disabled
    reload_interval_s: float = 1.0  # `tracuu serve` checks DIR/current this often; 0 = only on SIGHUP or reload
    max_article_bytes: int = 2 * 1024 * 1024  # a larger source article (file or JSON line) is skipped, warned
    query_cache: int = 1024  # query embeddings kept per server process (LRU); 0 = no cache
    request_threads: int = 0  # requests a server process works on at once (others wait in order); 0 = its CPUs

    @classmethod
    def from_env(cls) -> Settings:
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"TRACUU_{f.name.upper()}")
            if raw is not None:
                kind = {"int": int, "float": float}.get(str(getattr(f.type, "__name__", f.type)), str)
                try:
                    values[f.name] = kind(raw)
                except ValueError:
                    what = "whole number" if kind is int else "number"
                    raise ValueError(f"TRACUU_{f.name.upper()}: expected a {what}, got {raw!r}") from None
        return cls(**values)


SETTINGS = Settings.from_env()
