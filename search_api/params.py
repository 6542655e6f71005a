"""Validation of search parameters, shared by the CLI and the HTTP API.

Every problem becomes a `QueryError` whose message names the parameter, so both views
can report it the same way (a one-line stderr message, or a 4xx JSON body).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tracuu.settings import SETTINGS

MODES = ("hybrid", "dense", "lexical")
_LANG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class QueryError(ValueError):
    """A bad search parameter; `param` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass(frozen=True)
class SearchRequest:
    query: str
    k: int = 10
    source: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    lang: str | None = None
    mode: str = "hybrid"
    exact: bool = False  # search the query exactly as typed (no tone-mark restoration)


def parse_date(param: str, value: str | None) -> str | None:
    """An ISO calendar date (YYYY-MM-DD, exactly), checked to exist; '' and None mean no filter."""
    if not value:
        return None
    text = value
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise QueryError(param, f"expected a date as YYYY-MM-DD, got {text[:40]!r}")
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise QueryError(param, f"no such date: {text}") from None


def make_request(
    query: str | None,
    k: int | str | None = 10,
    source: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    lang: str | None = None,
    mode: str | None = None,
    exact: bool = False,
) -> SearchRequest:
    """Check and normalise raw parameters into a SearchRequest, or raise QueryError."""
    raw = _CONTROL.sub(" ", query or "")  # control characters are spaces; the length counts as typed
    text = raw.strip()
    if not text:
        raise QueryError("q", "the query is empty")
    if len(raw) > SETTINGS.max_query_chars:
        raise QueryError("q", f"the query is {len(raw)} characters long; the limit is {SETTINGS.max_query_chars}")
    # Parameters are taken exactly as given (no '1e3', ' 5', '10_0' or other scripts' digits), so
    # what the OpenAPI schema says is invalid is refused (see search_api.hardening).
    k_text = str(k) if k is not None else str(SETTINGS.default_k)
    if not re.fullmatch(r"[+-]?[0-9]{1,20}", k_text):
        raise QueryError("k", f"expected a whole number, got {k_text[:40]!r}")
    k_value = int(k_text)
    if not 1 <= k_value <= SETTINGS.max_k:
        raise QueryError("k", f"must be between 1 and {SETTINGS.max_k}, got {k_value}")
    start, end = parse_date("from", date_from), parse_date("to", date_to)
    if start and end and start > end:
        raise QueryError("from", f"'from' ({start}) is after 'to' ({end})")
    mode_value = MODES[0] if mode is None else mode
    if mode_value not in MODES:
        raise QueryError("mode", f"must be one of {', '.join(MODES)}, got {mode_value[:40]!r}")
    lang_value = lang or None
    if lang_value and not _LANG.fullmatch(lang_value):
        raise QueryError("lang", f"expected a language code such as 'vi' or 'en', got {lang_value[:40]!r}")
    if source and len(source) > SETTINGS.max_query_chars:
        raise QueryError("source", f"{len(source)} characters long; the limit is {SETTINGS.max_query_chars}")
    source_value = (source or "").strip() or None
    return SearchRequest(text, k_value, source_value, start, end, lang_value, mode_value, exact)
