"""Response models: they make /openapi.json precise enough for clients and fuzzers to check."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AlsoPublished(BaseModel):
    doc_id: str
    source: str | None = None
    published: str | None = None


class Hit(BaseModel):
    rank: int = Field(ge=1)
    score: float
    doc_id: str
    chunk_id: str
    title: str
    source: str | None = None
    url: str | None = None
    published: str | None = Field(default=None, description="ISO date YYYY-MM-DD, or null")
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
    mode: str
    took_ms: float
    total: int = Field(ge=0)
    hits: list[Hit]


class ErrorBody(BaseModel):
    error: str = Field(description="what is wrong, naming the parameter")
    param: str | None = None


class Health(BaseModel):
    status: str
    version: str
    articles: int
    passages: int
    model: str
