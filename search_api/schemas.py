"""Response models: they make /openapi.json precise enough for clients and fuzzers to check."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class AlsoPublished(BaseModel):
    doc_id: str
    source: str | None = None
    published: str | None = Field(default=None, pattern=ISO_DATE)


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


class SearchResult(BaseModel):
    query: str
    interpreted_query: str | None = None
    query_lang: str | None = None
    mode: Literal["hybrid", "dense", "lexical"]
    took_ms: float = Field(ge=0)
    total: int = Field(ge=0)
    hits: list[Hit]


class ErrorBody(BaseModel):
    error: str = Field(min_length=1, description="what is wrong, naming the parameter")
    param: str | None = None


class ReloadResult(BaseModel):
    reloaded: bool = Field(description="true when a newer version was swapped in")
    version: str = Field(description="the version served now")
    error: str | None = Field(default=None, description="why the published version could not be served, if so")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    articles: int = Field(ge=0)
    passages: int = Field(ge=0)
    model: str
