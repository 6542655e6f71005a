"""Limits and defaults in one typed place; each can be set from the environment (TRACUU_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Settings:
    max_query_chars: int = 2000  # a longer query is refused (400)
    default_k: int = 10
    max_k: int = 100
    max_request_bytes: int = 64 * 1024  # request line + body
    cors_origins: str = ""  # comma-separated; empty = CORS off
    admin_token: str = ""  # required by state-changing endpoints; empty = those are disabled

    @classmethod
    def from_env(cls) -> Settings:
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"TRACUU_{f.name.upper()}")
            if raw is not None:
                values[f.name] = int(raw) if f.type in ("int", int) else raw
        return cls(**values)


SETTINGS = Settings.from_env()
