"""The search contract, declared once: the parameters a search takes and the result it returns.

`SearchParams` is the query-parameter model of `GET /api/search` (and, as `PageParams`, of the page),
so FastAPI validates with it and publishes its constraints in OpenAPI; the CLI builds the same model
from its options. `SearchResult` is what `Searcher.search` returns, the API serialises, the CLI prints
and the page renders. Every problem with a parameter becomes a `QueryError` naming it, with a stable
machine-readable `code` (`invalid_search_k`, as Meilisearch's `invalid_search_limit`).
"""

from __future__ import annotations

import copy
import functools
import re
from datetime import date
from typing import Any, Literal, get_args

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from tracuu.settings import Settings

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[str, ...] = get_args(Mode)
Group = Literal["passage", "article"]
Sort = Literal["relevance", "date"]
Switch = Literal["on", "off"]
MAX_OFFSET = 10_000  # deep pages cost a deep ranking; nobody reads past a few pages
LANGUAGE_CODE = r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$"
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,20}")
_SHOWN = 40  # characters of a bad value quoted back in an error message


class QueryError(ValueError):
    """A bad search parameter: `param` names it, `code` is stable for programs, the message is for people."""

    def __init__(self, param: str, message: str, code: str | None = None) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message
        self.code = code or f"invalid_search_{param}"


def _invalid(param: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(f"invalid_search_{param}", message)


def _iso_date(param: str, value: Any) -> date | None:
    """An ISO calendar date (YYYY-MM-DD, exactly), checked to exist; '' and None mean no filter."""
    if value is None or value == "" or isinstance(value, date):
        return value or None
    text = str(value)
    if not re.fullmatch(ISO_DATE[1:-1], text):
        raise _invalid(param, f"expected a date as YYYY-MM-DD, got {text[:_SHOWN]!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _invalid(param, f"no such date: {text}") from None


def _empty_is_allowed(schema: dict[str, Any]) -> None:
    """JSON Schema of a filter that an empty value turns off (a form sends `from=` when the box is left empty)."""
    schema["anyOf"] = [*schema.get("anyOf", []), {"type": "string", "maxLength": 0}]


class SearchParams(BaseModel):
    """What a search takes. Values are taken exactly as given: no '1e3', ' 5' or other scripts' digits for k,
    only 'true'/'false' for exact, so what OpenAPI says is invalid is refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    q: str = Field(
        min_length=1,
        max_length=2000,
        description="the query, in Vietnamese (with or without tone marks) or English",
    )
    k: int = Field(10, ge=1, le=100, description="number of hits")
    source: str | None = Field(None, max_length=2000, description="only articles from this source")
    date_from: date | None = Field(
        None, alias="from", description="published on or after (YYYY-MM-DD)", json_schema_extra=_empty_is_allowed
    )
    date_to: date | None = Field(
        None, alias="to", description="published on or before (YYYY-MM-DD)", json_schema_extra=_empty_is_allowed
    )
    lang: str | None = Field(
        None,
        pattern=LANGUAGE_CODE,
        description="only articles in this language (ISO 639-1)",
        json_schema_extra=_empty_is_allowed,
    )
    mode: Mode = Field("hybrid", description="hybrid: lexical and dense legs fused; dense or lexical alone")
    exact: bool = Field(
        False, description="search the query exactly as typed (no tone-mark restoration, no typo correction)"
    )
    group: Group = Field(
        "passage", description="passage: each hit a passage; article: each hit an article with its best passages"
    )
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="hits to skip: the page starts at offset, k hits long")
    sort: Sort = Field("relevance", description="relevance, or date: newest first among the matches, undated last")
    include_undated: bool = Field(
        False, description="with a date filter (from, to), also the matching articles that state no date"
    )
    time: Switch = Field(
        "on",
        description="on: time words in the query ('năm 2021', 'quý I/2023', 'last year') put the matching passages "
        "of that period (by article date or by a date in their text) first, the rest after; off: words only",
    )

    floor: Switch = Field(
        "on",
        description="on: a query of letter strings that are no word (unknown to the index, to Vietnamese and to "
        "the model's vocabulary), or a Vietnamese query about nothing the index holds (its best passage does not "
        "stand out of its scores over the index), gets no hits; off: the nearest passages anyway",
    )

    @field_validator("q", mode="before")
    @classmethod
    def _controls_are_spaces(cls, value: Any) -> Any:
        """Control characters become spaces; the length limit counts the query as typed."""
        return _CONTROL.sub(" ", value) if isinstance(value, str) else value

    @field_validator("q")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise _invalid("q", "the query is empty")
        return value.strip() if value is not None else None

    @field_validator("k", "offset", mode="before")
    @classmethod
    def _whole_number(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str) and not _WHOLE_NUMBER.fullmatch(value):
            raise _invalid(info.field_name, f"expected a whole number, got {value[:_SHOWN]!r}")
        return value

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _dates(cls, value: Any, info: Any) -> date | None:
        return _iso_date("from" if info.field_name == "date_from" else "to", value)

    @field_validator("source", "lang", mode="before")
    @classmethod
    def _empty_is_no_filter(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("source")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("exact", "include_undated", mode="before")
    @classmethod
    def _true_or_false(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str) and value not in ("true", "false"):
            raise _invalid(info.field_name, f"expected true or false, got {value[:_SHOWN]!r}")
        return value

    @model_validator(mode="after")
    def _ordered_dates(self) -> SearchParams:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise _invalid("from", f"'from' ({self.date_from}) is after 'to' ({self.date_to})")
        return self

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> SearchParams:
        """Validate raw values (API names: 'from', 'to'), or raise QueryError naming the first bad one."""
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise query_error(exc.errors()[0], cls) from None


def _default(model: type[BaseModel], name: str, default: Any) -> Any:
    """Field `name` of `model`, the same but with another default."""
    info = copy.copy(model.model_fields[name])
    info.default = default
    return info


def _optional(model: type[BaseModel], name: str) -> Any:
    """Field `name` of `model`, the same but not required."""
    info = copy.copy(model.model_fields[name])
    info.default = None
    info.metadata = [m for m in info.metadata if not isinstance(m, annotated_types.MinLen)]
    return info


class PageParams(SearchParams):
    """The page's parameters: the same, except that without a query it shows the search box, and parameters it
    does not know (utm_source and other tracking) are ignored."""

    model_config = ConfigDict(extra="ignore")

    q: str | None = _optional(SearchParams, "q")  # type: ignore[assignment]
    group: Group = _default(SearchParams, "group", "article")  # a newsroom reads articles

    @field_validator("q", mode="before")
    @classmethod
    def _blank_shows_the_search_box(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not _CONTROL.sub(" ", value).strip() else value


def _with(model: type[BaseModel], name: str, default: Any = None, **limits: int) -> tuple[Any, Any]:
    """Field `name` of `model` with other limits (max_length, le) and default."""
    info = copy.copy(model.model_fields[name])
    kinds = {"max_length": annotated_types.MaxLen, "le": annotated_types.Le}
    replaced = tuple(kinds[key] for key in limits)
    info.metadata = [m for m in info.metadata if not isinstance(m, replaced)]
    info.metadata += [kinds[key](value) for key, value in limits.items()]
    if default is not None:
        info.default = default
    return (info.annotation, info)


@functools.cache
def _limited(model: type[SearchParams], max_k: int, default_k: int, max_chars: int) -> type[SearchParams]:
    return create_model(  # type: ignore[no-any-return]
        model.__name__,
        __base__=model,
        __doc__=model.__doc__,
        q=_with(model, "q", max_length=max_chars),
        k=_with(model, "k", default=default_k, le=max_k),
        source=_with(model, "source", max_length=max_chars),
    )


def limited(model: type[SearchParams], settings: Settings, max_k: int | None = None) -> type[SearchParams]:
    """`model` with this deployment's limits (TRACUU_MAX_K, TRACUU_DEFAULT_K, TRACUU_MAX_QUERY_CHARS): they are
    enforced and published in OpenAPI alike. `max_k` overrides the setting (evaluation ranks deeper)."""
    return _limited(model, max_k or settings.max_k, settings.default_k, settings.max_query_chars)


def query_error(error: Any, model: type[BaseModel] = SearchParams) -> QueryError:
    """A pydantic error of a search parameter as a QueryError, worded for people, coded for programs."""
    kind, loc, value, ctx = error["type"], error.get("loc", ()), error.get("input"), error.get("ctx") or {}
    name = str(loc[-1]) if loc else "q"
    field = model.model_fields.get(name)
    param = (field.alias or name) if field else name
    shown = repr(value[:_SHOWN]) if isinstance(value, str) else repr(value)
    if kind.startswith("invalid_search_"):
        return QueryError(kind.removeprefix("invalid_search_"), error["msg"], kind)
    if kind == "extra_forbidden":
        known = sorted((f.alias or n) for n, f in model.model_fields.items())
        return QueryError(
            param[:_SHOWN],
            f"unknown parameter {param[:_SHOWN]!r}; the parameters are {', '.join(known)}",
            "unknown_search_param",
        )
    if kind in ("missing", "string_too_short") and param == "q":
        return QueryError("q", "the query is empty")
    if kind == "string_too_long":
        length, limit = len(value), ctx.get("max_length")
        what = "the query is " if param == "q" else ""
        return QueryError(param, f"{what}{length} characters long; the limit is {limit}")
    if kind in ("greater_than_equal", "less_than_equal"):
        bounds = _bounds(field)
        return QueryError(param, f"must be between {bounds[0]} and {bounds[1]}, got {value}")
    if kind == "int_parsing" or kind == "int_from_float":
        return QueryError(param, f"expected a whole number, got {shown}")
    if kind == "literal_error":
        return QueryError(param, f"must be one of {', '.join(get_args(field.annotation))}, got {shown}")
    if kind == "string_pattern_mismatch" and param == "lang":
        return QueryError(param, f"expected a language code such as 'vi' or 'en', got {shown}")
    if kind.startswith("bool"):
        return QueryError(param, f"expected true or false, got {shown}")
    return QueryError(param, f"{error.get('msg', 'invalid value')}, got {shown}")


def _bounds(field: Any) -> tuple[Any, Any]:
    low = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
    return low, high


class AlsoPublished(BaseModel):
    doc_id: str
    source: str | None = None
    published: str | None = Field(default=None, pattern=ISO_DATE)


class Answer(BaseModel):
    """The sentence that best answers the query, in the cleaned article text."""

    start: int = Field(ge=0, description="character offset in the cleaned article text")
    end: int = Field(ge=0)
    text: str


class Hit(BaseModel):
    rank: int = Field(ge=1)
    score: float
    doc_id: str
    chunk_id: str
    title: str
    source: str | None = None
    url: str | None = None
    published: str | None = Field(default=None, pattern=ISO_DATE, description="ISO date YYYY-MM-DD, or null")
    author: str | None = None
    lang: str | None = None
    text: str
    snippet: str = Field(description="the passage, HTML-escaped, with query words in <mark>")
    start: int = Field(ge=0, description="character offset of the passage in the article body")
    end: int = Field(ge=0)
    also_published: list[AlsoPublished] = Field(default_factory=list)
    answer: Answer | None = Field(None, description="the sentence of the passage that best answers the query")


class ArticlePassage(BaseModel):
    """One of an article's best passages (group=article)."""

    chunk_id: str
    score: float
    text: str
    snippet: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    answer: Answer | None = None


class ArticleHit(Hit):
    """An article (group=article): its best passage's fields, and its best passages (at most 3), best first."""

    passages: list[ArticlePassage]


class FacetValue(BaseModel):
    value: str | int | None = Field(description="a source, or a year (null: articles that state no date)")
    count: int = Field(ge=0, description="matching articles (copies of one article count once)")


class Facets(BaseModel):
    source: list[FacetValue] = Field(default_factory=list)
    year: list[FacetValue] = Field(default_factory=list)


# The period a query's time words name ("from" is a keyword in Python, hence the functional form).
InterpretedTime = TypedDict("InterpretedTime", {"text": str, "from": str, "to": str})


class SearchResult(BaseModel):
    query: str
    interpreted_query: str | None = Field(
        None, description="the query as searched (tone marks restored); null: as typed"
    )
    query_lang: str | None = Field(None, description="the detected language of the query")
    corrected_query: str | None = Field(
        None, description="the query with words unknown to the index corrected, as searched; null: none corrected"
    )
    mode: Mode
    took_ms: float = Field(ge=0)
    total: int = Field(ge=0, description="matching passages (group=passage) or articles (group=article)")
    returned: int = Field(ge=0, description="hits on this page")
    hits: list[ArticleHit | Hit]
    facets: Facets = Field(default_factory=Facets, description="matching articles per source and per year")
    undated_excluded: int = Field(0, ge=0, description="matching articles left out by a date filter for having none")
    interpreted_time: InterpretedTime | None = Field(
        None,
        description="the period the query's time words name (the words, first and last day, ISO), preferred in "
        "the ranking; null: none, time=off, or sort=date",
    )
    below_floor: bool = Field(
        False,
        description="true: the query is letter strings that are no word, or about nothing the index holds, so "
        "nothing matches it (no hits, total 0); floor=off shows the nearest passages anyway",
    )


class PassageSpan(BaseModel):
    """Where one of an article's passages lies in its text."""

    chunk_id: str = Field(description="doc_id#chunk_no, as in a search hit")
    start: int = Field(ge=0, description="character offset in the article's text")
    end: int = Field(ge=0)


class PassageMatch(PassageSpan):
    """One of an article's passages matching the query."""

    score: float = Field(description="the passage's hybrid score, as a search hit for the query would have")


class ArticleView(BaseModel):
    """One article, whole (`GET /api/articles/{doc_id}`): `text[start:end]` is each passage's text."""

    doc_id: str
    title: str
    source: str | None = None
    published: str | None = Field(default=None, pattern=ISO_DATE, description="ISO date YYYY-MM-DD, or null")
    author: str | None = None
    url: str | None = None
    lang: str | None = None
    text: str = Field(description="the cleaned article body")
    passages: list[PassageSpan] = Field(description="every passage, in order")
    also_published: list[AlsoPublished] = Field(default_factory=list)
    highlights: list[PassageMatch] | None = Field(
        None, description="with q: the passages that clearly match it, best first (maybe none); null without q"
    )
