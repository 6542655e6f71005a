"""Searching from tests: the typed result as the JSON object the API and `tracuu search --json` print."""

from __future__ import annotations

from typing import Any

from retrieval.contract import SearchParams
from retrieval.searcher import Searcher


def search(searcher: Searcher, q: str, k: int = 10, **params: Any) -> dict[str, Any]:
    return searcher.search(SearchParams(q=q, k=k, **params)).model_dump(mode="json")
